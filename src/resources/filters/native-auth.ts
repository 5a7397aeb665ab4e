import { createHash } from 'node:crypto';
import { consumerId, IDENTITY_HEADERS, nativeJwk, servedNatively } from '../../contracts/authz.js';
import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, setHeader, type JsonObject } from '../builders.js';
import { acceptedWithoutLua, decideScriptPerRoute, nativeAcceptFilter, nativeConsumerMetadataFilter, skipTokenScript, tokenScriptPerRoute } from './native-accept.js';
import { BASIC_STASH_HEADER, BASIC_USER_HEADER, basicScript, decideScript, FAILED_KEY, HEADER_KEY, ISS_HEADER, KEY_CLIENT_HEADER, KEY_HEADER, PAYLOAD_KEY, TOKEN_HEADER, TOKEN_SCRIPT, type ScriptBasicUser, type ScriptConsumer, type ScriptCredential, type ScriptKey } from './native-auth-lua.js';
import { JSON_CONTENT_TYPE, when } from './kong-replies.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's jwt, key-auth and acl plugins checked inside Envoy, on the routes contracts/authz.ts
 * `authEnforcer` gives to Envoy: filters in a row (native-auth-lua.ts says what each script
 * does).
 *
 * 1. `frontdesk.auth.token` (Lua): Kong's token (jwt) or key (key-auth) lookup; the one token
 *    goes in TOKEN_HEADER, the one key in KEY_HEADER.
 * 2. `envoy.filters.http.jwt_authn`: one provider per jwt credential (issuer = the credential's
 *    `key`, a local JWKS holding its one key with its `alg`), reading only TOKEN_HEADER. The
 *    requirement is allow_missing_or_failed, so Envoy picks the provider by the token's `iss`
 *    in a map (no scan of every credential) and records the verified claims or the failure in
 *    dynamic metadata instead of answering itself; jwt_cache_config keeps verified tokens, which
 *    Envoy reads only for a provider named in the requirement: with a few credentials each is
 *    named first (CACHED_PROVIDERS_MAX).
 *    Envoy's own exp/nbf check is switched off (the largest clock skew): Kong checks those only
 *    when claims_to_verify names them, which the decide script does.
 * 2b. `envoy.filters.http.api_key_auth` (key-auth): every key-auth credential, keys marked
 *    sensitive by Envoy (kept out of its config dump), reading only KEY_HEADER (removed once
 *    checked); a known key's credential goes on in KEY_CLIENT_HEADER. Envoy answers an unknown
 *    key itself (401), which kong-replies turns into Kong's answer.
 * 2c. `frontdesk.auth.basic` (Lua) then `envoy.filters.http.basic_auth` (basic-auth): the
 *    script finds Kong's one credential (Proxy-Authorization, then Authorization) and hands it
 *    to basic_auth in the one form it reads; basic_auth holds every basic-auth credential as an
 *    htpasswd `{SHA}` line (a field Envoy marks sensitive: kept out of its config dump) and
 *    names the user it verified in BASIC_USER_HEADER. A wrong password gets Envoy's 401, which
 *    kong-replies turns into Kong's answer.
 * 3. `frontdesk.auth.decide` (Lua): Kong's answers, anonymous, acl and the consumer headers.
 *
 * Each is off by default and on for the routes that need it (their per-route config); each
 * route's plugin settings travel in its metadata.
 */

export const TOKEN_FILTER = 'frontdesk.auth.token';
export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
export const DECIDE_FILTER = 'frontdesk.auth.decide';
/** The dynamic metadata namespace the consumer is written under: the one ext_authz answers use, read by the rate limits and the logs. */
export const CONSUMER_METADATA_NAMESPACE = 'envoy.filters.http.ext_authz';

const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';
const LUA_PER_ROUTE = 'envoy.extensions.filters.http.lua.v3.LuaPerRoute';
const JWT_AUTHN = 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
const JWT_AUTHN_PER_ROUTE = 'envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig';
export const API_KEY_AUTH_FILTER = 'envoy.filters.http.api_key_auth';
const API_KEY_AUTH = 'envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth';
const API_KEY_AUTH_PER_ROUTE = 'envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuthPerRoute';
const REQUIREMENT = 'kong';
/** jwt_authn's clock skew at its largest (uint32 seconds, ~136 years): its exp/nbf check never refuses. */
const NO_TIME_CHECK = 4_294_967_295;
/** Verified tokens kept per Envoy worker. */
export const JWT_CACHE_SIZE = 10_000;
/**
 * Up to this many jwt credentials, the requirement names each provider before falling back to
 * allow_missing_or_failed. jwt_authn consults its jwt_cache_config only for a requirement that
 * names a provider: allow_missing_or_failed alone picks the provider by `iss` and verifies the
 * signature on every request (RS256: ~30 µs of Envoy CPU per request, measured on Envoy 1.40
 * in a static copy of the compiled listener, 0 cache hits). A named provider that does not
 * match costs a parse (~9 µs), so with 5 the last one costs about what the uncached lookup
 * does and every earlier one less; past that the lookup by `iss`, which never scans, is used.
 */
export const CACHED_PROVIDERS_MAX = 5;

/**
 * The requirement: every token verified or refused by the provider its `iss` names, the outcome
 * left to the decide script (allow_missing_or_failed). With few credentials each provider is
 * tried by name first (any one verifying it admits the token, as the lookup by `iss` would,
 * since a provider checks the token's `iss`), so that a verified token is served from the cache.
 */
function requirement(providerNames: readonly string[]): JsonObject {
  if (!providerNames.length || providerNames.length > CACHED_PROVIDERS_MAX) return { allow_missing_or_failed: {} };
  return { requires_any: { requirements: [...providerNames.map((provider_name) => ({ provider_name })), { allow_missing_or_failed: {} }] } };
}

function isNative(r: IrRoute, ctx: FilterContext): boolean {
  return !!r.service && servedNatively(r, ctx.ir.consumers);
}

/** Whether Envoy checks the auth of a route of `l` (of one with `plugin`, when given). */
function hasNative(l: IrListener, ctx: FilterContext, plugin?: 'jwt' | 'key-auth' | 'basic-auth'): boolean {
  return l.routes.some((r) => (plugin === undefined || r.plugins[plugin] !== undefined) && isNative(r, ctx));
}

function hasJwt(l: IrListener, ctx: FilterContext): boolean {
  return hasNative(l, ctx, 'jwt');
}

function hasKeyAuth(l: IrListener, ctx: FilterContext): boolean {
  return hasNative(l, ctx, 'key-auth');
}

function hasBasicAuth(l: IrListener, ctx: FilterContext): boolean {
  return hasNative(l, ctx, 'basic-auth');
}

/** basic-auth's challenge, Kong's: `Basic realm="<realm>"` (realm defaults to `service`). */
function basicChallenge(realm: string): string {
  return `Basic realm="${realm}"`;
}

/** key-auth's challenge: `Key`, with the realm when configured. */
function keyChallenge(realm: string | undefined): string {
  return realm ? `Key realm="${realm}"` : 'Key';
}

const set = (values: readonly string[]): JsonObject | undefined => (values.length ? Object.fromEntries(values.map((v) => [v, true])) : undefined);

const nonEmpty = (key: string, o: JsonObject): JsonObject => (Object.keys(o).length ? { [key]: o } : {});

function withMetadata(envoyRoute: JsonObject, filter: string, value: JsonObject): void {
  const metadata = (envoyRoute.metadata ?? {}) as JsonObject;
  const filterMetadata = (metadata.filter_metadata ?? {}) as JsonObject;
  envoyRoute.metadata = { ...metadata, filter_metadata: { ...filterMetadata, [filter]: value } };
}

/** The jwt_authn providers: one per jwt credential that has a key, by credential key. */
function providers(ir: GatewayIR): JsonObject {
  const out: Record<string, JsonObject> = {};
  for (const c of ir.consumers) {
    for (const s of c.jwt_secrets) {
      const jwk = s.key ? nativeJwk(s) : undefined;
      if (!jwk || !s.key) continue;
      out[s.key] = {
        issuer: s.key,
        local_jwks: { inline_string: JSON.stringify({ keys: [jwk] }) },
        // The token script's one token, else (the script skipped: native-accept.ts) Authorization's; kept on the request as Kong does.
        from_headers: [{ name: TOKEN_HEADER }, { name: 'authorization', value_prefix: 'Bearer ' }],
        forward: true,
        claim_to_headers: [{ header_name: ISS_HEADER, claim_name: 'iss' }],
        payload_in_metadata: PAYLOAD_KEY,
        header_in_metadata: HEADER_KEY,
        failed_status_in_metadata: FAILED_KEY,
        clock_skew_seconds: NO_TIME_CHECK,
        jwt_cache_config: { jwt_cache_size: JWT_CACHE_SIZE },
      };
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The consumers, jwt and key-auth credentials as the decide script holds them (api_key_auth names a key by its place in `keys`, from 1). */
function scriptTables(ir: GatewayIR): { consumers: ScriptConsumer[]; credentials: ScriptCredential[]; keys: (ScriptKey & { key: string })[]; basic: (ScriptBasicUser & { password: string })[] } {
  const consumers: ScriptConsumer[] = [];
  const credentials: ScriptCredential[] = [];
  const keys: (ScriptKey & { key: string })[] = [];
  const basic: (ScriptBasicUser & { password: string })[] = [];
  for (const c of ir.consumers) {
    const i = consumers.length;
    consumers.push({
      id: consumerId(c),
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.custom_id !== undefined ? { customId: c.custom_id } : {}),
      groups: [...new Set(c.acls.map((a) => a.group))],
    });
    for (const s of c.jwt_secrets) if (s.key) credentials.push({ key: s.key, algorithm: s.algorithm, consumer: i });
    for (const k of c.keyauth_credentials) keys.push({ key: k.key, consumer: i, ...(k.id !== undefined ? { id: k.id } : {}) });
    for (const b of c.basicauth_credentials) basic.push({ username: b.username, password: b.password, consumer: i });
  }
  basic.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  return { consumers, credentials, keys, basic };
}

const tables = new WeakMap<GatewayIR, ReturnType<typeof scriptTables>>();

function tablesOf(ir: GatewayIR): ReturnType<typeof scriptTables> {
  let t = tables.get(ir);
  if (!t) tables.set(ir, (t = scriptTables(ir)));
  return t;
}

const scripts = new WeakMap<GatewayIR, string>();

function decideSource(ir: GatewayIR): string {
  let s = scripts.get(ir);
  if (!s) {
    const t = tablesOf(ir);
    scripts.set(ir, (s = decideScript(t.consumers, t.credentials, t.keys.map(({ key: _key, ...k }) => k), IDENTITY_HEADERS, CONSUMER_METADATA_NAMESPACE, t.basic.map(({ password: _password, ...b }) => b))));
  }
  return s;
}

/** Lua: Kong's token lookup for jwt (before jwt_authn) and key lookup for key-auth (before api_key_auth). */
export const nativeTokenFilter: HttpFilter = {
  name: TOKEN_FILTER,
  httpFilter(l, ctx) {
    if (!hasJwt(l, ctx) && !hasKeyAuth(l, ctx)) return undefined;
    return { name: TOKEN_FILTER, disabled: true, typed_config: withMatcher(TOKEN_FILTER, anyMessage(LUA, { default_source_code: { inline_string: TOKEN_SCRIPT } })) };
  },
  // On, and skipped for the plain case where the route allows it (native-accept.ts).
  perRoute(r, ctx) {
    return isNative(r, ctx) && (r.plugins.jwt || r.plugins['key-auth']) ? tokenScriptPerRoute(r, ctx) : undefined;
  },
  // Every route Envoy checks, a direct_response one too (request-termination answers after auth, as Kong's priority 2).
  patchRoute(r, envoyRoute, ctx) {
    if (!isNative(r, ctx)) return;
    const key = r.plugins['key-auth']?.feature;
    if (key) {
      // nginx finds a header named with "_" under "-" too (Kong's get_header); Envoy's header names are lower-case.
      const alt = Object.fromEntries(key.key_names.filter((n) => n.includes('_')).map((n) => [n, n.toLowerCase().replace(/_/g, '-')]));
      withMetadata(envoyRoute, TOKEN_FILTER, {
        key: { names: key.key_names, header: key.key_in_header, query: key.key_in_query, hide: key.hide_credentials, alt, ...(key.realm !== undefined ? { realm: key.realm } : {}) },
      });
      return;
    }
    const jwt = r.plugins.jwt?.feature;
    if (!jwt) return;
    const uri = set(jwt.uri_param_names);
    const cookies = set(jwt.cookie_names);
    withMetadata(envoyRoute, TOKEN_FILTER, {
      jwt: {
        preflight: jwt.run_on_preflight,
        ...(uri ? { uri } : {}),
        ...(cookies ? { cookies } : {}),
        headers: jwt.header_names.map((h) => h.toLowerCase()),
      },
    });
  },
};

/** envoy.filters.http.jwt_authn: the signatures, one provider per credential picked by iss. */
export const nativeJwtAuthnFilter: HttpFilter = {
  name: JWT_AUTHN_FILTER,
  httpFilter(l, ctx) {
    if (!hasJwt(l, ctx)) return undefined;
    const all = providers(ctx.ir);
    return {
      name: JWT_AUTHN_FILTER,
      disabled: true,
      typed_config: anyMessage(JWT_AUTHN, {
        ...nonEmpty('providers', all),
        requirement_map: { [REQUIREMENT]: requirement(Object.keys(all)) },
      }),
    };
  },
  perRoute(r, ctx) {
    return isNative(r, ctx) && r.plugins.jwt ? anyMessage(JWT_AUTHN_PER_ROUTE, { requirement_name: REQUIREMENT }) : undefined;
  },
};

/** Lua: Kong's answers, anonymous, acl and the consumer headers, after jwt_authn. */
export const nativeDecideFilter: HttpFilter = {
  name: DECIDE_FILTER,
  httpFilter(l, ctx) {
    if (!hasNative(l, ctx)) return undefined;
    return { name: DECIDE_FILTER, disabled: true, typed_config: withMatcher(DECIDE_FILTER, anyMessage(LUA, { default_source_code: { inline_string: decideSource(ctx.ir) } })) };
  },
  // On, and skipped once Envoy's own filters set the consumer where the route allows it (native-accept.ts).
  perRoute(r, ctx) {
    return isNative(r, ctx) ? decideScriptPerRoute(r, ctx) : undefined;
  },
  patchRoute(r, envoyRoute, ctx) {
    if (!isNative(r, ctx)) return;
    const jwt = r.plugins.jwt?.feature;
    const acl = r.plugins.acl?.feature;
    const key = r.plugins['key-auth']?.feature;
    const basic = r.plugins['basic-auth']?.feature;
    withMetadata(envoyRoute, DECIDE_FILTER, {
      auth: {
        ...(key ? { key: keyChallenge(key.realm) } : {}),
        ...(basic ? { basic: basicChallenge(basic.realm) } : {}),
        ...(jwt ? {
          jwt: {
            ...(jwt.claims_to_verify?.length ? { claims: [...new Set(jwt.claims_to_verify)] } : {}),
            ...(jwt.maximum_expiration ? { max_exp: jwt.maximum_expiration } : {}),
            ...(jwt.realm !== undefined ? { realm: jwt.realm } : {}),
            ...(jwt.anonymous !== undefined ? { anonymous: jwt.anonymous } : {}),
          },
        } : {}),
        ...(acl ? {
          acl: {
            ...(acl.deny?.length ? { deny: acl.deny } : { allow: acl.allow ?? [] }),
            hide: acl.hide_groups_header,
          },
        } : {}),
      },
    });
  },
};

const KEY_SOURCES = [{ header: KEY_HEADER }];
const FORWARDING = { header: KEY_CLIENT_HEADER, hide_credentials: true };

/**
 * A Lua filter that is on, on a route, by a per-route ExtensionWithMatcherPerRoute or an empty
 * FilterConfig (native-accept.ts): its one script is its default_source_code, and its route
 * metadata stays under its own name.
 */
function withMatcher(name: string, lua: JsonObject): JsonObject {
  return anyMessage(WITH_MATCHER, { extension_config: { name, typed_config: lua } });
}

/** envoy.filters.http.api_key_auth: the keys of key-auth, on the routes Envoy checks itself. */
export const nativeApiKeyFilter: HttpFilter = {
  name: API_KEY_AUTH_FILTER,
  httpFilter(l, ctx) {
    if (!hasKeyAuth(l, ctx)) return undefined;
    return {
      name: API_KEY_AUTH_FILTER,
      disabled: true,
      typed_config: anyMessage(API_KEY_AUTH, {
        ...(tablesOf(ctx.ir).keys.length ? { credentials: tablesOf(ctx.ir).keys.map((k, i) => ({ key: k.key, client: String(i + 1) })) } : {}),
        key_sources: KEY_SOURCES,
        forwarding: FORWARDING,
      }),
    };
  },
  perRoute(r, ctx) {
    // The key source and forwarding said again: a route's config, even without them, replaces the filter's forwarding.
    const key = r.plugins['key-auth']?.feature;
    if (!isNative(r, ctx) || !key) return undefined;
    if (!acceptedWithoutLua(r, ctx)) return anyMessage(API_KEY_AUTH_PER_ROUTE, { key_sources: KEY_SOURCES, forwarding: FORWARDING });
    // The token script skipped: the key is read from the first key name's header, and left there (no hide_credentials).
    return anyMessage(API_KEY_AUTH_PER_ROUTE, {
      key_sources: [...KEY_SOURCES, { header: key.key_names[0]!.toLowerCase() }],
      forwarding: { header: KEY_CLIENT_HEADER, hide_credentials: false },
    });
  },
  /**
   * api_key_auth refuses an unknown key with its own 401; Kong says 401 {"message":"Unauthorized"}
   * with the Key challenge. Only a request the token script handed a key has KEY_HEADER
   * still set at that point (api_key_auth removes it from a request it lets through), so an
   * upstream's own 401 passes unchanged.
   */
  replies(r, ctx) {
    const key = r.plugins['key-auth']?.feature;
    if (!key || !isNative(r, ctx)) return [];
    const answer = { plugin: 'key-auth', status: 401, body: '{"message":"Unauthorized"}', contentType: JSON_CONTENT_TYPE, headers: [setHeader('www-authenticate', keyChallenge(key.realm))] };
    // With the token script skipped, a refused key is in its header still, and no consumer was set (an upstream's own 401 has one).
    const skipped = acceptedWithoutLua(r, ctx) ? [{ ...answer, when: when.and(when.status(401), when.lacksHeader('x-consumer-id'), skipTokenScript(r)) }] : [];
    return [{ ...answer, when: when.and(when.status(401), when.hasHeader(KEY_HEADER)) }, ...skipped];
  },
};

export const BASIC_FILTER = 'frontdesk.auth.basic';
export const BASIC_AUTH_FILTER = 'envoy.filters.http.basic_auth';
const BASIC_AUTH = 'envoy.extensions.filters.http.basic_auth.v3.BasicAuth';
const WITH_MATCHER = 'envoy.extensions.common.matching.v3.ExtensionWithMatcher';
const WITH_MATCHER_PER_ROUTE = 'envoy.extensions.common.matching.v3.ExtensionWithMatcherPerRoute';
const SKIP_FILTER = 'envoy.extensions.filters.common.matcher.action.v3.SkipFilter';

/**
 * The htpasswd lines basic_auth checks passwords against: `username:{SHA}<base64 of SHA-1 of
 * the password>` (the one form Envoy reads; unsalted, see docs/authz.md), sorted by username.
 */
export function htpasswd(users: readonly { username: string; password: string }[]): string {
  return users.map((u) => `${u.username}:{SHA}${createHash('sha1').update(u.password, 'utf8').digest('base64')}`).join('\n');
}

const htpasswds = new WeakMap<GatewayIR, string>();

function htpasswdOf(ir: GatewayIR): string {
  let h = htpasswds.get(ir);
  if (h === undefined) htpasswds.set(ir, (h = htpasswd(tablesOf(ir).basic)));
  return h;
}

/** Lua: Kong's basic-auth credential lookup, before basic_auth (native-auth-lua.ts basicScript). */
export const nativeBasicFilter: HttpFilter = {
  name: BASIC_FILTER,
  httpFilter(l, ctx) {
    if (!hasBasicAuth(l, ctx)) return undefined;
    const script = basicScript(tablesOf(ctx.ir).basic.map((b) => b.username));
    return { name: BASIC_FILTER, disabled: true, typed_config: anyMessage(LUA, { source_codes: { basic: { inline_string: script } } }) };
  },
  perRoute(r, ctx) {
    return isNative(r, ctx) && r.plugins['basic-auth'] ? anyMessage(LUA_PER_ROUTE, { name: 'basic' }) : undefined;
  },
  patchRoute(r, envoyRoute, ctx) {
    const basic = r.plugins['basic-auth']?.feature;
    if (!basic || !isNative(r, ctx)) return;
    withMetadata(envoyRoute, BASIC_FILTER, { basic: { realm: basic.realm, hide: basic.hide_credentials } });
  },
};

/** envoy.filters.http.basic_auth: the passwords of basic-auth, on the routes Envoy checks itself. */
export const nativeBasicAuthFilter: HttpFilter = {
  name: BASIC_AUTH_FILTER,
  httpFilter(l, ctx) {
    if (!hasBasicAuth(l, ctx)) return undefined;
    const users = htpasswdOf(ctx.ir);
    return {
      name: BASIC_AUTH_FILTER,
      disabled: true,
      typed_config: anyMessage(WITH_MATCHER, {
        extension_config: {
          name: BASIC_AUTH_FILTER,
          typed_config: anyMessage(BASIC_AUTH, { ...(users ? { users: { inline_string: users } } : {}), forward_username_header: BASIC_USER_HEADER }),
        },
      }),
    };
  },
  /**
   * Enabled on a route by a matcher of its own (the filter's users stay in one place: a
   * BasicAuthPerRoute would repeat every user on every route, and an empty per-route config
   * is refused). The matcher skips basic_auth only for a request the basic-auth script did not
   * hand a credential, which that script has already refused; the decide script refuses any
   * request basic_auth did not name a user for.
   */
  perRoute(r, ctx) {
    if (!isNative(r, ctx) || !r.plugins['basic-auth']) return undefined;
    return anyMessage(WITH_MATCHER_PER_ROUTE, {
      xds_matcher: {
        matcher_list: {
          matchers: [{ predicate: when.lacksHeader(BASIC_STASH_HEADER), on_match: { action: { name: 'skip', typed_config: anyMessage(SKIP_FILTER, {}) } } }],
        },
      },
    });
  },
  /**
   * basic_auth refuses a wrong password with its own 401 (and a realm naming the URL); Kong
   * says 401 {"message":"Unauthorized"} with `Basic realm="<realm>"`. Only a request the
   * basic-auth script handed a credential still has BASIC_STASH_HEADER at that point (the
   * decide script removes it from a request basic_auth lets through), so an upstream's own 401
   * passes unchanged.
   */
  replies(r, ctx) {
    const basic = r.plugins['basic-auth']?.feature;
    if (!basic || !isNative(r, ctx)) return [];
    return [{
      plugin: 'basic-auth', when: when.and(when.status(401), when.hasHeader(BASIC_STASH_HEADER)), status: 401, body: '{"message":"Unauthorized"}',
      contentType: JSON_CONTENT_TYPE, headers: [setHeader('www-authenticate', basicChallenge(basic.realm))],
    }];
  },
};

/** composite + header_mutation: the consumer headers of a verified credential, without Lua (native-accept.ts). */
export const nativeAcceptConsumerFilter: HttpFilter = nativeAcceptFilter((ir) => tablesOf(ir).keys);

/** header_to_metadata: the consumer in the dynamic metadata the rate limits and logs read, on the routes the decide script is skipped for. */
export const nativeConsumerMetadata: HttpFilter = nativeConsumerMetadataFilter(CONSUMER_METADATA_NAMESPACE);
