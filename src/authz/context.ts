import type { CredentialIndex, JwtSecretEntry } from './credentials.js';
import type { JwkSet, JwksCache } from './jwks.js';
import type { LruCache } from './lru.js';
import type { LdapVerdicts } from './ldap-verdicts.js';
import type { AuthzConsumer, AuthzDeny, AuthzLogger } from './types.js';

/** What an auth plugin sees besides the request: the current indexes and the engine's services. */
export interface PluginContext {
  index: CredentialIndex;
  now: () => number;
  logger: AuthzLogger;
  jwks: JwksCache;
  tokenCache: LruCache<CachedToken>;
  tokenCacheTtlMs: number;
  maxTokenLength: number;
  ldap: LdapVerdicts;
}

/**
 * A token whose signature was verified against `secret` (and, for JWKS, `keySet`), with the
 * only claims later requests re-check: exp and nbf (null when present but not a number).
 */
export interface CachedToken {
  secret: JwtSecretEntry;
  keySet?: JwkSet;
  claims: { exp?: number | null; nbf?: number | null };
}

/** Credentials a plugin asks to strip before the request goes upstream (hide_credentials). */
export interface Removals {
  headers: string[];
  query: string[];
  body: string[];
}

export function noRemovals(): Removals {
  return { headers: [], query: [], body: [] };
}

/**
 * One auth plugin's verdict; a server-side failure is thrown as AuthzInternalError instead. An
 * accepted credential may have no consumer (ldap-auth's users are the LDAP server's, not Kong's).
 */
export type AuthOutcome =
  | { ok: true; consumer?: AuthzConsumer; credentialId: string; removals: Removals }
  | { ok: false; deny: AuthzDeny; removals: Removals };
