import { consumerId, IDENTITY_HEADERS, LISTENER_WIDE_READERS, nativeLuaOnSuccess, readsConsumerMetadata, servedNatively } from '../../contracts/authz.js';
import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';

type IrConsumer = GatewayIR['consumers'][number];
import { anyMessage, setHeader, type JsonObject } from '../builders.js';
import { ISS_HEADER, JWT_STASH_HEADER, KEY_CLIENT_HEADER, KEY_HEADER, MAX_TOKEN_LENGTH, TOKEN_HEADER } from './native-auth-lua.js';
import { when } from './kong-replies.js';
import type { FilterContext, HttpFilter, Predicate } from './registry.js';

/**
 * The accepted path of jwt and key-auth without Lua, on the routes contracts/authz.ts
 * `nativeLuaOnSuccess` allows (native-auth.ts puts these filters in the chain):
 *
 * - the token script is skipped (its ExtensionWithMatcherPerRoute) for a request whose one
 *   credential is in its usual, well-formed place (`skipTokenScript`): jwt_authn then reads the
 *   token from Authorization and api_key_auth the key from the first key name's header;
 * - `frontdesk.auth.accept`, the composite filter under a matcher: jwt_authn's claim_to_headers
 *   copies a verified token's `iss` into ISS_HEADER, api_key_auth names a known key's credential
 *   in KEY_CLIENT_HEADER; an exact_match_map on that header (one lookup, whatever the number of
 *   credentials) runs, per credential, a header_mutation that removes the client's identity
 *   headers and the internal ones and sets Kong's X-Consumer-ID / -Custom-ID / -Username,
 *   X-Credential-Identifier and (acl, unless hide_groups_header) X-Consumer-Groups. With acl the
 *   route holds its own map, of the credentials whose consumer acl admits; with claims_to_verify
 *   or maximum_expiration too, its condition checking the verified claims (acceptableToken);
 * - the decide script is skipped when X-Consumer-ID is set at that point (only that mutation
 *   sets it: the skip condition of the token script requires its absence, and the token script
 *   removes a client's copy): every other request (a refusal, an acl refusal, a token the token
 *   script found elsewhere) gets the decide script's answer as before;
 * - `frontdesk.auth.consumer_metadata` (header_to_metadata) writes the consumer into the dynamic
 *   metadata the rate limits and logs read (consumer_id, consumer_username, credential_id under
 *   the namespace ext_authz answers use), from the headers set either way, on the routes where
 *   something reads it (metadataReadOn): elsewhere the filter is not there.
 *
 * A jwt token goes to the map only when jwt_authn verified it, the token script did not run
 * (JWT_STASH_HEADER absent, a header predicate: a token it found may come from elsewhere and must
 * be decided by the decide script), it names no critical header parameter (RFC 7515 4.1.11:
 * Kong's answer is "Invalid signature") and it is no longer than MAX_TOKEN_LENGTH: a CEL matcher
 * over the request's headers and jwt_authn's metadata (acceptableToken), which also checks the
 * route's claims.
 */

export const ACCEPT_FILTER = 'frontdesk.auth.accept';
export const CONSUMER_METADATA_FILTER = 'frontdesk.auth.consumer_metadata';

const WITH_MATCHER = 'envoy.extensions.common.matching.v3.ExtensionWithMatcher';
const WITH_MATCHER_PER_ROUTE = 'envoy.extensions.common.matching.v3.ExtensionWithMatcherPerRoute';
const SKIP_FILTER = 'envoy.extensions.filters.common.matcher.action.v3.SkipFilter';
const FILTER_CONFIG = 'envoy.config.route.v3.FilterConfig';
const COMPOSITE = 'envoy.extensions.filters.http.composite.v3.Composite';
const EXECUTE = 'envoy.extensions.filters.http.composite.v3.ExecuteFilterAction';
const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_TO_METADATA = 'envoy.extensions.filters.http.header_to_metadata.v3.Config';
const CEL_INPUT = 'xds.type.matcher.v3.HttpAttributesCelMatchInput';
const CEL_MATCHER = 'xds.type.matcher.v3.CelMatcher';
const JWT_AUTHN_NAMESPACE = 'envoy.filters.http.jwt_authn';

/** The one Bearer token form the token script may be skipped for (Kong's retrieve_tokens finds exactly this token in it). */
export const BEARER_TOKEN_RE = '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$';
/** The headers only Envoy's filters set: a client's copy sends the request to the token script, which removes it. */
const INTERNAL_HEADERS = [TOKEN_HEADER, KEY_HEADER, KEY_CLIENT_HEADER, ISS_HEADER, JWT_STASH_HEADER] as const;

/** Whether a route takes the accepted path without Lua. */
export function acceptedWithoutLua(r: IrRoute, ctx: FilterContext): boolean {
  return !!r.service && servedNatively(r, ctx.ir.consumers) && (!!r.plugins.jwt || !!r.plugins['key-auth']) && nativeLuaOnSuccess(r) === undefined;
}

const usedBy = new WeakMap<GatewayIR, Map<IrListener, boolean>>();

/** Whether a listener has a route that takes the accepted path without Lua (once per IR and listener). */
function used(l: IrListener, ctx: FilterContext): boolean {
  let byListener = usedBy.get(ctx.ir);
  if (!byListener) usedBy.set(ctx.ir, (byListener = new Map()));
  let u = byListener.get(l);
  if (u === undefined) byListener.set(l, (u = l.routes.some((r) => acceptedWithoutLua(r, ctx))));
  return u;
}

const onAcceptingListener = new WeakMap<GatewayIR, ReadonlySet<IrRoute>>();

/** Whether a route is on a listener that has the accept filter (computed once per IR). */
function onListenerWithAccept(r: IrRoute, ctx: FilterContext): boolean {
  let routes = onAcceptingListener.get(ctx.ir);
  if (!routes) onAcceptingListener.set(ctx.ir, (routes = new Set(ctx.ir.listeners.filter((l) => used(l, ctx)).flatMap((l) => l.routes))));
  return routes.has(r);
}

/** `typed_per_filter_config` that turns a filter off on a route. */
function disabledHere(): JsonObject {
  return anyMessage(FILTER_CONFIG, { disabled: true });
}

/**
 * An ExtensionWithMatcherPerRoute that turns a script on for a route and never skips it (Envoy
 * refuses an empty per-route config, and a Lua filter under a matcher takes no LuaPerRoute):
 * every request has a :method.
 */
function alwaysRun(): JsonObject {
  return anyMessage(WITH_MATCHER_PER_ROUTE, { xds_matcher: { matcher_list: { matchers: [{ predicate: when.lacksHeader(':method'), on_match: skip() }] } } });
}

const escapeRe = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/**
 * When the token script may be skipped on a route: jwt, Authorization holding one Bearer token
 * of the JWT form and no query parameter the route reads tokens from (nor any escaped query
 * name, which Kong would decode); key-auth, the first key name's header holding one value with
 * no "," (Kong's "Duplicate API key found") that does not start with "Bearer " (which
 * api_key_auth would strip: the token script refuses it); and, both, no internal header and no X-Consumer-ID from the client.
 */
export function skipTokenScript(r: IrRoute): Predicate {
  const clean = [...INTERNAL_HEADERS, 'x-consumer-id'].map((h) => when.lacksHeader(h));
  const jwt = r.plugins.jwt?.feature;
  if (jwt) {
    // One small regex per name: Envoy refuses a regex whose RE2 program is over 100 (names are at most MAX_SKIP_NAME long).
    const query = jwt.uri_param_names.length
      ? [when.not(when.headerMatches(':path', '[^?]*\\?.*%.*')), ...jwt.uri_param_names.map((n) => when.not(when.headerMatches(':path', `[^?]*\\?(?:.*&)?${escapeRe(n)}(?:[=&].*)?`)))]
      : [];
    const preflight = jwt.run_on_preflight ? [] : [when.not(when.header(':method', 'OPTIONS'))];
    return when.and(when.headerMatches('authorization', BEARER_TOKEN_RE), ...query, ...preflight, ...clean);
  }
  const name = r.plugins['key-auth']!.feature.key_names[0]!.toLowerCase();
  return when.and(when.headerMatches(name, '[^,]+'), when.not(keyStartsWithBearer(name)), ...clean);
}

function keyStartsWithBearer(name: string): Predicate {
  return { single_predicate: { input: { name, typed_config: anyMessage('envoy.type.matcher.v3.HttpRequestHeaderMatchInput', { header_name: name }) }, value_match: { prefix: 'Bearer ' } } };
}

/** The token script's per-route config: skipped for the plain case on the routes that allow it. */
export function tokenScriptPerRoute(r: IrRoute, ctx: FilterContext): JsonObject {
  if (!acceptedWithoutLua(r, ctx)) return alwaysRun();
  return anyMessage(WITH_MATCHER_PER_ROUTE, { xds_matcher: { matcher_list: { matchers: [{ predicate: skipTokenScript(r), on_match: skip() }] } } });
}

/** The decide script's per-route config: skipped once the consumer headers are set, on the routes that allow it. */
export function decideScriptPerRoute(r: IrRoute, ctx: FilterContext): JsonObject {
  if (!acceptedWithoutLua(r, ctx)) return alwaysRun();
  return anyMessage(WITH_MATCHER_PER_ROUTE, { xds_matcher: { matcher_list: { matchers: [{ predicate: when.hasHeader('x-consumer-id'), on_match: skip() }] } } });
}

function skip(): JsonObject {
  return { action: { name: 'skip', typed_config: anyMessage(SKIP_FILTER, {}) } };
}

// ---- CEL (google.api.expr.v1alpha1 parsed expressions) -----------------------------------------

type Expr = JsonObject;

/** Builds CEL expressions with unique ids. */
function cel(): { call(fn: string, ...args: Expr[]): Expr; ident(name: string): Expr; select(operand: Expr, field: string, test?: boolean): Expr; str(v: string): Expr; int(v: number): Expr; double(v: number): Expr } {
  let id = 0;
  const next = () => ++id;
  return {
    call: (fn, ...args) => ({ id: next(), call_expr: { function: fn, args } }),
    ident: (name) => ({ id: next(), ident_expr: { name } }),
    select: (operand, field, test = false) => ({ id: next(), select_expr: { operand, field, ...(test ? { test_only: true } : {}) } }),
    str: (v) => ({ id: next(), const_expr: { string_value: v } }),
    int: (v) => ({ id: next(), const_expr: { int64_value: v } }),
    double: (v) => ({ id: next(), const_expr: { double_value: v } }),
  };
}

/** What a route's jwt checks in the verified claims (Kong's claims_to_verify, maximum_expiration). */
export interface ClaimChecks { exp: boolean; nbf: boolean; maxExp: number }

/** The terms of the CEL condition on a verified token (acceptableToken). */
export type CelTerm = 'stash' | 'size' | 'crit' | 'claims';
/** The terms the compiled condition holds: the token script's stash is a header predicate beside it (cheaper: no CEL term). */
export const COMPILED_CEL_TERMS: readonly CelTerm[] = ['size', 'crit', 'claims'];

/**
 * The CEL condition on a jwt token jwt_authn verified that Envoy may accept without the decide
 * script: `size(request.headers["authorization"]) <= 7 + MAX && !has(<jwt_authn
 * metadata>.header.crit)`, and the route's claim checks, Kong's verify_registered_claims on the
 * verified claims against the request's time in whole seconds (`now`): exp, `payload.exp > now`;
 * nbf, `payload.nbf <= now`; maximum_expiration, `payload.exp - now <= maximum_expiration`. A
 * claim that is missing or not a number is an evaluation error, and an error is no match: the
 * decide script gives Kong's answer. No header matcher can read a header's length, the token's
 * JOSE header or compare a claim with the clock, and jwt_authn's own time checks (clock skew,
 * require_expiration, max_lifetime) refuse a token before its signature is checked, where Kong
 * answers "Invalid signature" first (native-auth.ts). `terms` picks the parts (the benchmark's
 * cost attribution takes some out; `stash`, `!(JWT_STASH_HEADER in request.headers)`, is the
 * header predicate's CEL form).
 */
export function acceptableToken(claims: ClaimChecks | undefined, terms: readonly CelTerm[] = COMPILED_CEL_TERMS): Predicate {
  const e = cel();
  const headers = () => e.select(e.ident('request'), 'headers');
  const jwtMetadata = () => e.call('_[_]', e.select(e.ident('metadata'), 'filter_metadata'), e.str(JWT_AUTHN_NAMESPACE));
  const claim = (name: string) => e.select(e.select(jwtMetadata(), 'payload'), name);
  const now = () => e.call('double', e.call('int', e.select(e.ident('request'), 'time')));
  const parts: Expr[] = [];
  if (terms.includes('stash')) parts.push(e.call('!_', e.call('@in', e.str(JWT_STASH_HEADER), headers())));
  if (terms.includes('size')) parts.push(e.call('_<=_', e.call('size', e.call('_[_]', headers(), e.str('authorization'))), e.int('Bearer '.length + MAX_TOKEN_LENGTH)));
  if (terms.includes('crit')) parts.push(e.call('!_', e.select(e.select(jwtMetadata(), 'header'), 'crit', true)));
  if (terms.includes('claims')) {
    if (claims?.exp) parts.push(e.call('_>_', claim('exp'), now()));
    if (claims?.nbf) parts.push(e.call('_<=_', claim('nbf'), now()));
    if (claims?.maxExp) parts.push(e.call('_<=_', e.call('_-_', claim('exp'), now()), e.double(claims.maxExp)));
  }
  const expr = parts.length ? parts.reduce((a, b) => e.call('_&&_', a, b)) : e.call('_==_', e.int(1), e.int(1));
  return {
    single_predicate: {
      input: { name: 'cel', typed_config: anyMessage(CEL_INPUT, {}) },
      custom_match: { name: 'cel', typed_config: anyMessage(CEL_MATCHER, { expr_match: { parsed_expr: { expr } } }) },
    },
  };
}

// ---- the map -------------------------------------------------------------------------------------

interface AclView { allow?: readonly string[]; deny?: readonly string[]; hide: boolean }

/** Whether Kong's acl admits this consumer (kong/plugins/acl/handler.lua: a consumer with no groups is refused). */
function admits(c: IrConsumer, acl: AclView): boolean {
  const groups = new Set(c.acls.map((a) => a.group));
  if (!groups.size) return false;
  if (acl.deny?.length) return !acl.deny.some((g) => groups.has(g));
  return (acl.allow ?? []).some((g) => groups.has(g));
}

/** The header_mutation run for one credential: the client's identity headers and the internal ones removed, Kong's set. */
function consumerMutation(c: IrConsumer, credential: string | undefined, acl: AclView | undefined): JsonObject {
  const set = [
    setHeader('x-consumer-id', consumerId(c)),
    ...(c.custom_id !== undefined ? [setHeader('x-consumer-custom-id', c.custom_id)] : []),
    ...(c.username !== undefined ? [setHeader('x-consumer-username', c.username)] : []),
    ...(credential !== undefined ? [setHeader('x-credential-identifier', credential)] : []),
    ...(acl && !acl.hide ? [setHeader('x-consumer-groups', [...new Set(c.acls.map((a) => a.group))].join(', '))] : []),
  ];
  return {
    action: {
      name: 'consumer',
      typed_config: anyMessage(EXECUTE, {
        typed_config: {
          name: 'consumer',
          typed_config: anyMessage(HEADER_MUTATION, {
            mutations: { request_mutations: [...[...IDENTITY_HEADERS, ...INTERNAL_HEADERS].map((remove) => ({ remove })), ...set.map((append) => ({ append }))] },
          }),
        },
      }),
    },
  };
}

/**
 * The accept filter's matcher: jwt credentials by ISS_HEADER behind the token's conditions, else
 * key-auth credentials by KEY_CLIENT_HEADER (api_key_auth's client, a key's place from 1);
 * undefined when no credential is left to map.
 */
function acceptMatcher(ir: GatewayIR, keys: readonly { consumer: number; id?: string }[], acl: AclView | undefined, only?: 'jwt' | 'key', claims?: ClaimChecks): JsonObject | undefined {
  const jwt: Record<string, JsonObject> = {};
  const key: Record<string, JsonObject> = {};
  for (const c of ir.consumers) {
    if (acl && !admits(c, acl)) continue;
    for (const s of c.jwt_secrets) if (s.key && !(s.key in jwt)) jwt[s.key] = consumerMutation(c, s.key, acl);
  }
  keys.forEach((k, i) => {
    const c = ir.consumers[k.consumer]!;
    if (!acl || admits(c, acl)) key[String(i + 1)] = consumerMutation(c, k.id, acl);
  });
  const byHeader = (header: string, map: Record<string, JsonObject>) => ({
    matcher: { matcher_tree: { input: { name: header, typed_config: anyMessage('envoy.type.matcher.v3.HttpRequestHeaderMatchInput', { header_name: header }) }, exact_match_map: { map } } },
  });
  const jwtMatcher = only !== 'key' && Object.keys(jwt).length
    ? { predicate: when.and(when.hasHeader(ISS_HEADER), when.lacksHeader(JWT_STASH_HEADER), acceptableToken(claims)), on_match: byHeader(ISS_HEADER, sorted(jwt)) }
    : undefined;
  // The key map needs no predicate of its own: its lookup on KEY_CLIENT_HEADER finds nothing when api_key_auth named no credential (measured: ~1,400 instructions a request less than behind a presence predicate).
  const keyMap = only !== 'jwt' && Object.keys(key).length ? byHeader(KEY_CLIENT_HEADER, sorted(key)) : undefined;
  if (!jwtMatcher) return keyMap?.matcher;
  return { matcher_list: { matchers: [jwtMatcher] }, ...(keyMap ? { on_no_match: keyMap } : {}) };
}

const sorted = (o: Record<string, JsonObject>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function claimsOf(r: IrRoute): ClaimChecks | undefined {
  const jwt = r.plugins.jwt?.feature;
  const names = new Set(jwt?.claims_to_verify ?? []);
  if (!jwt || (!names.size && !jwt.maximum_expiration)) return undefined;
  return { exp: names.has('exp'), nbf: names.has('nbf'), maxExp: jwt.maximum_expiration ?? 0 };
}

function aclOf(r: IrRoute): AclView | undefined {
  const acl = r.plugins.acl?.feature;
  return acl ? { ...(acl.deny?.length ? { deny: acl.deny } : { allow: acl.allow ?? [] }), hide: acl.hide_groups_header } : undefined;
}

/**
 * The accept filter for a listener's routes, given the key-auth credentials in api_key_auth's
 * order. It is on by default with the map of every credential (one copy per listener, not one
 * per route), for the routes without acl; a route with acl holds its own map; every other route
 * of a listener that has it turns it off (a client's copy of an internal header must not set a
 * consumer there).
 */
export function nativeAcceptFilter(keysOf: (ir: GatewayIR) => readonly { consumer: number; id?: string }[]): HttpFilter {
  const matchers = new WeakMap<GatewayIR, JsonObject | null>();
  const listenerMatcher = (ir: GatewayIR) => {
    let m = matchers.get(ir);
    if (m === undefined) matchers.set(ir, (m = acceptMatcher(ir, keysOf(ir), undefined) ?? null));
    return m;
  };
  return {
    name: ACCEPT_FILTER,
    httpFilter(l, ctx) {
      if (!used(l, ctx)) return undefined;
      const m = listenerMatcher(ctx.ir);
      return {
        name: ACCEPT_FILTER,
        typed_config: anyMessage(WITH_MATCHER, {
          extension_config: { name: 'composite', typed_config: anyMessage(COMPOSITE, {}) },
          ...(m ? { xds_matcher: m } : {}),
        }),
      };
    },
    perRoute(r, ctx) {
      if (!acceptedWithoutLua(r, ctx)) return onListenerWithAccept(r, ctx) ? disabledHere() : undefined;
      const acl = aclOf(r);
      const claims = claimsOf(r);
      if (!acl && !claims) return undefined;
      const m = acceptMatcher(ctx.ir, keysOf(ctx.ir), acl, r.plugins.jwt ? 'jwt' : 'key', claims);
      // No credential acl admits: nothing to run here, the decide script refuses.
      if (!m) return disabledHere();
      return anyMessage(WITH_MATCHER_PER_ROUTE, { xds_matcher: m });
    },
  };
}

const metadataRoutes = new WeakMap<GatewayIR, ReadonlySet<IrRoute>>();

/**
 * The routes taking the accepted path without Lua whose consumer something reads from dynamic
 * metadata (contracts/authz.ts readsConsumerMetadata; every route of a listener where a route has
 * a listener-wide reader, LISTENER_WIDE_READERS): computed once per IR.
 */
function metadataReadOn(r: IrRoute, ctx: FilterContext): boolean {
  let routes = metadataRoutes.get(ctx.ir);
  if (!routes) {
    const set = new Set<IrRoute>();
    const globalWide = Object.keys(ctx.ir.globalPlugins).some((n) => LISTENER_WIDE_READERS.has(n));
    for (const l of ctx.ir.listeners) {
      const wide = globalWide || l.routes.some((x) => Object.keys(x.plugins).some((n) => LISTENER_WIDE_READERS.has(n)));
      for (const x of l.routes) if (acceptedWithoutLua(x, ctx) && (wide || readsConsumerMetadata(x, ctx.ir.globalPlugins))) set.add(x);
    }
    metadataRoutes.set(ctx.ir, (routes = set));
  }
  return routes.has(r);
}

/**
 * header_to_metadata: the consumer's headers into the dynamic metadata the rate limits and logs
 * read, on the routes where something reads them (metadataReadOn); elsewhere it would cost a
 * filter and three header lookups a request for nothing (the decide script, when it runs, writes
 * the same metadata itself).
 */
export function nativeConsumerMetadataFilter(namespace: string): HttpFilter {
  const rule = (header: string, key: string) => ({ header, on_header_present: { metadata_namespace: namespace, key, type: 'STRING' }, remove: false });
  const config = () => anyMessage(HEADER_TO_METADATA, {
    request_rules: [
      rule('x-consumer-id', 'consumer_id'), rule('x-consumer-username', 'consumer_username'), rule('x-consumer-custom-id', 'consumer_custom_id'),
      rule('x-credential-identifier', 'credential_id'),
    ],
  });
  return {
    name: CONSUMER_METADATA_FILTER,
    httpFilter(l, ctx) {
      if (!l.routes.some((r) => metadataReadOn(r, ctx))) return undefined;
      return {
        name: CONSUMER_METADATA_FILTER,
        disabled: true,
        typed_config: config(),
      };
    },
    // On by its own rules again (Envoy refuses an empty per-route config).
    perRoute(r, ctx) {
      return metadataReadOn(r, ctx) ? config() : undefined;
    },
  };
}
