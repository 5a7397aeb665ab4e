import { createHash, createHmac, createPublicKey, KeyObject, sign, type JsonWebKey } from 'node:crypto';

/**
 * JSON Web Signatures as ACME wants them (RFC 8555 §6.2): the flattened JSON serialization
 * (RFC 7515 §7.2.2), signed by the account key with ES256 (P-256) or RS256; the account's
 * public JWK and its RFC 7638 thumbprint, which the key authorization of a challenge carries
 * (RFC 8555 §8.1); and the external account binding's inner JWS (RFC 8555 §7.3.4).
 */

/** A flattened JWS: every member base64url, as the body of an ACME POST. */
export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

/** The public members of an account key that RFC 7638 §3.2 requires, and nothing else. */
export type AccountJwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string } | { kty: 'RSA'; n: string; e: string };

export type AccountKeyAlg = 'ES256' | 'RS256';

/**
 * The protected header's key reference: `jwk` for newAccount (no account yet), `kid` (the
 * account URL) for every other request (RFC 8555 §6.2).
 */
export type KeyRef = { jwk: AccountJwk } | { kid: string };

export function base64url(data: Buffer | string): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

/** ES256 for a P-256 key, RS256 for an RSA key; any other key cannot sign for an ACME account. */
export function accountKeyAlg(key: KeyObject): AccountKeyAlg {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new Error(`an ACME account key must be EC P-256 (ES256) or RSA (RS256), not ${key.asymmetricKeyType ?? key.type}${curve ? ` ${curve}` : ''}`);
}

/** The account key's public JWK: the RFC 7638 required members only (no "alg", "use", "kid"). */
export function accountJwk(key: KeyObject): AccountJwk {
  const alg = accountKeyAlg(key);
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (alg === 'ES256') return { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) };
  return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e) };
}

/**
 * The JWK thumbprint of RFC 7638 §3: base64url(SHA-256(JSON of the key type's required members,
 * in lexicographic order, without white space)): crv, kty, x, y for EC; e, kty, n for RSA.
 * Takes a JWK (members beyond the required ones are ignored) or a key.
 */
export function jwkThumbprint(key: KeyObject | JsonWebKey): string {
  const jwk: JsonWebKey = key instanceof KeyObject ? accountJwk(key) : key;
  let canonical: string;
  if (jwk.kty === 'EC') canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  else if (jwk.kty === 'RSA') canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  else throw new Error(`no RFC 7638 thumbprint for a key of type ${String(jwk.kty)}`);
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

/** The key authorization of a challenge (RFC 8555 §8.1): the token, a dot, the account key's thumbprint. */
export function keyAuthorization(token: string, thumbprint: string): string {
  return `${token}.${thumbprint}`;
}

/**
 * Signs an ACME request (RFC 8555 §6.2): protected header {alg, jwk|kid, nonce, url}, the
 * payload as JSON, or `''` for a POST-as-GET (§6.3: the payload member is then the empty
 * string). ES256 signatures are the raw r||s of RFC 7518 §3.4, not DER.
 */
export function signJws(key: KeyObject, ref: KeyRef, nonce: string, url: string, payload: unknown | ''): FlattenedJws {
  const alg = accountKeyAlg(key);
  const header = { alg, ...ref, nonce, url };
  const protectedB64 = base64url(JSON.stringify(header));
  const payloadB64 = payload === '' ? '' : base64url(JSON.stringify(payload));
  const input = Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
  const signature = alg === 'ES256'
    ? sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', input, key);
  return { protected: protectedB64, payload: payloadB64, signature: base64url(signature) };
}

/**
 * The externalAccountBinding of a newAccount request (RFC 8555 §7.3.4): a JWS over the account's
 * public JWK, HS256 with the MAC key the CA gave out, protected {alg: HS256, kid: the CA's key
 * id, url: the newAccount URL} (no nonce). The CA hands out the key base64url-encoded (as
 * Kong's eab_hmac_key takes it); padding or the standard alphabet are accepted too.
 */
export function externalAccountBinding(jwk: AccountJwk, eab: { kid: string; hmacKey: string }, newAccountUrl: string): FlattenedJws {
  const macKey = Buffer.from(eab.hmacKey.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (macKey.length === 0) throw new Error('the external account binding\'s HMAC key is empty or not base64url');
  const protectedB64 = base64url(JSON.stringify({ alg: 'HS256', kid: eab.kid, url: newAccountUrl }));
  const payloadB64 = base64url(JSON.stringify(jwk));
  const signature = createHmac('sha256', macKey).update(`${protectedB64}.${payloadB64}`, 'ascii').digest();
  return { protected: protectedB64, payload: payloadB64, signature: base64url(signature) };
}
