/**
 * The authz engine's public types: what it is given (a snapshot of consumers, credentials and
 * per-route policies), what it is asked (one request), and what it answers (a decision).
 * Nothing here knows about Envoy or gRPC: the ext_authz service converts CheckRequest into an
 * AuthzRequest and an AuthzDecision into a CheckResponse.
 */
import type { AclPlugin, BasicAuthPlugin, HmacAuthPlugin, JwtPlugin, KeyAuthPlugin, LdapAuthPlugin, SessionPlugin } from '../contracts/authz.js';
import type { JwtAlgorithm } from '../jwt-keys.js';
import type { LdapEndpoint } from './ldap-client.js';

/**
 * The plugins' settings: the contract's messages (proto/frontdesk/authz/v1/authz.proto), where
 * an absent field is proto3's zero value, as the authz service decodes them.
 */
export type JwtConfig = JwtPlugin;
export type KeyAuthConfig = KeyAuthPlugin;
export type BasicAuthConfig = BasicAuthPlugin;
export type HmacAuthConfig = HmacAuthPlugin;
export type LdapAuthConfig = LdapAuthPlugin;
export type AclConfig = AclPlugin;
export type SessionConfig = SessionPlugin;

/** A Kong consumer with the ACL groups it belongs to. */
export interface AuthzConsumer {
  id: string;
  username?: string;
  customId?: string;
  groups: string[];
}

/** A consumer as the snapshot gives it; `groups` may also come from `AuthzSnapshot.acls`. */
export interface AuthzConsumerInput {
  id: string;
  username?: string;
  customId?: string;
  groups?: string[];
}

export { JWT_ALGORITHMS, type JwtAlgorithm } from '../jwt-keys.js';

/** A JSON Web Key Set document: `{ "keys": [ {kty, kid, ...}, ... ] }`. */
export interface JsonWebKeySet {
  keys: Array<Record<string, unknown>>;
}

/**
 * A Kong jwt_secret. The secret is chosen by the token's `key_claim_name` claim (`iss` by
 * default) matched against `key`; its `algorithm` is the only one accepted.
 * HS* use `secret`; RS*, PS*, ES* and EdDSA use `rsaPublicKey` (a PEM public key, as Kong names
 * it for every asymmetric algorithm), or, as a Frontdesk extension, a JWKS given inline
 * (`jwks`) or by URL (`jwksUri`), from which the key is picked by the token's `kid`.
 */
export interface JwtSecret {
  id?: string;
  consumerId: string;
  key: string;
  /** Kong's default is HS256. */
  algorithm?: JwtAlgorithm;
  secret?: string;
  rsaPublicKey?: string;
  /** Extension: an inline JWKS. */
  jwks?: JsonWebKeySet;
  /** Extension: a JWKS fetched over HTTP(S), cached, refreshed on an unknown `kid`. */
  jwksUri?: string;
}

/** A Kong keyauth_credential. `id` is what X-Credential-Identifier carries (Kong sends the id). */
export interface KeyAuthCredential {
  id?: string;
  consumerId: string;
  /** The key in clear (in-process use), or: */
  key?: string;
  /** the key as the control plane sends it (credential-hash.ts), with the salt it was hashed with. */
  keyHash?: string;
  salt?: string;
}

/** A Kong basicauth_credential; a password given in clear is hashed when indexed. */
export interface BasicAuthCredential {
  id?: string;
  consumerId: string;
  username: string;
  /** The password in clear (in-process use), or: */
  password?: string;
  /** the password as the control plane sends it (credential-hash.ts), with the salt it was hashed with. */
  passwordHash?: string;
  salt?: string;
}

/** A Kong hmacauth_credential: requests sign with `secret` and name `username`. */
export interface HmacAuthCredential {
  id?: string;
  consumerId: string;
  username: string;
  secret: string;
}

/** A Kong acl entity: the consumer belongs to `group`. */
export interface AclGroup {
  consumerId: string;
  group: string;
}

/** The auth plugins that apply to one route, scopes already merged (route > service > global). */
export interface RoutePolicy {
  routeId: string;
  plugins: {
    jwt?: JwtConfig;
    'key-auth'?: KeyAuthConfig;
    'basic-auth'?: BasicAuthConfig;
    'hmac-auth'?: HmacAuthConfig;
    'ldap-auth'?: LdapAuthConfig;
    session?: SessionConfig;
    acl?: AclConfig;
  };
}

/** Everything the engine knows; `update()` replaces it as a whole. */
export interface AuthzSnapshot {
  consumers: AuthzConsumerInput[];
  jwtSecrets?: JwtSecret[];
  keyauthCredentials?: KeyAuthCredential[];
  basicauthCredentials?: BasicAuthCredential[];
  hmacauthCredentials?: HmacAuthCredential[];
  acls?: AclGroup[];
  policies: RoutePolicy[];
}

/**
 * One request as Envoy's CheckRequest describes it.
 * `headers` keys are lower-case; a header sent twice arrives comma-joined (Envoy merges them).
 */
export interface AuthzRequest {
  method: string;
  /** Path with the query string, as sent by the client (`/orders?apikey=...`). */
  path: string;
  /** The client's address as Envoy saw it (the connection's peer), and the request's scheme (session's bind). */
  clientIp?: string;
  scheme?: string;
  /** `HTTP/1.0`, `HTTP/1.1`, `HTTP/2`, `HTTP/3`, as Envoy names the request's protocol (hmac-auth's request-line). */
  protocol?: string;
  headers: Record<string, string>;
  /** Each header's values apart, in the order sent, when Envoy sends them so (hmac-auth listeners): Kong's plugins read the first. */
  headerValues?: Record<string, string[]>;
  /** Raw body, when the ext_authz filter is configured to send it (key_in_body, hmac-auth's validate_request_body). */
  body?: string;
  /** The same body as bytes (hmac-auth hashes the bytes, not their UTF-8 reading). */
  bodyBytes?: Buffer;
}

/** Request may go on; Envoy applies the header changes before forwarding it upstream. */
export interface AuthzAllow {
  allow: true;
  /** The consumer the request runs as (the anonymous one when `anonymous`). */
  consumer?: AuthzConsumer;
  /** X-Credential-Identifier: jwt secret key, key-auth credential id, basic-auth username. */
  credentialId?: string;
  anonymous: boolean;
  /** Lower-case header names to set on the upstream request (X-Consumer-ID, ...). */
  headersToSet: Record<string, string>;
  /** Lower-case header names to remove from the upstream request. */
  headersToRemove: string[];
  /** Query parameters to remove (key-auth hide_credentials). */
  queryParamsToRemove?: string[];
  /**
   * Body fields to remove (key-auth hide_credentials with key_in_body). ext_authz cannot edit
   * a body: the caller must apply this elsewhere or refuse the combination.
   */
  bodyParamsToRemove?: string[];
  /** Dynamic metadata for later filters (rate limiting): consumer_id, consumer_username, consumer_custom_id, credential_id. */
  metadata: Record<string, string>;
  /** Lower-case header names to set on the response to the client (session's Session-* headers). */
  responseHeaders?: Record<string, string>;
  /** Set-Cookie values for the response, each its own header (the session's cookies). */
  setCookies?: string[];
}

/** Request is refused with Kong's status, JSON body and headers (WWW-Authenticate, content-type). */
export interface AuthzDeny {
  allow: false;
  status: number;
  /**
   * Kong's JSON body: `{ "message": "..." }`, except a failed jwt claim check, where Kong sends
   * its errors table, e.g. `{ "exp": "token expired" }`. None: an empty answer (session's logout, Kong's exit(200)).
   */
  body?: Record<string, string>;
  headers: Record<string, string>;
  /** Set-Cookie values for the answer, each its own header (the session's cookies). */
  setCookies?: string[];
}

export type AuthzDecision = AuthzAllow | AuthzDeny;

/** pino-compatible subset. Never pass a token, key or password in either argument. */
export interface AuthzLogger {
  debug?(obj: Record<string, unknown>, msg: string): void;
  info?(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** The subset of the Fetch API the JWKS loader uses; inject `globalThis.fetch` in production. */
export type AuthzFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
}>;

export interface AuthzEngineOptions {
  logger: AuthzLogger;
  /** Milliseconds since the epoch; defaults to Date.now. */
  now?: () => number;
  /** Needed only when a jwt secret has `jwksUri`. */
  fetch?: AuthzFetch;
  /** Verified-token cache entries (LRU). Default 10,000; 0 disables the cache. */
  tokenCacheSize?: number;
  /** Longest a verified token stays cached (it never outlives its exp). Default 300,000 ms. */
  tokenCacheTtlMs?: number;
  /** Tokens longer than this are refused before any parsing. Default 8,192 characters. */
  maxTokenLength?: number;
  /** JWKS fetch timeout. Default 2,000 ms. */
  jwksTimeoutMs?: number;
  /** How long a fetched JWKS is used before it is fetched again. Default 600,000 ms. */
  jwksCacheTtlMs?: number;
  /** At most one refresh per URI in this window, however many unknown kids arrive. Default 30,000 ms. */
  jwksRefreshIntervalMs?: number;
  /** JWKS documents larger than this are refused. Default 512 KiB. */
  jwksMaxBytes?: number;
  /** Binds ldap-auth's users; by default one over node:net / node:tls trusting Node's CA store (and NODE_EXTRA_CA_CERTS). */
  ldap?: LdapBind;
  /** ldap-auth verdicts kept (LRU; each for the plugin's cache_ttl). Default 10,000. */
  ldapCacheSize?: number;
}

/** An LDAP simple bind: true when the server accepts the password, false when it refuses it; throws when it cannot tell. */
export type LdapBind = (endpoint: LdapEndpoint, dn: string, password: string) => Promise<boolean>;
