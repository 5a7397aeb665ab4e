import { createHash, createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { DEFAULT_CREDENTIAL_SALT, digestOf, hashKey, hashPassword, KEY_HASH_SCHEME, PASSWORD_HASH_SCHEME, passwordMatches } from '../contracts/credential-hash.js';
import { LruCache } from './lru.js';
import { isHmac, keyAlgorithmProblem, parsePublicKey } from '../jwt-keys.js';
import { JwkSet } from './jwks.js';
import type {
  AuthzConsumer, AuthzLogger, AuthzSnapshot, BasicAuthCredential, HmacAuthCredential, JwtAlgorithm, JwtSecret, KeyAuthCredential,
} from './types.js';

/** SHA-256 digest; keys and passwords are only ever held in this form (jwt and hmac-auth secrets cannot be: a signature is checked with the secret). */
export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * A stable identifier for a credential the configuration gave no id: a UUID-shaped digest of
 * its kind, consumer and position (never of its secret).
 */
function derivedId(kind: string, consumerId: string, ordinal: number): string {
  const h = sha256(`frontdesk:${kind}:${consumerId}:${ordinal}`).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface KeyAuthEntry {
  id: string;
  consumer: AuthzConsumer;
  keyHash: Buffer;
}

export interface BasicAuthEntry {
  id: string;
  username: string;
  consumer: AuthzConsumer;
  passwordHash: Buffer;
  salt: string;
}

/** An hmac-auth credential: the secret as bytes, the key of every signature it checks. */
export interface HmacAuthEntry {
  id: string;
  username: string;
  consumer: AuthzConsumer;
  secret: Buffer;
}

/** A jwt secret ready to verify with; key material is parsed once, when indexed. */
export interface JwtSecretEntry {
  id: string;
  key: string;
  algorithm: JwtAlgorithm;
  consumer: AuthzConsumer;
  /** HS*: the secret as configured (decoded per request only when secret_is_base64). */
  secret?: string;
  /** RS*, PS*, ES*, EdDSA with rsa_public_key: the parsed key, or why it is unusable. */
  publicKey?: KeyObject | { problem: string };
  /** Extension: inline JWKS. */
  jwks?: JwkSet;
  /** Extension: JWKS by URL. */
  jwksUri?: string;
}

const DUMMY_HASH = digestOf(hashPassword(DEFAULT_CREDENTIAL_SALT, 'frontdesk-dummy', 'frontdesk-dummy'), PASSWORD_HASH_SCHEME)!;

/**
 * Passwords already verified, so that a client repeating its credentials pays a lookup instead
 * of scrypt. Keyed by an HMAC (with a key of this process) of the stored hash and the password,
 * so the memory holds no password; shared by every snapshot (an update keeps it warm).
 */
const VERIFIED = new LruCache<true>(10_000);
const VERIFIED_KEY = randomBytes(32);
const VERIFIED_TTL_MS = 10 * 60_000;

/**
 * The in-memory indexes one snapshot compiles to: a map per credential kind, keyed by what a
 * request presents (key digest, username, jwt key claim). Built once per update and swapped
 * in whole, so a check never sees half an update.
 */
export class CredentialIndex {
  readonly consumersById = new Map<string, AuthzConsumer>();
  readonly consumersByUsername = new Map<string, AuthzConsumer>();
  /** salt → key digest (base64) → credential: normally one salt, the snapshot's. */
  private readonly keyAuth = new Map<string, Map<string, KeyAuthEntry>>();
  private readonly basicAuth = new Map<string, BasicAuthEntry>();
  private readonly hmacAuth = new Map<string, HmacAuthEntry>();
  readonly jwtByKey = new Map<string, JwtSecretEntry>();

  constructor(snapshot: AuthzSnapshot, logger: AuthzLogger) {
    for (const c of snapshot.consumers) {
      const consumer: AuthzConsumer = { id: c.id, groups: [...new Set(c.groups ?? [])] };
      if (c.username !== undefined) consumer.username = c.username;
      if (c.customId !== undefined) consumer.customId = c.customId;
      this.consumersById.set(c.id, consumer);
      if (c.username !== undefined && !this.consumersByUsername.has(c.username)) this.consumersByUsername.set(c.username, consumer);
    }
    for (const a of snapshot.acls ?? []) {
      const consumer = this.consumersById.get(a.consumerId);
      if (!consumer) logger.warn({ consumerId: a.consumerId }, 'authz: acl for an unknown consumer ignored');
      else if (!consumer.groups.includes(a.group)) consumer.groups.push(a.group);
    }
    const ordinals = new Map<string, number>();
    const nextOrdinal = (kind: string, consumerId: string): number => {
      const k = `${kind}\0${consumerId}`;
      const n = ordinals.get(k) ?? 0;
      ordinals.set(k, n + 1);
      return n;
    };
    for (const cred of snapshot.keyauthCredentials ?? []) this.addKeyAuth(cred, nextOrdinal('key-auth', cred.consumerId), logger);
    for (const cred of snapshot.basicauthCredentials ?? []) this.addBasicAuth(cred, nextOrdinal('basic-auth', cred.consumerId), logger);
    for (const s of snapshot.jwtSecrets ?? []) this.addJwtSecret(s, nextOrdinal('jwt', s.consumerId), logger);
    for (const cred of snapshot.hmacauthCredentials ?? []) this.addHmacAuth(cred, nextOrdinal('hmac-auth', cred.consumerId), logger);
  }

  /** A consumer by id or, failing that, username (Kong's `anonymous` accepts either). */
  consumerByIdOrUsername(ref: string): AuthzConsumer | undefined {
    return this.consumersById.get(ref) ?? this.consumersByUsername.get(ref);
  }

  /** The key-auth credential whose key is `key`: its keyed hash looked up, compared in constant time. */
  findKey(key: string): KeyAuthEntry | undefined {
    for (const [salt, bySlot] of this.keyAuth) {
      const digest = digestOf(hashKey(salt, key), KEY_HASH_SCHEME)!;
      const entry = bySlot.get(digest.toString('base64'));
      if (entry && timingSafeEqual(entry.keyHash, digest)) return entry;
    }
    return undefined;
  }

  findBasicUser(username: string): BasicAuthEntry | undefined {
    return this.basicAuth.get(username);
  }

  /** The hmac-auth credential whose username is `username` (Kong's cache key). */
  findHmacUser(username: string): HmacAuthEntry | undefined {
    return this.hmacAuth.get(username);
  }

  /**
   * Whether `password` is `entry`'s, in constant time. An unknown user costs the same digest
   * and comparison, so response time does not tell which usernames exist.
   */
  checkPassword(entry: BasicAuthEntry | undefined, password: string, now = Date.now()): boolean {
    if (!entry) {
      passwordMatches(DUMMY_HASH, DEFAULT_CREDENTIAL_SALT, 'frontdesk-dummy', password);
      return false;
    }
    const seen = createHmac('sha256', VERIFIED_KEY).update(entry.passwordHash).update('\0').update(password).digest('base64');
    if (VERIFIED.get(seen, now)) return true;
    const ok = passwordMatches(entry.passwordHash, entry.salt, entry.consumer.id, password);
    if (ok) VERIFIED.set(seen, true, now + VERIFIED_TTL_MS);
    return ok;
  }

  private consumerOf(kind: string, consumerId: string, logger: AuthzLogger): AuthzConsumer | undefined {
    const consumer = this.consumersById.get(consumerId);
    if (!consumer) logger.warn({ consumerId, kind }, 'authz: credential for an unknown consumer ignored');
    return consumer;
  }

  private addKeyAuth(cred: KeyAuthCredential, ordinal: number, logger: AuthzLogger): void {
    const consumer = this.consumerOf('key-auth', cred.consumerId, logger);
    if (!consumer) return;
    const id = cred.id ?? derivedId('key-auth', cred.consumerId, ordinal);
    const salt = cred.keyHash !== undefined ? cred.salt ?? DEFAULT_CREDENTIAL_SALT : DEFAULT_CREDENTIAL_SALT;
    const keyHash = digestOf(cred.keyHash ?? hashKey(salt, cred.key ?? ''), KEY_HASH_SCHEME);
    if (!keyHash) {
      logger.warn({ credentialId: id }, 'authz: key-auth credential with an unknown hash scheme ignored');
      return;
    }
    const slot = keyHash.toString('base64');
    let bySlot = this.keyAuth.get(salt);
    if (!bySlot) this.keyAuth.set(salt, (bySlot = new Map()));
    const prev = bySlot.get(slot);
    if (prev) {
      logger.warn({ credentialId: id, keptCredentialId: prev.id }, 'authz: duplicate key-auth key ignored');
      return;
    }
    bySlot.set(slot, { id, consumer, keyHash });
  }

  private addBasicAuth(cred: BasicAuthCredential, ordinal: number, logger: AuthzLogger): void {
    const consumer = this.consumerOf('basic-auth', cred.consumerId, logger);
    if (!consumer) return;
    const id = cred.id ?? derivedId('basic-auth', cred.consumerId, ordinal);
    if (this.basicAuth.has(cred.username)) {
      logger.warn({ credentialId: id, username: cred.username }, 'authz: duplicate basic-auth username ignored');
      return;
    }
    const salt = cred.passwordHash !== undefined ? cred.salt ?? DEFAULT_CREDENTIAL_SALT : DEFAULT_CREDENTIAL_SALT;
    const passwordHash = digestOf(cred.passwordHash ?? hashPassword(salt, consumer.id, cred.password ?? ''), PASSWORD_HASH_SCHEME);
    if (!passwordHash) {
      logger.warn({ credentialId: id }, 'authz: basic-auth credential with an unknown hash scheme ignored');
      return;
    }
    this.basicAuth.set(cred.username, { id, username: cred.username, consumer, passwordHash, salt });
  }

  private addHmacAuth(cred: HmacAuthCredential, ordinal: number, logger: AuthzLogger): void {
    const consumer = this.consumerOf('hmac-auth', cred.consumerId, logger);
    if (!consumer) return;
    const id = cred.id ?? derivedId('hmac-auth', cred.consumerId, ordinal);
    if (this.hmacAuth.has(cred.username)) {
      logger.warn({ credentialId: id, username: cred.username }, 'authz: duplicate hmac-auth username ignored');
      return;
    }
    this.hmacAuth.set(cred.username, { id, username: cred.username, consumer, secret: Buffer.from(cred.secret, 'utf8') });
  }

  private addJwtSecret(s: JwtSecret, ordinal: number, logger: AuthzLogger): void {
    const consumer = this.consumerOf('jwt', s.consumerId, logger);
    if (!consumer) return;
    const id = s.id ?? derivedId('jwt', s.consumerId, ordinal);
    if (this.jwtByKey.has(s.key)) {
      logger.warn({ credentialId: id, key: s.key }, 'authz: duplicate jwt secret key ignored');
      return;
    }
    const algorithm = s.algorithm ?? 'HS256';
    const entry: JwtSecretEntry = { id, key: s.key, algorithm, consumer };
    if (s.jwks) entry.jwks = new JwkSet(s.jwks, algorithm);
    else if (s.jwksUri) entry.jwksUri = s.jwksUri;
    else if (isHmac(algorithm)) {
      if (s.secret !== undefined) entry.secret = s.secret;
    } else if (s.rsaPublicKey !== undefined) {
      try {
        const key = parsePublicKey(s.rsaPublicKey);
        const problem = keyAlgorithmProblem(algorithm, key);
        entry.publicKey = problem ? { problem } : key;
      } catch (e) {
        entry.publicKey = { problem: `rsa_public_key does not parse: ${(e as Error).message}` };
      }
      if ('problem' in entry.publicKey!) logger.warn({ credentialId: id, key: s.key, problem: entry.publicKey.problem }, 'authz: unusable jwt secret');
    }
    this.jwtByKey.set(s.key, entry);
  }
}
