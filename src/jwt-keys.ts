import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * JWT key material as Kong's jwt plugin uses it: the algorithms, and whether a jwt_secret's key
 * can verify them. Pure (node:crypto parsing only); the model's diagnostics and the authz
 * service both check keys with these functions.
 */

export const JWT_ALGORITHMS = [
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** The key material of one jwt_secret (Kong's `secret` / `rsa_public_key`, or the JWKS extension). */
export interface JwtKeyMaterial {
  /** The secret's key claim value and its consumer: not read here, carried for the caller. */
  key?: string;
  consumerId?: string;
  /** Kong's default is HS256. */
  algorithm?: JwtAlgorithm;
  secret?: string;
  rsaPublicKey?: string;
  jwks?: { keys: Array<Record<string, unknown>> };
  jwksUri?: string;
}

/** HS* algorithms verify with a shared secret; all others with a public key. */
export function isHmac(alg: JwtAlgorithm): boolean {
  return alg.startsWith('HS');
}

const EC_CURVES: Partial<Record<JwtAlgorithm, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const JWK_CURVES: Partial<Record<JwtAlgorithm, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521', EdDSA: 'Ed25519' };

/** Why `key` cannot verify `alg` signatures, or undefined when it can. */
export function keyAlgorithmProblem(alg: JwtAlgorithm, key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    if (type === 'rsa-pss') return `${alg} needs an RSA key with the rsaEncryption OID; id-RSASSA-PSS keys are not supported by WebCrypto`;
    if (type !== 'rsa') return `${alg} needs an RSA public key, got ${type ?? 'a secret key'}`;
    if ((details.modulusLength ?? 0) < 2048) return `${alg} needs an RSA key of 2048 bits or more, got ${details.modulusLength ?? 0}`;
    return undefined;
  }
  if (alg.startsWith('ES')) {
    if (type !== 'ec') return `${alg} needs an EC public key, got ${type ?? 'a secret key'}`;
    if (details.namedCurve !== EC_CURVES[alg]) return `${alg} needs curve ${JWK_CURVES[alg]}, got ${details.namedCurve ?? 'unknown'}`;
    return undefined;
  }
  if (alg === 'EdDSA') return type === 'ed25519' ? undefined : `EdDSA needs an Ed25519 public key, got ${type ?? 'a secret key'}`;
  return `${alg} verifies with a shared secret, not a public key`;
}

/** Whether a JWK's declared type fits `alg` (kty, curve and, when present, alg and use). */
export function jwkFitsAlgorithm(alg: JwtAlgorithm, jwk: Record<string, unknown>): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  const kty = jwk.kty;
  if (isHmac(alg)) return kty === 'oct';
  if (alg.startsWith('RS') || alg.startsWith('PS')) return kty === 'RSA';
  return (kty === 'EC' || kty === 'OKP') && jwk.crv === JWK_CURVES[alg];
}

/** Parses a PEM public key (or certificate); throws with the parser's reason when it cannot. */
export function parsePublicKey(pem: string): KeyObject {
  return createPublicKey({ key: pem, format: 'pem' });
}

/**
 * Kong's jwt_parser base64_decode: pads, maps the URL alphabet to the standard one and decodes
 * strictly. Returns undefined where Kong's ngx.decode_base64 returns nil.
 */
export function kongBase64Decode(input: string): Buffer | undefined {
  const std = input.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std)) return undefined;
  const body = std.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  const padded = body + '='.repeat((4 - (body.length % 4)) % 4);
  if (std.length !== body.length && std.length !== padded.length) return undefined;
  return Buffer.from(padded, 'base64');
}

/**
 * What is wrong with a jwt_secret as configured, for the model's diagnostics (a key that does
 * not parse, an algorithm that does not fit its key, a missing secret). Pure: no I/O.
 * The returned text names the secret by its `key` (the iss value), never its secret material.
 */
export function jwtSecretProblem(s: JwtKeyMaterial): string | undefined {
  const alg = s.algorithm ?? 'HS256';
  const sources = [s.rsaPublicKey !== undefined, s.jwks !== undefined, s.jwksUri !== undefined].filter(Boolean).length;
  if (sources > 1) return 'give only one of rsa_public_key, jwks and jwks_uri';
  if (s.jwks) {
    const fitting = s.jwks.keys.filter((k) => jwkFitsAlgorithm(alg, k));
    if (fitting.length === 0) return `its jwks has no key usable with ${alg}`;
    return undefined;
  }
  if (s.jwksUri) return undefined;
  if (isHmac(alg)) {
    if (s.rsaPublicKey !== undefined) return `${alg} uses "secret"; rsa_public_key is for RS*, PS*, ES* and EdDSA`;
    if (s.secret === undefined || s.secret === '') return `${alg} needs "secret"`;
    return undefined;
  }
  if (s.rsaPublicKey === undefined) return `${alg} needs rsa_public_key (a PEM public key), jwks or jwks_uri`;
  let key: KeyObject;
  try {
    key = parsePublicKey(s.rsaPublicKey);
  } catch (e) {
    return `rsa_public_key does not parse as a PEM public key (${(e as Error).message})`;
  }
  return keyAlgorithmProblem(alg, key);
}
