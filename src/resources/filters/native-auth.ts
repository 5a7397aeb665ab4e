import { consumerId, IDENTITY_HEADERS, nativeJwk, servedNatively } from '../../contracts/authz.js';
import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { decideScript, FAILED_KEY, HEADER_KEY, PAYLOAD_KEY, TOKEN_HEADER, TOKEN_SCRIPT, type ScriptConsumer, type ScriptCredential } from './native-auth-lua.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's jwt and acl plugins checked inside Envoy, on the routes contracts/authz.ts
 * `authEnforcer` gives to Envoy: three filters in a row (native-auth-lua.ts says what each
 * script does).
 *
 * 1. `frontdesk.auth.token` (Lua): Kong's token lookup; the one token goes in TOKEN_HEADER.
 * 2. `envoy.filters.http.jwt_authn`: one provider per jwt credential (issuer = the credential's
 *    `key`, a local JWKS holding its one key with its `alg`), reading only TOKEN_HEADER. The
 *    requirement is allow_missing_or_failed, so Envoy picks the provider by the token's `iss`
 *    in a map (no scan of every credential) and records the verified claims or the failure in
 *    dynamic metadata instead of answering itself; jwt_cache_config keeps verified tokens.
 *    Envoy's own exp/nbf check is switched off (the largest clock skew): Kong checks those only
 *    when claims_to_verify names them, which the decide script does.
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
const REQUIREMENT = 'kong';
/** jwt_authn's clock skew at its largest (uint32 seconds, ~136 years): its exp/nbf check never refuses. */
const NO_TIME_CHECK = 4_294_967_295;
/** Verified tokens kept per Envoy worker. */
export const JWT_CACHE_SIZE = 10_000;

function nativeRoutes(l: IrListener, ir: GatewayIR): IrRoute[] {
  return l.routes.filter((r) => r.service && servedNatively(r, ir.consumers));
}

function isNative(r: IrRoute, ctx: FilterContext): boolean {
  return !!r.service && servedNatively(r, ctx.ir.consumers);
}

function hasJwt(l: IrListener, ctx: FilterContext): boolean {
  return nativeRoutes(l, ctx.ir).some((r) => r.plugins.jwt);
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
        from_headers: [{ name: TOKEN_HEADER }],
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

/** The consumers and jwt credentials as the decide script holds them. */
function scriptTables(ir: GatewayIR): { consumers: ScriptConsumer[]; credentials: ScriptCredential[] } {
  const consumers: ScriptConsumer[] = [];
  const credentials: ScriptCredential[] = [];
  for (const c of ir.consumers) {
    const i = consumers.length;
    consumers.push({
      id: consumerId(c),
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.custom_id !== undefined ? { customId: c.custom_id } : {}),
      groups: [...new Set(c.acls.map((a) => a.group))],
    });
    for (const s of c.jwt_secrets) if (s.key) credentials.push({ key: s.key, algorithm: s.algorithm, consumer: i });
  }
  return { consumers, credentials };
}

const scripts = new WeakMap<GatewayIR, string>();

function decideSource(ir: GatewayIR): string {
  let s = scripts.get(ir);
  if (!s) {
    const t = scriptTables(ir);
    scripts.set(ir, (s = decideScript(t.consumers, t.credentials, IDENTITY_HEADERS, CONSUMER_METADATA_NAMESPACE)));
  }
  return s;
}

/** Lua: Kong's token lookup for the jwt plugin, before jwt_authn. */
export const nativeTokenFilter: HttpFilter = {
  name: TOKEN_FILTER,
  httpFilter(l, ctx) {
    if (!hasJwt(l, ctx)) return undefined;
    return { name: TOKEN_FILTER, disabled: true, typed_config: anyMessage(LUA, { source_codes: { token: { inline_string: TOKEN_SCRIPT } } }) };
  },
  perRoute(r, ctx) {
    return isNative(r, ctx) && r.plugins.jwt ? anyMessage(LUA_PER_ROUTE, { name: 'token' }) : undefined;
  },
  patchRoute(r, envoyRoute, ctx) {
    const jwt = r.plugins.jwt?.feature;
    if (!jwt || !isNative(r, ctx) || !envoyRoute.route) return;
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
    return {
      name: JWT_AUTHN_FILTER,
      disabled: true,
      typed_config: anyMessage(JWT_AUTHN, {
        ...nonEmpty('providers', providers(ctx.ir)),
        requirement_map: { [REQUIREMENT]: { allow_missing_or_failed: {} } },
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
    if (!nativeRoutes(l, ctx.ir).length) return undefined;
    return { name: DECIDE_FILTER, disabled: true, typed_config: anyMessage(LUA, { source_codes: { decide: { inline_string: decideSource(ctx.ir) } } }) };
  },
  perRoute(r, ctx) {
    return isNative(r, ctx) ? anyMessage(LUA_PER_ROUTE, { name: 'decide' }) : undefined;
  },
  patchRoute(r, envoyRoute, ctx) {
    if (!isNative(r, ctx) || !envoyRoute.route) return;
    const jwt = r.plugins.jwt?.feature;
    const acl = r.plugins.acl?.feature;
    withMetadata(envoyRoute, DECIDE_FILTER, {
      auth: {
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
