import { createHash, webcrypto } from 'node:crypto';
import { compactVerify } from 'jose';
import type { AuthOutcome, CachedToken, PluginContext } from '../context.js';
import { noRemovals } from '../context.js';
import type { JwtSecretEntry } from '../credentials.js';
import type { JwkSet } from '../jwks.js';
import { kongBase64Decode } from '../../jwt-keys.js';
import type { RequestView } from '../request.js';
import { AuthzInternalError, deny, unauthorized } from '../responses.js';
import { JWT_ALGORITHMS, type JwtAlgorithm, type JwtConfig } from '../types.js';

const SUPPORTED_ALGS: ReadonlySet<string> = new Set(JWT_ALGORITHMS);
const HMAC_HASH: Partial<Record<JwtAlgorithm, string>> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

type Token = string | true;
type VerifyKey = CryptoKey | Uint8Array | import('node:crypto').KeyObject;

/**
 * Kong's retrieve_tokens: every token in the configured query parameters, cookies and headers
 * (`Bearer <token>`, scheme matched as `[Bb]earer`), de-duplicated. `?jwt` with no value is
 * `true`, which Kong calls an unrecognizable token. Kong reads only the first of a repeated
 * header; Envoy hands repeats over comma-joined, so Frontdesk reads them all and refuses two
 * different tokens (a JWT never holds a comma).
 */
export function retrieveTokens(conf: JwtConfig, req: RequestView): Token[] {
  const set = new Set<Token>();
  for (const name of conf.uri_param_names ?? []) {
    const v = req.query.get(name);
    if (Array.isArray(v)) for (const t of v) { if (t !== '') set.add(t); }
    else if (v !== undefined && v !== '') set.add(v);
  }
  for (const name of conf.cookie_names ?? []) {
    const c = req.cookie(name);
    if (c) set.add(c);
  }
  for (const name of conf.header_names ?? []) {
    const h = req.header(name);
    if (h === undefined) continue;
    for (const value of h.includes(',') ? h.split(',') : [h]) {
      const m = /\s*[Bb]earer\s+(.+)/.exec(value);
      const t = m?.[1]?.trim();
      if (t) set.add(t);
    }
  }
  return [...set];
}

interface Decoded {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

function jsonPart(b64: string): unknown {
  const bytes = kongBase64Decode(b64);
  if (!bytes) throw new Error('bad base64');
  return JSON.parse(bytes.toString('utf8'));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Kong's jwt_parser decode_token, with its error strings ("invalid JSON", "invalid alg", ...). */
export function decodeToken(token: string): Decoded | { error: string } {
  const d1 = token.indexOf('.');
  const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
  if (d2 < 0) return { error: 'invalid JSON' };
  let header: unknown;
  let claims: unknown;
  try {
    header = jsonPart(token.slice(0, d1));
    claims = jsonPart(token.slice(d1 + 1, d2));
  } catch {
    return { error: 'invalid JSON' };
  }
  if (!isObject(header) || typeof header.alg !== 'string' || !SUPPORTED_ALGS.has(header.alg)) return { error: 'invalid alg' };
  if (!isObject(claims)) return { error: 'invalid claims' };
  if (!kongBase64Decode(token.slice(d2 + 1))) return { error: 'invalid signature' };
  return { header, claims };
}

/** Kong's verify_registered_claims: each claim to verify must be a number, then exp/nbf are checked. */
export function verifyRegisteredClaims(claims: Record<string, unknown>, toVerify: readonly string[], nowSec: number): Record<string, string> | undefined {
  let errors: Record<string, string> | undefined;
  for (const name of new Set(toVerify)) {
    const v = claims[name];
    let err: string | undefined;
    if (typeof v !== 'number') err = 'must be a number';
    else if (name === 'exp' && v <= nowSec) err = 'token expired';
    else if (name === 'nbf' && v > nowSec) err = 'token not valid yet';
    if (err) (errors ??= {})[name] = err;
  }
  return errors;
}

const hmacKeys = new WeakMap<JwtSecretEntry, Map<string, Promise<CryptoKey>>>();

/** The HMAC key of an HS* secret, imported once per secret and encoding (raw or base64). */
function hmacKey(entry: JwtSecretEntry, base64: boolean): Promise<CryptoKey> | undefined {
  if (entry.secret === undefined) return undefined;
  let byMode = hmacKeys.get(entry);
  if (!byMode) hmacKeys.set(entry, (byMode = new Map()));
  const mode = base64 ? 'b64' : 'raw';
  let p = byMode.get(mode);
  if (!p) {
    const bytes = base64 ? kongBase64Decode(entry.secret) : Buffer.from(entry.secret, 'utf8');
    if (!bytes || bytes.length === 0) return undefined;
    p = webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: HMAC_HASH[entry.algorithm]! }, false, ['verify']) as Promise<CryptoKey>;
    byMode.set(mode, p);
  }
  return p;
}

/**
 * The key to verify with, as Kong picks it (secret for HS*, rsa_public_key otherwise), or, for
 * a JWKS secret (extension), the key named by the token's `kid`: an unknown kid fetches a
 * jwks_uri again (rate-capped) before it is refused.
 */
async function verificationKey(
  entry: JwtSecretEntry, header: Record<string, unknown>, conf: JwtConfig, ctx: PluginContext, www: string,
): Promise<{ key: VerifyKey; keySet?: JwkSet } | { deny: ReturnType<typeof unauthorized> }> {
  if (entry.jwks || entry.jwksUri) {
    let set = entry.jwks ?? (await ctx.jwks.get(entry.jwksUri!, entry.algorithm));
    let pick = set.select(header.kid);
    if ('missing' in pick && entry.jwksUri && header.kid !== undefined) {
      set = (await ctx.jwks.refresh(entry.jwksUri, entry.algorithm)) ?? set;
      pick = set.select(header.kid);
    }
    if ('missing' in pick) return { deny: unauthorized("No credentials found for given 'kid'", www) };
    if ('ambiguous' in pick) return { deny: unauthorized("No mandatory 'kid' in header", www) };
    return { key: await set.key(pick.slot), keySet: set };
  }
  if (entry.algorithm.startsWith('HS')) {
    const k = hmacKey(entry, conf.secret_is_base64 === true);
    if (!k) return { deny: unauthorized('Invalid key/secret', www) };
    return { key: await k };
  }
  if (!entry.publicKey) return { deny: unauthorized('Invalid key/secret', www) };
  if ('problem' in entry.publicKey) throw new AuthzInternalError('unusable jwt secret', { credentialId: entry.id, key: entry.key });
  return { key: entry.publicKey };
}

/** The claim (or header member) naming the secret: Kong's key_claim_name, `iss` by default. */
function keyClaimName(conf: JwtConfig): string {
  return conf.key_claim_name || 'iss';
}

function cacheKey(token: string, conf: JwtConfig): string {
  return `${createHash('sha256').update(token).digest('base64')}\0${keyClaimName(conf)}\0${conf.secret_is_base64 ? 1 : 0}`;
}

/** A cached verification still holds when its secret (and JWKS document) are the current ones. */
function stillCurrent(hit: CachedToken, ctx: PluginContext): boolean {
  if (ctx.index.jwtByKey.get(hit.secret.key) !== hit.secret) return false;
  if (hit.secret.jwksUri) return ctx.jwks.peek(hit.secret.jwksUri, hit.secret.algorithm) === hit.keySet;
  return true;
}

/**
 * Kong's jwt do_authentication. Statuses and messages are Kong 3.x's; every refusal is 401
 * with `WWW-Authenticate: Bearer` (plus `realm="..."` when configured, plus
 * `error="invalid_token"` once a token was presented). A verified signature is cached by token
 * digest until the token's exp (bounded); exp/nbf and maximum_expiration are checked on every
 * request, cached or not.
 */
export async function authenticateJwt(conf: JwtConfig, req: RequestView, ctx: PluginContext): Promise<AuthOutcome> {
  const removals = noRemovals();
  const base = conf.realm ? `Bearer realm="${conf.realm}"` : 'Bearer';
  const www = `${base} error="invalid_token"`;
  const fail = (message: string): AuthOutcome => ({ ok: false, deny: unauthorized(message, www), removals });

  const tokens = retrieveTokens(conf, req);
  if (tokens.length === 0) return { ok: false, deny: unauthorized('Unauthorized', base), removals };
  if (tokens.length > 1) return fail('Multiple tokens provided');
  const token = tokens[0]!;
  if (typeof token !== 'string') return fail('Unrecognizable token');
  if (token.length > ctx.maxTokenLength) return fail('Bad token; token too large');

  const now = ctx.now();
  const ck = cacheKey(token, conf);
  let hit = ctx.tokenCache.get(ck, now);
  if (hit && !stillCurrent(hit, ctx)) {
    ctx.tokenCache.delete(ck);
    hit = undefined;
  }

  let entry: JwtSecretEntry;
  let claims: Record<string, unknown>;
  if (hit) {
    entry = hit.secret;
    claims = hit.claims;
  } else {
    const decoded = decodeToken(token);
    if ('error' in decoded) return fail(`Bad token; ${decoded.error}`);
    const { header } = decoded;
    claims = decoded.claims;
    const kcn = keyClaimName(conf);
    const claimed = claims[kcn];
    const keyValue = claimed === undefined || claimed === null || claimed === false ? header[kcn] : claimed;
    if (keyValue === undefined || keyValue === null || keyValue === false) return fail(`No mandatory '${kcn}' in claims`);
    if (keyValue === '') return fail(`Invalid '${kcn}' in claims`);
    const found = typeof keyValue === 'string' ? ctx.index.jwtByKey.get(keyValue) : undefined;
    if (!found) return fail(`No credentials found for given '${kcn}'`);
    entry = found;
    if (header.alg !== entry.algorithm) return fail('Invalid algorithm');

    const vk = await verificationKey(entry, header, conf, ctx, www);
    if ('deny' in vk) return { ok: false, deny: vk.deny, removals };
    try {
      await compactVerify(token, vk.key, { algorithms: [entry.algorithm] });
    } catch {
      return fail('Invalid signature');
    }
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
    const expiresAt = Math.min(exp, now + ctx.tokenCacheTtlMs);
    if (expiresAt > now) {
      // Only what later requests re-check is kept: exp and nbf (a non-number kept as null).
      const kept = { exp: typeof claims.exp === 'number' ? claims.exp : claims.exp === undefined ? undefined : null, nbf: typeof claims.nbf === 'number' ? claims.nbf : claims.nbf === undefined ? undefined : null };
      ctx.tokenCache.set(ck, vk.keySet ? { secret: entry, keySet: vk.keySet, claims: kept } : { secret: entry, claims: kept }, expiresAt);
    }
  }

  const nowSec = Math.floor(now / 1000);
  const claimErrors = verifyRegisteredClaims(claims, conf.claims_to_verify ?? [], nowSec);
  if (claimErrors) return { ok: false, deny: deny(401, claimErrors, { 'www-authenticate': www }), removals };
  const maximumExpiration = Number(conf.maximum_expiration ?? 0);
  if (maximumExpiration > 0) {
    const exp = claims.exp;
    if (typeof exp !== 'number' || exp - nowSec > maximumExpiration) {
      return { ok: false, deny: deny(401, { exp: 'exceeds maximum allowed expiration' }, { 'www-authenticate': www }), removals };
    }
  }
  return { ok: true, consumer: entry.consumer, credentialId: entry.key, removals };
}
