/**
 * The authz companion's resources (proto/frontdesk/authz/v1/authz.proto) both ways:
 * IR → `Consumer` and `RoutePolicy` bodies (proto3 JSON), built by the ext_authz filter's
 * companions() hook on the control plane; and the bodies an AdsClient decoded → the engine's
 * AuthzSnapshot, on the authz service. Pure: no I/O, no clock, no logger.
 */
import { createHash } from 'node:crypto';
import type { IrRoute } from '../ir/types.js';
import type { Consumer } from '../model/types.js';
import type {
  AclConfig, AuthzSnapshot, BasicAuthConfig, JsonWebKeySet, JwtAlgorithm, JwtConfig, JwtSecret, KeyAuthConfig, RoutePolicy,
} from './types.js';
import { JWT_ALGORITHMS } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** The type URLs of the authz companion's resources. */
export const AUTHZ_TYPE = {
  consumer: 'type.googleapis.com/frontdesk.authz.v1.Consumer',
  routePolicy: 'type.googleapis.com/frontdesk.authz.v1.RoutePolicy',
} as const;

export type AuthzTypeUrl = (typeof AUTHZ_TYPE)[keyof typeof AUTHZ_TYPE];

/** The plugins the authz service enforces; a route with any of them is checked by ext_authz. */
export const AUTH_PLUGINS = ['jwt', 'key-auth', 'basic-auth', 'acl'] as const;
export type AuthPluginName = (typeof AUTH_PLUGINS)[number];

/** Whether Envoy must ask authz about requests on this route. */
export function hasAuthPlugin(route: Pick<IrRoute, 'plugins'>): boolean {
  return AUTH_PLUGINS.some((p) => route.plugins[p] !== undefined);
}

/** The name of a route's policy, also sent by Envoy as the context extension `route`. */
export function policyName(route: Pick<IrRoute, 'routeName'>): string {
  return route.routeName;
}

/**
 * The id a consumer is known by (X-Consumer-ID, metadata consumer_id): its `id` when the file
 * gives one, else a UUID derived from its username (or custom_id), stable across reloads.
 * Kong generates an id for every consumer; giving `id` in the file pins it.
 */
export function consumerId(c: Pick<Consumer, 'id' | 'key'>): string {
  if (c.id) return c.id;
  const h = createHash('sha256').update(`frontdesk:consumer:${c.key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A resource body as the companions() hook returns it. */
export interface AuthzResource {
  typeUrl: AuthzTypeUrl;
  name: string;
  body: JsonObject;
}

const JWK_MEMBERS = ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e', 'k', 'x5t'] as const;

/** The public members of a JWK, typed; private members (d, p, q, ...) are never sent. */
function jwkBody(jwk: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const m of JWK_MEMBERS) if (typeof jwk[m] === 'string') out[m] = jwk[m] as string;
  if (Array.isArray(jwk.key_ops)) out.key_ops = jwk.key_ops.filter((x): x is string => typeof x === 'string');
  if (Array.isArray(jwk.x5c)) out.x5c = jwk.x5c.filter((x): x is string => typeof x === 'string');
  if (typeof jwk['x5t#S256'] === 'string') out.x5t_s256 = jwk['x5t#S256'] as string;
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Removes undefined fields and empty lists (proto3 does not tell them from absent ones). */
function clean(o: Record<string, Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false || v === '' || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

/** One `Consumer` resource per consumer, named by its id; groups from its acls. */
export function buildConsumerResources(consumers: readonly Consumer[]): AuthzResource[] {
  const out = new Map<string, AuthzResource>();
  for (const c of consumers) {
    const id = consumerId(c);
    const body = clean({
      name: id,
      id,
      username: c.username,
      custom_id: c.custom_id,
      groups: [...new Set(c.acls.map((a) => a.group))],
      jwt_secrets: c.jwt_secrets.filter((s) => str(s.key) !== undefined).map((s) => clean({
        id: s.id,
        key: s.key,
        algorithm: s.algorithm,
        secret: s.secret,
        rsa_public_key: s.rsa_public_key,
        jwks: s.jwks ? { keys: s.jwks.keys.map(jwkBody) } : undefined,
        jwks_uri: s.jwks_uri,
      })),
      keyauth_credentials: c.keyauth_credentials.map((k) => clean({ id: k.id, key: k.key })),
      basicauth_credentials: c.basicauth_credentials.map((b) => clean({ id: b.id, username: b.username, password: b.password })),
    });
    out.set(id, { typeUrl: AUTHZ_TYPE.consumer, name: id, body });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** One `RoutePolicy` per Kong route that has an auth plugin (its paths share the policy). */
export function buildRoutePolicies(routes: readonly IrRoute[]): AuthzResource[] {
  const out = new Map<string, AuthzResource>();
  for (const r of routes) {
    if (!hasAuthPlugin(r)) continue;
    const name = policyName(r);
    if (out.has(name)) continue;
    const jwt = r.plugins.jwt?.feature;
    const keyAuth = r.plugins['key-auth']?.feature;
    const basic = r.plugins['basic-auth']?.feature;
    const acl = r.plugins.acl?.feature;
    const body: JsonObject = { name };
    if (jwt) {
      body.jwt = clean({
        uri_param_names: jwt.uri_param_names, cookie_names: jwt.cookie_names, header_names: jwt.header_names,
        key_claim_name: jwt.key_claim_name, secret_is_base64: jwt.secret_is_base64, claims_to_verify: jwt.claims_to_verify ?? [],
        anonymous: jwt.anonymous, run_on_preflight: jwt.run_on_preflight, maximum_expiration: jwt.maximum_expiration, realm: jwt.realm,
      });
    }
    if (keyAuth) {
      body.key_auth = clean({
        key_names: keyAuth.key_names, hide_credentials: keyAuth.hide_credentials, anonymous: keyAuth.anonymous,
        key_in_header: keyAuth.key_in_header, key_in_query: keyAuth.key_in_query, key_in_body: keyAuth.key_in_body,
        run_on_preflight: keyAuth.run_on_preflight, realm: keyAuth.realm,
      });
    }
    if (basic) body.basic_auth = clean({ anonymous: basic.anonymous, hide_credentials: basic.hide_credentials, realm: basic.realm });
    if (acl) {
      body.acl = clean({
        allow: acl.allow ?? [], deny: acl.deny ?? [], hide_groups_header: acl.hide_groups_header,
        include_consumer_groups: acl.include_consumer_groups, always_use_authenticated_groups: acl.always_use_authenticated_groups,
      });
    }
    out.set(name, { typeUrl: AUTHZ_TYPE.routePolicy, name, body });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---- the service side: decoded bodies → AuthzSnapshot ----------------------------------

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');
const bool = (v: unknown): boolean => v === true;

/**
 * Why a set of decoded resources cannot be used (the AdsClient NACKs it with this text), or
 * undefined. The text names resources and fields, never a credential.
 */
export function authzResourcesProblem(typeUrl: string, resources: Map<string, unknown>): string | undefined {
  for (const [name, raw] of resources) {
    const r = obj(raw);
    if (!name) return `${typeUrl}: a resource has no name`;
    if (typeUrl === AUTHZ_TYPE.consumer) {
      if (!str(r.id)) return `Consumer ${name}: no id`;
      for (const [i, s] of list(r.jwt_secrets).entries()) {
        const secret = obj(s);
        if (!str(secret.key)) return `Consumer ${name}: jwt_secrets[${i}] has no key`;
        const alg = str(secret.algorithm) ?? 'HS256';
        if (!(JWT_ALGORITHMS as readonly string[]).includes(alg)) return `Consumer ${name}: jwt_secrets[${i}] has an unknown algorithm "${alg}"`;
      }
      for (const [i, k] of list(r.keyauth_credentials).entries()) if (!str(obj(k).key)) return `Consumer ${name}: keyauth_credentials[${i}] has no key`;
      for (const [i, b] of list(r.basicauth_credentials).entries()) {
        if (!str(obj(b).username) || !str(obj(b).password)) return `Consumer ${name}: basicauth_credentials[${i}] needs username and password`;
      }
    } else if (typeUrl === AUTHZ_TYPE.routePolicy) {
      if (r.jwt !== undefined) {
        const j = obj(r.jwt);
        if (!str(j.key_claim_name)) return `RoutePolicy ${name}: jwt.key_claim_name is empty`;
        if (strings(j.claims_to_verify).some((c) => c !== 'exp' && c !== 'nbf')) return `RoutePolicy ${name}: jwt.claims_to_verify holds something other than exp and nbf`;
      }
      if (r.acl !== undefined) {
        const a = obj(r.acl);
        if ((strings(a.allow).length > 0) === (strings(a.deny).length > 0)) return `RoutePolicy ${name}: acl needs exactly one of allow and deny`;
      }
    }
  }
  return undefined;
}

function jwksFrom(v: unknown): JsonWebKeySet {
  return {
    keys: list(obj(v).keys).map((k) => {
      const jwk: Record<string, unknown> = { ...obj(k) };
      if (jwk.x5t_s256 !== undefined) { jwk['x5t#S256'] = jwk.x5t_s256; delete jwk.x5t_s256; }
      return jwk;
    }),
  };
}

function policyFrom(name: string, raw: unknown): RoutePolicy {
  const r = obj(raw);
  const plugins: RoutePolicy['plugins'] = {};
  if (r.jwt !== undefined) {
    const j = obj(r.jwt);
    const claims = strings(j.claims_to_verify) as Array<'exp' | 'nbf'>;
    const jwt: JwtConfig = {
      uri_param_names: strings(j.uri_param_names), cookie_names: strings(j.cookie_names), header_names: strings(j.header_names),
      key_claim_name: str(j.key_claim_name) ?? 'iss', secret_is_base64: bool(j.secret_is_base64),
      run_on_preflight: bool(j.run_on_preflight), maximum_expiration: typeof j.maximum_expiration === 'number' ? j.maximum_expiration : 0,
      ...(claims.length ? { claims_to_verify: claims } : {}),
      anonymous: str(j.anonymous),
      ...(str(j.realm) ? { realm: str(j.realm) } : {}),
    };
    plugins.jwt = jwt;
  }
  if (r.key_auth !== undefined) {
    const k = obj(r.key_auth);
    const keyAuth: KeyAuthConfig = {
      key_names: strings(k.key_names), hide_credentials: bool(k.hide_credentials), key_in_header: bool(k.key_in_header),
      key_in_query: bool(k.key_in_query), key_in_body: bool(k.key_in_body), run_on_preflight: bool(k.run_on_preflight),
      anonymous: str(k.anonymous),
      ...(str(k.realm) ? { realm: str(k.realm) } : {}),
    };
    plugins['key-auth'] = keyAuth;
  }
  if (r.basic_auth !== undefined) {
    const b = obj(r.basic_auth);
    const basic: BasicAuthConfig = {
      hide_credentials: bool(b.hide_credentials), realm: str(b.realm) ?? 'service', anonymous: str(b.anonymous),
    };
    plugins['basic-auth'] = basic;
  }
  if (r.acl !== undefined) {
    const a = obj(r.acl);
    const acl: AclConfig = {
      hide_groups_header: bool(a.hide_groups_header), include_consumer_groups: bool(a.include_consumer_groups),
      always_use_authenticated_groups: bool(a.always_use_authenticated_groups),
      ...(strings(a.allow).length ? { allow: strings(a.allow) } : {}),
      ...(strings(a.deny).length ? { deny: strings(a.deny) } : {}),
    };
    plugins.acl = acl;
  }
  return { routeId: str(r.name) ?? name, plugins };
}

/** Decoded `Consumer` and `RoutePolicy` resources (proto3 JSON, by name) → the engine's snapshot. */
export function snapshotFromResources(consumers: Map<string, unknown>, policies: Map<string, unknown>): AuthzSnapshot {
  const snap: Required<AuthzSnapshot> = { consumers: [], jwtSecrets: [], keyauthCredentials: [], basicauthCredentials: [], acls: [], policies: [] };
  for (const [name, raw] of consumers) {
    const c = obj(raw);
    const id = str(c.id) ?? name;
    snap.consumers.push({
      id, groups: strings(c.groups),
      ...(str(c.username) ? { username: str(c.username) } : {}),
      ...(str(c.custom_id) ? { customId: str(c.custom_id) } : {}),
    });
    for (const s of list(c.jwt_secrets)) {
      const j = obj(s);
      const secret: JwtSecret = { consumerId: id, key: str(j.key) ?? '', algorithm: (str(j.algorithm) ?? 'HS256') as JwtAlgorithm };
      if (str(j.id)) secret.id = str(j.id);
      if (str(j.secret)) secret.secret = str(j.secret);
      if (str(j.rsa_public_key)) secret.rsaPublicKey = str(j.rsa_public_key);
      if (j.jwks !== undefined) secret.jwks = jwksFrom(j.jwks);
      if (str(j.jwks_uri)) secret.jwksUri = str(j.jwks_uri);
      snap.jwtSecrets.push(secret);
    }
    for (const k of list(c.keyauth_credentials)) {
      const cred = obj(k);
      snap.keyauthCredentials.push({ consumerId: id, key: str(cred.key) ?? '', ...(str(cred.id) ? { id: str(cred.id) } : {}) });
    }
    for (const b of list(c.basicauth_credentials)) {
      const cred = obj(b);
      snap.basicauthCredentials.push({
        consumerId: id, username: str(cred.username) ?? '', password: str(cred.password) ?? '', ...(str(cred.id) ? { id: str(cred.id) } : {}),
      });
    }
  }
  for (const [name, raw] of policies) snap.policies.push(policyFrom(name, raw));
  return snap;
}
