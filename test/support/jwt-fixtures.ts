/**
 * Keys, tokens and a recording logger for the authz tests. Tokens are signed here with
 * node:crypto directly (not with jose, which the engine verifies with), so the header, payload
 * and signature can be anything an attacker could send.
 */
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { AuthzEngine } from '../../src/authz/engine.js';
import type { AuthzEngineOptions, AuthzLogger, AuthzRequest, AuthzSnapshot, JwtAlgorithm } from '../../src/authz/types.js';
import { jwtConfigSchema } from '../../src/model/plugins/jwt.js';
import { keyAuthConfigSchema } from '../../src/model/plugins/key-auth.js';
import { basicAuthConfigSchema } from '../../src/model/plugins/basic-auth.js';
import { hmacAuthConfigSchema } from '../../src/model/plugins/hmac-auth.js';
import { aclConfigSchema } from '../../src/model/plugins/acl.js';

export function b64url(data: string | Buffer | object): string {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
  return buf.toString('base64url');
}

/** A token from raw parts; `signature` defaults to empty (as in an `alg: none` token). */
export function craftToken(header: object | string, payload: object | string, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

export interface KeyPair {
  alg: JwtAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  jwk: Record<string, unknown>;
}

const pairs = new Map<string, KeyPair>();

/** A key pair for an asymmetric algorithm, generated once per test process and `variant`. */
export function keyPair(alg: Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>, variant = 'a'): KeyPair {
  const id = `${alg}:${variant}`;
  let p = pairs.get(id);
  if (!p) {
    let kp: { privateKey: KeyObject; publicKey: KeyObject };
    if (alg.startsWith('RS') || alg.startsWith('PS')) kp = generateKeyPairSync('rsa', { modulusLength: 2048 });
    else if (alg === 'ES256') kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    else if (alg === 'ES384') kp = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    else if (alg === 'ES512') kp = generateKeyPairSync('ec', { namedCurve: 'P-521' });
    else kp = generateKeyPairSync('ed25519');
    p = {
      alg,
      ...kp,
      publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      jwk: kp.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
    };
    pairs.set(id, p);
  }
  return p;
}

const DIGEST: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** The JWS signature of `input` for `alg`, keyed by an HMAC secret or a private key. */
export function rawSignature(alg: string, input: string, key: string | Buffer | KeyObject): string {
  if (alg.startsWith('HS')) return createHmac(DIGEST[alg.slice(2)]!, key as string | Buffer).update(input).digest('base64url');
  const k = key as KeyObject;
  if (alg === 'EdDSA') return sign(null, Buffer.from(input), k).toString('base64url');
  const digest = DIGEST[alg.slice(2)]!;
  if (alg.startsWith('RS')) return sign(digest, Buffer.from(input), k).toString('base64url');
  if (alg.startsWith('PS')) {
    return sign(digest, Buffer.from(input), { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }).toString('base64url');
  }
  return sign(digest, Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

/** A signed token. `header` is merged over `{typ: "JWT", alg}`. */
export function signToken(alg: string, key: string | Buffer | KeyObject, payload: object, header: object = {}): string {
  const input = `${b64url({ typ: 'JWT', alg, ...header })}.${b64url(payload)}`;
  return `${input}.${rawSignature(alg, input, key)}`;
}

export const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
export const NOW_S = NOW_MS / 1000;

/** Captures every log call; `text()` is what a log file would hold. */
export class RecordingLogger implements AuthzLogger {
  readonly lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  debug(obj: Record<string, unknown>, msg: string): void { this.lines.push({ level: 'debug', obj, msg }); }
  info(obj: Record<string, unknown>, msg: string): void { this.lines.push({ level: 'info', obj, msg }); }
  warn(obj: Record<string, unknown>, msg: string): void { this.lines.push({ level: 'warn', obj, msg }); }
  error(obj: Record<string, unknown>, msg: string): void { this.lines.push({ level: 'error', obj, msg }); }
  text(): string {
    return this.lines.map((l) => `${l.level} ${JSON.stringify(l.obj)} ${l.msg}`).join('\n');
  }
}

/** Plugin configs with Kong's defaults, exactly as the model produces them. */
export const jwtConf = (c: Record<string, unknown> = {}) => jwtConfigSchema.parse(c);
export const keyAuthConf = (c: Record<string, unknown> = {}) => keyAuthConfigSchema.parse(c);
export const basicAuthConf = (c: Record<string, unknown> = {}) => basicAuthConfigSchema.parse(c);
export const hmacAuthConf = (c: Record<string, unknown> = {}) => hmacAuthConfigSchema.parse(c);
export const aclConf = (c: Record<string, unknown> = {}) => aclConfigSchema.parse(c);

/** An engine on a fixed clock (`clock.ms` can be moved) with a recording logger, loaded with `snapshot`. */
export function makeEngine(snapshot: AuthzSnapshot, opts: Partial<AuthzEngineOptions> = {}) {
  const clock = { ms: NOW_MS };
  const logger = new RecordingLogger();
  const engine = new AuthzEngine({ logger, now: () => clock.ms, ...opts });
  engine.update(snapshot);
  return { engine, clock, logger };
}

/** A GET request with lower-cased header names. */
export function request(path = '/', headers: Record<string, string> = {}, extra: Partial<AuthzRequest> = {}): AuthzRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method: 'GET', path, headers: lower, ...extra };
}
