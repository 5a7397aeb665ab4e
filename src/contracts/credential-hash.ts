import { createHash, createHmac, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * How key-auth keys and basic-auth passwords travel to the authz companion: as salted hashes,
 * never in clear. Kong itself stores a basic-auth password as SHA-1 of password + consumer id;
 * these are stronger:
 * - a key-auth key as `hmac-sha256:<base64>`, HMAC-SHA256 keyed by the snapshot's salt: one
 *   keyed hash of the key a request presents finds its credential in a map. Keys are meant to
 *   be long random strings, for which a fast keyed hash is enough.
 * - a basic-auth password as `scrypt:<base64>`, scrypt (N 2^12, r 8, p 1) salted with the
 *   snapshot's salt and the consumer id: a stolen companion resource costs a guesser ~7 ms of
 *   CPU and 4 MiB per guess per password (SHA-1 costs well under a microsecond). N stays at
 *   2^12, not the 2^14 of interactive logins, because the control plane hashes every password
 *   when it first compiles a config (1,000 passwords: ~7 s, then memoised) and a wrong password
 *   costs the authz companion one scrypt. The companion remembers the passwords it verified
 *   (as a keyed hash, in memory), so a client sending the same credentials again pays a map
 *   lookup, not scrypt.
 * Pure: deterministic functions of their inputs (memoised), no I/O.
 */

export const KEY_HASH_SCHEME = 'hmac-sha256';
export const PASSWORD_HASH_SCHEME = 'scrypt';
const SCRYPT = { N: 4096, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const SCRYPT_BYTES = 32;

/** The salt when none is set (translate's output, tests): the control plane picks a random one per run. */
export const DEFAULT_CREDENTIAL_SALT = 'frontdesk';

/** A key-auth key as it is sent: `hmac-sha256:` + base64 of HMAC-SHA256(salt, key). */
export function hashKey(salt: string, key: string): string {
  return `${KEY_HASH_SCHEME}:${createHmac('sha256', salt).update(key).digest('base64')}`;
}

const memo = new Map<string, string>();
const MEMO_MAX = 10_000;

/** A basic-auth password as it is sent: `scrypt:` + base64 of scrypt(password, salt + consumer id). Memoised. */
export function hashPassword(salt: string, consumerId: string, password: string): string {
  const k = createHash('sha256').update(`${salt}\0${consumerId}\0${password}`).digest('base64');
  const hit = memo.get(k);
  if (hit) return hit;
  const out = `${PASSWORD_HASH_SCHEME}:${scryptSync(password, `${salt}\0${consumerId}`, SCRYPT_BYTES, SCRYPT).toString('base64')}`;
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value!);
  memo.set(k, out);
  return out;
}

/** The digest bytes of a hash as sent, or undefined when its scheme is not `scheme`. */
export function digestOf(hash: string, scheme: string): Buffer | undefined {
  if (!hash.startsWith(`${scheme}:`)) return undefined;
  const b = Buffer.from(hash.slice(scheme.length + 1), 'base64');
  return b.length ? b : undefined;
}

/** Whether `password` is the one hashed as `hash`, in constant time for equal-length digests. */
export function passwordMatches(hash: Buffer, salt: string, consumerId: string, password: string): boolean {
  const got = scryptSync(password, `${salt}\0${consumerId}`, SCRYPT_BYTES, SCRYPT);
  return got.length === hash.length && timingSafeEqual(got, hash);
}
