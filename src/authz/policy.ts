/**
 * The authz service's side of its contract (contracts/authz.ts): a set of decoded `Consumer`
 * and `RoutePolicy` messages → whether it can be enforced (the AdsClient NACKs it otherwise),
 * and → the engine's snapshot. Pure: no I/O, no clock, no logger.
 */
import { digestOf, KEY_HASH_SCHEME, PASSWORD_HASH_SCHEME } from '../contracts/credential-hash.js';
import { AUTHZ_TYPE, type AuthzTypeUrl, type Consumer, type Jwk, type RoutePolicy as RoutePolicyMessage } from '../contracts/authz.js';
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../jwt-keys.js';
import { HMAC_DIGESTS } from './plugins/hmac-auth.js';
import type { AuthzSnapshot, JwtSecret, RoutePolicy } from './types.js';

/** The messages each authz type URL carries, as the checks below take them (any field may be absent). */
export interface AuthzResourceTypes {
  [AUTHZ_TYPE.consumer]: Consumer;
  [AUTHZ_TYPE.routePolicy]: RoutePolicyMessage;
}

const isAlgorithm = (alg: string): alg is JwtAlgorithm => (JWT_ALGORITHMS as readonly string[]).includes(alg);

/** Why a set of Consumer messages cannot be used, or undefined. Names resources and fields, never a credential. */
export function consumersProblem(resources: ReadonlyMap<string, Consumer>): string | undefined {
  for (const [name, c] of resources) {
    if (!name) return `${AUTHZ_TYPE.consumer}: a resource has no name`;
    if (!c.id) return `Consumer ${name}: no id`;
    for (const [i, s] of (c.jwt_secrets ?? []).entries()) {
      if (!s.key) return `Consumer ${name}: jwt_secrets[${i}] has no key`;
      const alg = s.algorithm || 'HS256';
      if (!isAlgorithm(alg)) return `Consumer ${name}: jwt_secrets[${i}] has an unknown algorithm "${alg}"`;
    }
    for (const [i, k] of (c.keyauth_credentials ?? []).entries()) {
      if (!k.key_hash || !digestOf(k.key_hash, KEY_HASH_SCHEME)) return `Consumer ${name}: keyauth_credentials[${i}] has no key hash (${KEY_HASH_SCHEME})`;
    }
    for (const [i, b] of (c.basicauth_credentials ?? []).entries()) {
      if (!b.username || !b.password_hash || !digestOf(b.password_hash, PASSWORD_HASH_SCHEME)) return `Consumer ${name}: basicauth_credentials[${i}] needs username and password hash (${PASSWORD_HASH_SCHEME})`;
    }
    for (const [i, h] of (c.hmacauth_credentials ?? []).entries()) {
      if (!h.username || !h.secret) return `Consumer ${name}: hmacauth_credentials[${i}] needs username and secret`;
    }
    if ((c.keyauth_credentials?.length || c.basicauth_credentials?.length) && !c.credential_salt) return `Consumer ${name}: credentials without credential_salt`;
  }
  return undefined;
}

/** Why a set of RoutePolicy messages cannot be enforced, or undefined. */
export function policiesProblem(resources: ReadonlyMap<string, RoutePolicyMessage>): string | undefined {
  for (const [name, r] of resources) {
    if (!name) return `${AUTHZ_TYPE.routePolicy}: a resource has no name`;
    if (r.jwt) {
      if (!r.jwt.key_claim_name) return `RoutePolicy ${name}: jwt.key_claim_name is empty`;
      if ((r.jwt.claims_to_verify ?? []).some((c) => c !== 'exp' && c !== 'nbf')) return `RoutePolicy ${name}: jwt.claims_to_verify holds something other than exp and nbf`;
    }
    if (r.session && (r.session.secret ?? '').length < 32) return `RoutePolicy ${name}: session.secret must be at least 32 characters`;
    if (r.hmac_auth) {
      if (!(Number(r.hmac_auth.clock_skew ?? 0) > 0)) return `RoutePolicy ${name}: hmac_auth.clock_skew must be above 0`;
      if (!(r.hmac_auth.algorithms ?? []).length || (r.hmac_auth.algorithms ?? []).some((a) => !HMAC_DIGESTS.has(a))) return `RoutePolicy ${name}: hmac_auth.algorithms must list only hmac-sha1, -sha224, -sha256, -sha384, -sha512`;
    }
    if (r.acl && ((r.acl.allow ?? []).length > 0) === ((r.acl.deny ?? []).length > 0)) return `RoutePolicy ${name}: acl needs exactly one of allow and deny`;
    if (r.ldap_auth) {
      const l = r.ldap_auth;
      if (!l.ldap_host || !l.base_dn || !l.attribute || !l.header_type) return `RoutePolicy ${name}: ldap_auth needs ldap_host, base_dn, attribute and header_type`;
      if (!Number.isInteger(l.ldap_port) || !(Number(l.ldap_port) > 0 && Number(l.ldap_port) <= 65535)) return `RoutePolicy ${name}: ldap_auth.ldap_port must be 1 to 65535`;
      if (l.ldaps && l.start_tls) return `RoutePolicy ${name}: ldap_auth cannot have both ldaps and start_tls`;
    }
  }
  return undefined;
}

const CHECKS: { [U in AuthzTypeUrl]: (resources: ReadonlyMap<string, AuthzResourceTypes[U]>) => string | undefined } = {
  [AUTHZ_TYPE.consumer]: consumersProblem,
  [AUTHZ_TYPE.routePolicy]: policiesProblem,
};

/** Why a set of decoded resources of one authz type cannot be used (the AdsClient NACKs it with this text), or undefined. */
export function authzResourcesProblem<U extends AuthzTypeUrl>(typeUrl: U, resources: ReadonlyMap<string, AuthzResourceTypes[U]>): string | undefined {
  return CHECKS[typeUrl](resources);
}

/** A Jwk message → the JWK (RFC 7517 member names; members proto3 leaves empty are absent). */
function jwkFrom({ x5t_s256: x5tS256, ...members }: Jwk): Record<string, unknown> {
  const jwk: Record<string, unknown> = Object.fromEntries(Object.entries(members).filter(([, v]) => v !== '' && v !== undefined && !(Array.isArray(v) && v.length === 0)));
  if (x5tS256) jwk['x5t#S256'] = x5tS256;
  return jwk;
}

/** The engine's policy of one RoutePolicy message (an unset plugin message is null once decoded). */
function policyFrom(name: string, m: RoutePolicyMessage): RoutePolicy {
  const plugins: RoutePolicy['plugins'] = {};
  if (m.jwt) plugins.jwt = m.jwt;
  if (m.key_auth) plugins['key-auth'] = m.key_auth;
  if (m.basic_auth) plugins['basic-auth'] = m.basic_auth;
  if (m.hmac_auth) plugins['hmac-auth'] = m.hmac_auth;
  if (m.ldap_auth) plugins['ldap-auth'] = m.ldap_auth;
  if (m.session) plugins.session = m.session;
  if (m.acl) plugins.acl = m.acl;
  return { routeId: m.name || name, plugins };
}

/** Decoded `Consumer` and `RoutePolicy` messages (by resource name) → the engine's snapshot. */
export function snapshotFromResources(consumers: ReadonlyMap<string, Consumer>, policies: ReadonlyMap<string, RoutePolicyMessage>): AuthzSnapshot {
  const snap: Required<AuthzSnapshot> = { consumers: [], jwtSecrets: [], keyauthCredentials: [], basicauthCredentials: [], hmacauthCredentials: [], acls: [], policies: [] };
  for (const [name, c] of consumers) {
    const id = c.id || name;
    snap.consumers.push({ id, groups: c.groups ?? [], ...(c.username ? { username: c.username } : {}), ...(c.custom_id ? { customId: c.custom_id } : {}) });
    for (const s of c.jwt_secrets ?? []) {
      const alg = s.algorithm || 'HS256';
      const secret: JwtSecret = { consumerId: id, key: s.key ?? '', algorithm: isAlgorithm(alg) ? alg : 'HS256' };
      if (s.id) secret.id = s.id;
      if (s.secret) secret.secret = s.secret;
      if (s.rsa_public_key) secret.rsaPublicKey = s.rsa_public_key;
      if (s.jwks) secret.jwks = { keys: (s.jwks.keys ?? []).map(jwkFrom) };
      if (s.jwks_uri) secret.jwksUri = s.jwks_uri;
      snap.jwtSecrets.push(secret);
    }
    const salt = c.credential_salt ?? '';
    for (const k of c.keyauth_credentials ?? []) snap.keyauthCredentials.push({ consumerId: id, keyHash: k.key_hash ?? '', salt, ...(k.id ? { id: k.id } : {}) });
    for (const b of c.basicauth_credentials ?? []) {
      snap.basicauthCredentials.push({ consumerId: id, username: b.username ?? '', passwordHash: b.password_hash ?? '', salt, ...(b.id ? { id: b.id } : {}) });
    }
    for (const h of c.hmacauth_credentials ?? []) {
      snap.hmacauthCredentials.push({ consumerId: id, username: h.username ?? '', secret: h.secret ?? '', ...(h.id ? { id: h.id } : {}) });
    }
  }
  for (const [name, raw] of policies) snap.policies.push(policyFrom(name, raw));
  return snap;
}
