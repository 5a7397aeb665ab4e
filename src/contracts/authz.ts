/**
 * The authz companion's contract (proto/frontdesk/authz/v1/authz.proto): its type URLs, its
 * messages (types generated from the .proto), and the IR → `Consumer` / `RoutePolicy`
 * resources the ext_authz filter's companions() hook serves. The authz service reads the same
 * messages, decoded by protobufjs. Pure: no I/O, no clock, no logger.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { GatewayIR, IrRoute } from '../ir/types.js';
import { LOG_PHASE_PLUGINS } from '../log-phase-plugins.js';
import { byName, companionResource, contentAddressedResource, type CompanionResource } from './companion.js';
import { DEFAULT_CREDENTIAL_SALT, hashKey, hashPassword } from './credential-hash.js';
import type { AclPlugin, AclPlugin__Output } from './generated/frontdesk/authz/v1/AclPlugin.js';
import type { BasicAuthPlugin, BasicAuthPlugin__Output } from './generated/frontdesk/authz/v1/BasicAuthPlugin.js';
import type { Consumer, Consumer__Output } from './generated/frontdesk/authz/v1/Consumer.js';
import type { HmacAuthPlugin, HmacAuthPlugin__Output } from './generated/frontdesk/authz/v1/HmacAuthPlugin.js';
import type { Jwk } from './generated/frontdesk/authz/v1/Jwk.js';
import type { JwtPlugin, JwtPlugin__Output } from './generated/frontdesk/authz/v1/JwtPlugin.js';
import type { KeyAuthPlugin, KeyAuthPlugin__Output } from './generated/frontdesk/authz/v1/KeyAuthPlugin.js';
import type { LdapAuthPlugin, LdapAuthPlugin__Output } from './generated/frontdesk/authz/v1/LdapAuthPlugin.js';
import type { RoutePolicy, RoutePolicy__Output } from './generated/frontdesk/authz/v1/RoutePolicy.js';
import type { SessionPlugin, SessionPlugin__Output } from './generated/frontdesk/authz/v1/SessionPlugin.js';

export type { AclPlugin, BasicAuthPlugin, Consumer, HmacAuthPlugin, JwtPlugin, KeyAuthPlugin, LdapAuthPlugin, RoutePolicy, SessionPlugin };
export type {
  AclPlugin__Output, BasicAuthPlugin__Output, Consumer__Output, HmacAuthPlugin__Output, JwtPlugin__Output, KeyAuthPlugin__Output, LdapAuthPlugin__Output, RoutePolicy__Output,
  SessionPlugin__Output,
};
export type { Jwk, Jwk__Output } from './generated/frontdesk/authz/v1/Jwk.js';
export type { JwtSecret, JwtSecret__Output } from './generated/frontdesk/authz/v1/JwtSecret.js';

/** The type URLs of the authz companion's resources. */
export const AUTHZ_TYPE = {
  consumer: 'type.googleapis.com/frontdesk.authz.v1.Consumer',
  routePolicy: 'type.googleapis.com/frontdesk.authz.v1.RoutePolicy',
} as const;

export type AuthzTypeUrl = (typeof AUTHZ_TYPE)[keyof typeof AUTHZ_TYPE];

/** Each authz type URL's message, as a companion decodes it (every field present, proto3 defaults). */
export interface AuthzMessages {
  [AUTHZ_TYPE.consumer]: Consumer__Output;
  [AUTHZ_TYPE.routePolicy]: RoutePolicy__Output;
}

/** The plugins the authz service enforces; a route with any of them is checked by ext_authz. */
export const AUTH_PLUGINS = ['jwt', 'key-auth', 'ldap-auth', 'basic-auth', 'hmac-auth', 'acl', 'session'] as const;
export type AuthPluginName = (typeof AUTH_PLUGINS)[number];

/**
 * The upstream headers that carry identity. Every allowed request leaves with exactly the ones
 * the plugins set; a client-sent copy of any of them is always removed, even where Kong would
 * pass it through (no auth plugin ran, or hide_groups_header). The authz service removes them;
 * with authz failing open, an Envoy filter does (resources/filters/ext-authz.ts).
 */
export const IDENTITY_HEADERS = [
  'x-consumer-id', 'x-consumer-custom-id', 'x-consumer-username', 'x-credential-identifier',
  'x-anonymous-consumer', 'x-consumer-groups', 'x-authenticated-groups', 'x-credential-username',
] as const;

/** The context extension that names the route's policy, its content hash (set per route by the ext_authz filter). */
export const ROUTE_CONTEXT_KEY = 'route';

/** Whether the route has an auth plugin (whoever enforces it: Envoy or the authz companion). */
export function hasAuthPlugin(route: Pick<IrRoute, 'plugins'>): boolean {
  // A loop, not some() with a closure: the filters' scans ask this of every route, each build.
  const { plugins } = route;
  for (let i = 0; i < AUTH_PLUGINS.length; i++) if (plugins[AUTH_PLUGINS[i]!] !== undefined) return true;
  return false;
}

/** Who checks a route's auth plugins: Envoy's own filters, or the authz companion over ext_authz. */
export type AuthEnforcer = 'envoy' | 'authz';

/** The auth plugins Envoy can check itself, with Kong's behaviour (resources/filters/native-auth.ts). */
const NATIVE_AUTH_PLUGINS: ReadonlySet<string> = new Set(['jwt', 'key-auth', 'basic-auth', 'acl']);

const secretBlockers = new WeakMap<readonly unknown[], string | undefined>();

type JwtSecretOf = GatewayIR['consumers'][number]['jwt_secrets'][number];

/**
 * A jwt_secret as the one key of an Envoy local JWKS (RFC 7517): HS* as an `oct` key of the
 * secret's bytes, the others as the public key of rsa_public_key; `alg` is always set, so Envoy
 * accepts that algorithm only for the key (no algorithm confusion). Undefined when the secret
 * has no such key (no secret, a JWKS, a key Node cannot read).
 */
export function nativeJwk(s: JwtSecretOf): Record<string, string> | undefined {
  if (s.jwks || s.jwks_uri || !s.key) return undefined;
  const alg = s.algorithm;
  if (alg.startsWith('HS')) return s.secret ? { kty: 'oct', alg, k: Buffer.from(s.secret, 'utf8').toString('base64url') } : undefined;
  if (!s.rsa_public_key) return undefined;
  try {
    const jwk = createPublicKey(s.rsa_public_key).export({ format: 'jwk' }) as Record<string, string>;
    return { ...jwk, alg };
  } catch {
    return undefined;
  }
}

/** Why not every jwt credential of these consumers can be checked by Envoy, or undefined. */
export function jwtSecretsNativeBlocker(consumers: GatewayIR['consumers']): string | undefined {
  if (secretBlockers.has(consumers)) return secretBlockers.get(consumers);
  const s = consumers.flatMap((c) => c.jwt_secrets).find((x) => x.key && !nativeJwk(x));
  const why = s ? `jwt_secret "${s.key}" ${s.jwks || s.jwks_uri ? 'has a JWKS (its kid and refresh rules are the companion\'s)' : 'has no key Envoy can take'}` : undefined;
  secretBlockers.set(consumers, why);
  return why;
}

const keyBlockers = new WeakMap<readonly unknown[], string | undefined>();

/** A key Envoy carries unchanged in a header value (printable ASCII, no space at either end, no "Bearer " that api_key_auth would strip). */
const HEADER_SAFE_KEY = /^(?!Bearer )[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Why not every key-auth credential of these consumers can be checked by Envoy, or undefined. */
export function keySecretsNativeBlocker(consumers: GatewayIR['consumers']): string | undefined {
  if (keyBlockers.has(consumers)) return keyBlockers.get(consumers);
  let why: string | undefined;
  for (const c of consumers) {
    for (const k of c.keyauth_credentials) {
      if (k.ttl) why ??= `a keyauth_credential of "${c.key}" has a ttl`;
      else if (!HEADER_SAFE_KEY.test(k.key)) why ??= `a keyauth_credential of "${c.key}" has a key Envoy cannot carry in a header unchanged`;
    }
  }
  keyBlockers.set(consumers, why);
  return why;
}

/** A username an htpasswd line and a header value carry unchanged: no ":", no control character, no leading "#", no space at either end. */
const HTPASSWD_SAFE_USERNAME = /^(?![#\s])[^:\x00-\x1f\x7f]+(?<!\s)$/;

const basicBlockers = new WeakMap<readonly unknown[], string | undefined>();

/**
 * Why not every basic-auth credential of these consumers can be checked by Envoy, or undefined.
 * basic_auth takes its users as htpasswd lines (`username:{SHA}...`, one a line, a `#` line a
 * comment) and forwards the username in a request header: a username with ":" (which Kong can
 * never match either: it splits at the first ":"), a line break or another control character,
 * a leading "#" or a space at either end cannot be written there unchanged.
 */
export function basicSecretsNativeBlocker(consumers: GatewayIR['consumers']): string | undefined {
  if (basicBlockers.has(consumers)) return basicBlockers.get(consumers);
  let why: string | undefined;
  for (const c of consumers) {
    for (const b of c.basicauth_credentials) {
      if (!HTPASSWD_SAFE_USERNAME.test(b.username)) why ??= `a basicauth_credential of "${c.key}" has a username Envoy's htpasswd cannot hold unchanged`;
    }
  }
  basicBlockers.set(consumers, why);
  return why;
}

/**
 * Who checks a route's auth plugins, and, when it is the companion although no plugin asked for
 * it, why. All of a route's auth plugins are checked by one enforcer (Kong's anonymous chaining
 * and acl depend on what the others decided): Envoy when there is one of jwt, key-auth and
 * basic-auth, with acl or not, and its definition (`enforcers`) and the credentials allow it;
 * the companion otherwise.
 */
export function authEnforcer(route: Pick<IrRoute, 'plugins'>, consumers: GatewayIR['consumers']): EnforcerChoice | undefined {
  const memo = enforcerMemo.get(route.plugins);
  if (memo?.consumers === consumers) return memo.choice;
  const choice = hasAuthPlugin(route) ? chooseEnforcer(route, consumers) : undefined;
  enforcerMemo.set(route.plugins, { consumers, choice });
  return choice;
}

type EnforcerChoice = { readonly enforcer: AuthEnforcer; readonly why?: string };

/**
 * authEnforcer's answer by the route's plugins object and the consumers it was given: the
 * filters of a listener ask it several times per route and build, and an unchanged route keeps
 * its plugins object from build to build (ir/ incremental by identity).
 */
const enforcerMemo = new WeakMap<object, { consumers: GatewayIR['consumers']; choice: EnforcerChoice | undefined }>();

function chooseEnforcer(route: Pick<IrRoute, 'plugins'>, consumers: GatewayIR['consumers']): EnforcerChoice {
  const present = AUTH_PLUGINS.filter((p) => route.plugins[p] !== undefined);
  for (const p of present) {
    if (!NATIVE_AUTH_PLUGINS.has(p)) return { enforcer: 'authz', why: `${p} is served by the authz companion` };
    const feature = route.plugins[p]!.feature as { enforcer?: string };
    if (feature.enforcer === 'companion') return { enforcer: 'authz', why: `${p} asks for enforcer: companion` };
  }
  const jwt = route.plugins.jwt?.feature;
  const key = route.plugins['key-auth']?.feature;
  const basic = route.plugins['basic-auth']?.feature;
  const auth = present.filter((p) => p !== 'acl');
  if (auth.length > 1) return { enforcer: 'authz', why: `${auth.join(' and ')} on one route (Kong's chaining of auth plugins is the companion's)` };
  if (!auth.length) return { enforcer: 'authz', why: 'acl without an auth plugin: the consumer comes from the authz companion' };
  const blocked = jwt ? jwt.nativeBlocker ?? jwtSecretsNativeBlocker(consumers)
    : key ? key.nativeBlocker ?? keySecretsNativeBlocker(consumers)
      : basic!.nativeBlocker ?? basicSecretsNativeBlocker(consumers);
  return blocked ? { enforcer: 'authz', why: blocked } : { enforcer: 'envoy' };
}

/**
 * On a route Envoy checks itself, why its accepted requests still run Lua (the token and decide
 * scripts of resources/filters/native-auth-lua.ts), or undefined when they run none: a request
 * with one well-formed credential in its usual place is then found, verified and turned into
 * Kong's consumer headers by Envoy's own filters (resources/filters/native-accept.ts), and Lua
 * runs only for the requests that need Kong's exact answers (refusals, other token sources).
 * What needs Lua on success: jwt's anonymous, cookie_names, header_names other than
 * Authorization alone, a uri_param_name over MAX_SKIP_NAME characters; key-auth's
 * hide_credentials, anonymous, a key not read from a header, a first key name with "_" (nginx
 * finds it under "-" too), run_on_preflight off; basic-auth. jwt's claims_to_verify and
 * maximum_expiration are checked without Lua (native-accept.ts).
 */
/** The longest query parameter name the token script's skip condition can hold (one RE2 regex each, which Envoy caps at a program size of 100). */
export const MAX_SKIP_NAME = 48;

export function nativeLuaOnSuccess(route: Pick<IrRoute, 'plugins'>): string | undefined {
  const jwt = route.plugins.jwt?.feature;
  if (jwt) {
    if (jwt.anonymous !== undefined) return 'jwt anonymous';
    if (jwt.cookie_names.length) return 'jwt cookie_names';
    if (jwt.uri_param_names.some((n) => n.length > MAX_SKIP_NAME)) return `jwt uri_param_names longer than ${MAX_SKIP_NAME} characters`;
    if (jwt.header_names.length !== 1 || jwt.header_names[0]!.toLowerCase() !== 'authorization') return 'jwt header_names other than authorization';
    return undefined;
  }
  const key = route.plugins['key-auth']?.feature;
  if (key) {
    if (key.hide_credentials) return 'key-auth hide_credentials';
    if (key.anonymous !== undefined) return 'key-auth anonymous';
    if (!key.key_in_header || !key.key_names.length) return 'key-auth key not in a header';
    if (key.key_names[0]!.includes('_')) return 'key-auth key name with "_"';
    if (!key.run_on_preflight) return 'key-auth run_on_preflight off';
    return undefined;
  }
  if (route.plugins['basic-auth']) return 'basic-auth';
  return undefined;
}

/**
 * The plugins that never read the consumer from dynamic metadata (consumer_id, consumer_username,
 * credential_id under ext_authz's namespace): auth and acl themselves, and those that read only
 * the request. Every other plugin may (the logs and tracing name the consumer; proxy-cache,
 * prometheus), and so may rate-limiting by consumer or credential.
 */
const NO_CONSUMER_METADATA: ReadonlySet<string> = new Set([
  'jwt', 'key-auth', 'ldap-auth', 'basic-auth', 'hmac-auth', 'acl', 'session', 'bot-detection', 'cors', 'ip-restriction', 'redirect', 'request-size-limiting', 'request-termination', 'correlation-id',
  'request-transformer', 'response-transformer', 'grpc-web', 'grpc-gateway',
]);

/**
 * Whether something on this route reads the consumer Envoy's own filters set from dynamic
 * metadata: a plugin of the route or a global one outside NO_CONSUMER_METADATA, rate-limiting
 * whose identifier is the consumer or the credential (Kong's get_identifier), or any
 * consumer-scoped plugin (a limit per consumer is found by its consumer_id).
 */
export function readsConsumerMetadata(route: Pick<IrRoute, 'plugins' | 'consumerPlugins'>, globalPlugins: IrRoute['plugins']): boolean {
  if (Object.keys(route.consumerPlugins).length) return true;
  for (const plugins of [route.plugins, globalPlugins]) {
    for (const name of Object.keys(plugins)) {
      if (name === 'rate-limiting') {
        const by = plugins['rate-limiting']!.feature.limit_by;
        if (by === 'consumer' || by === 'credential') return true;
      } else if (!NO_CONSUMER_METADATA.has(name)) return true;
    }
  }
  return false;
}

/**
 * The plugins whose Envoy side acts on a whole listener (its access logs, its tracer, its
 * metrics logger): one on any route of a listener may read the consumer of every request there.
 * They are the log-phase plugins.
 */
export const LISTENER_WIDE_READERS: ReadonlySet<string> = LOG_PHASE_PLUGINS;

/** Whether Envoy must ask authz about requests on this route. */
export function servedByAuthz(route: Pick<IrRoute, 'plugins'>, consumers: GatewayIR['consumers']): boolean {
  return authEnforcer(route, consumers)?.enforcer === 'authz';
}

/** Whether Envoy checks this route's auth plugins itself. */
export function servedNatively(route: Pick<IrRoute, 'plugins'>, consumers: GatewayIR['consumers']): boolean {
  return authEnforcer(route, consumers)?.enforcer === 'envoy';
}

const policyResources = new WeakMap<IrRoute, CompanionResource>();

/** A route's `RoutePolicy` resource, named by its content (computed once per IR route). */
export function routePolicyResource(route: IrRoute): CompanionResource {
  let r = policyResources.get(route);
  if (!r) policyResources.set(route, (r = contentAddressedResource(AUTHZ_TYPE.routePolicy, routePolicyMessage(route))));
  return r;
}

/**
 * The name of a route's policy, a hash of its content, also sent by Envoy as the context
 * extension `route`: Envoy names the exact policy its routes were compiled with, so an
 * authz that also holds an older version's policies answers each Envoy by the routes it has.
 */
export function policyName(route: IrRoute): string {
  return routePolicyResource(route).name;
}

/**
 * The id a consumer is known by (X-Consumer-ID, metadata consumer_id): the loader gives every
 * consumer the id Kong would (the file's, else Kong's uuid5 of its username,
 * model/load/kong-ids.ts); a consumer built without one gets a UUID derived from its key.
 */
export function consumerId(c: { id?: string; key: string }): string {
  if (c.id) return c.id;
  const h = createHash('sha256').update(`frontdesk:consumer:${c.key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const JWK_MEMBERS = ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e', 'k', 'x5t'] as const;
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);

/** The public members of a JWK (RFC 7517 names; x5t#S256 is the message's x5t_s256); private members (d, p, q, ...) are never sent. */
export function publicJwk(jwk: Record<string, unknown>): Jwk {
  const out: Jwk = {};
  for (const m of JWK_MEMBERS) {
    const v = jwk[m];
    if (typeof v === 'string') out[m] = v;
  }
  const keyOps = strings(jwk.key_ops);
  const x5c = strings(jwk.x5c);
  const x5tS256 = jwk['x5t#S256'];
  return { ...out, ...(keyOps ? { key_ops: keyOps } : {}), ...(x5c ? { x5c } : {}), ...(typeof x5tS256 === 'string' ? { x5t_s256: x5tS256 } : {}) };
}

/**
 * One `Consumer` message: the consumer, its credentials (keys and passwords as hashes salted
 * with `salt`, see credential-hash.ts; jwt and hmac-auth secrets as written, since a signature
 * is checked with the secret itself), and the groups of its acls.
 */
export function consumerMessage(c: GatewayIR['consumers'][number], salt = DEFAULT_CREDENTIAL_SALT): Consumer {
  const id = consumerId(c);
  return {
    name: id,
    id,
    username: c.username,
    custom_id: c.custom_id,
    groups: [...new Set(c.acls.map((a) => a.group))],
    jwt_secrets: c.jwt_secrets.filter((s) => s.key).map((s) => ({
      id: s.id, key: s.key, algorithm: s.algorithm, secret: s.secret, rsa_public_key: s.rsa_public_key,
      jwks: s.jwks ? { keys: s.jwks.keys.map(publicJwk) } : undefined,
      jwks_uri: s.jwks_uri,
    })),
    keyauth_credentials: c.keyauth_credentials.map((k) => ({ id: k.id, key_hash: hashKey(salt, k.key) })),
    basicauth_credentials: c.basicauth_credentials.map((b) => ({ id: b.id, username: b.username, password_hash: hashPassword(salt, id, b.password) })),
    hmacauth_credentials: c.hmacauth_credentials.filter((h) => h.secret).map((h) => ({ id: h.id, username: h.username, secret: h.secret })),
    credential_salt: c.keyauth_credentials.length || c.basicauth_credentials.length ? salt : undefined,
  };
}

/** A plugin's config without what says who checks it (`enforcer`, `nativeBlocker`): no part of the companion's policy. */
function withoutEnforcer<T extends { enforcer?: unknown; nativeBlocker?: unknown }>(feature: T | undefined): Omit<T, 'enforcer' | 'nativeBlocker'> | undefined {
  if (!feature) return undefined;
  const { enforcer: _enforcer, nativeBlocker: _why, ...rest } = feature;
  return rest;
}

/** One `RoutePolicy` message: the auth plugins of a route, scopes merged (its name is its content's hash, see routePolicyResource). */
export function routePolicyMessage(r: IrRoute): RoutePolicy {
  const jwt = withoutEnforcer(r.plugins.jwt?.feature);
  const keyAuth = withoutEnforcer(r.plugins['key-auth']?.feature);
  const basic = withoutEnforcer(r.plugins['basic-auth']?.feature);
  const acl = withoutEnforcer(r.plugins.acl?.feature);
  const hmac = r.plugins['hmac-auth']?.feature;
  const ldap = r.plugins['ldap-auth']?.feature;
  const session = r.plugins.session?.feature;
  return {
    ...(jwt ? { jwt: jwt satisfies JwtPlugin } : {}),
    ...(keyAuth ? { key_auth: keyAuth satisfies KeyAuthPlugin } : {}),
    ...(basic ? { basic_auth: basic satisfies BasicAuthPlugin } : {}),
    ...(acl ? { acl: acl satisfies AclPlugin } : {}),
    ...(hmac ? { hmac_auth: hmac satisfies HmacAuthPlugin } : {}),
    ...(ldap ? { ldap_auth: ldap satisfies LdapAuthPlugin } : {}),
    ...(session ? { session: session satisfies SessionPlugin } : {}),
  };
}

/** One `Consumer` resource per consumer, named by its id; credentials hashed with `salt`. */
export function consumerResources(ir: Pick<GatewayIR, 'consumers'>, salt = DEFAULT_CREDENTIAL_SALT): CompanionResource[] {
  const out = new Map(ir.consumers.map((c) => [consumerId(c), companionResource(AUTHZ_TYPE.consumer, consumerId(c), consumerMessage(c, salt))]));
  return byName([...out.values()]);
}

/** One `RoutePolicy` per distinct policy of the routes that have an auth plugin (routes with equal plugins share one). */
export function routePolicyResources(ir: Pick<GatewayIR, 'routes' | 'consumers'>): CompanionResource[] {
  const out = new Map<string, CompanionResource>();
  for (const r of ir.routes) {
    if (!servedByAuthz(r, ir.consumers)) continue;
    const res = routePolicyResource(r);
    if (!out.has(res.name)) out.set(res.name, res);
  }
  return byName([...out.values()]);
}
