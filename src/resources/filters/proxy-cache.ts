import { createHash } from 'node:crypto';
import { consumerId, hasAuthPlugin } from '../../contracts/authz.js';
import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { PROXY_CACHE_SCRIPT } from './proxy-cache-lua.js';
import { redirectOf } from './redirect.js';
import type { FilterContext, HttpFilter } from './registry.js';

type ProxyCache = FeatureOf<'proxy-cache'>;

/**
 * Kong's proxy-cache, as a Lua filter (proxy-cache-lua.ts holds the script and its bounds).
 * Envoy's own cache filter (envoy.filters.http.cache) is not used: on a miss it fetches the
 * response itself, past the rest of the chain and the route's own work (path rewrite for
 * strip_path, Host, the X-Forwarded-* headers Kong adds), and it stores only what RFC 9111
 * lets a shared cache store, which is not Kong's rule. The script runs at Kong's priority
 * (100: after authentication, rate limits and the transformers), reads each route's rules from
 * the route's metadata, and serves a hit itself.
 */

export const PROXY_CACHE_FILTER = 'frontdesk.proxy_cache';

const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';
const LUA_PER_ROUTE = 'envoy.extensions.filters.http.lua.v3.LuaPerRoute';
const SOURCE = 'proxy-cache';

/** A list as a set for the script: { value: true }. */
function set(values: readonly (string | number)[]): JsonObject {
  return Object.fromEntries(values.map((v) => [String(v), true]));
}

/** One config's rules as the script reads them (names as in Kong's conf). */
function rules(c: ProxyCache): JsonObject {
  return {
    methods: set(c.methods),
    statuses: set(c.statuses),
    content_types: set(c.contentTypes),
    ttl: c.ttlSeconds,
    ...(c.storageTtlSeconds !== undefined ? { storage_ttl: c.storageTtlSeconds } : {}),
    cache_control: c.honourCacheControl,
    ignore_uri_case: c.ignoreUriCase,
    ...(c.varyQueryParams ? { vary_query: c.varyQueryParams } : {}),
    vary_headers: c.varyHeaders,
    age: c.headers.age,
    status: c.headers.status,
    key: c.headers.key,
  };
}

/** The consumers with their own proxy-cache on this route, as [x-consumer-id, feature]; only where authz sets x-consumer-id. */
function consumerConfigs(r: IrRoute, ctx: FilterContext): [string, ProxyCache][] {
  if (!hasAuthPlugin(r)) return [];
  const out: [string, ProxyCache][] = [];
  for (const c of ctx.ir.consumers) {
    const p = r.consumerPlugins[c.key]?.['proxy-cache'];
    if (p) out.push([consumerId(c), p.feature]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether the route's answers may be cached: not a redirected one (Kong's redirect, 779, answers before proxy-cache, 100, looks). */
function cached(r: IrRoute, ctx: FilterContext): boolean {
  return !!r.service && !redirectOf(r) && (r.plugins['proxy-cache'] !== undefined
    || (hasAuthPlugin(r) && ctx.ir.consumers.some((c) => r.consumerPlugins[c.key]?.['proxy-cache'] !== undefined)));
}

/**
 * The route's cache metadata: its scope (a hash of the route and every cache config on it, so
 * an edit of either starts the route on fresh keys: Kong's purge, by editing), its own rules
 * and those of its consumers.
 */
export function proxyCacheRouteMetadata(r: IrRoute, ctx: FilterContext): JsonObject | undefined {
  if (!cached(r, ctx)) return undefined;
  const own = r.plugins['proxy-cache']?.feature;
  const consumers = consumerConfigs(r, ctx);
  const scope = createHash('sha256')
    .update(JSON.stringify({ route: r.id, service: r.service, path: r.path ?? null, own: own ?? null, consumers }))
    .digest('hex').slice(0, 16);
  return {
    scope,
    ...(own ? { default: rules(own) } : {}),
    // Every route with an auth plugin names the consumer in the key (Kong's prefix_uuid).
    ...(hasAuthPlugin(r) ? { consumers: Object.fromEntries(consumers.map(([id, c]) => [id, rules(c)])) } : {}),
  };
}

function used(l: IrListener, ctx: FilterContext): boolean {
  return l.routes.some((r) => cached(r, ctx));
}

export const proxyCacheFilter: HttpFilter = {
  name: PROXY_CACHE_FILTER,
  httpFilter(l, ctx) {
    if (!used(l, ctx)) return undefined;
    return { name: PROXY_CACHE_FILTER, disabled: true, typed_config: anyMessage(LUA, { source_codes: { [SOURCE]: { inline_string: PROXY_CACHE_SCRIPT } } }) };
  },
  perRoute(r, ctx) {
    return cached(r, ctx) ? anyMessage(LUA_PER_ROUTE, { name: SOURCE }) : undefined;
  },
  patchRoute(r, envoyRoute, ctx) {
    const meta = proxyCacheRouteMetadata(r, ctx);
    if (!meta || !envoyRoute.route) return;
    const metadata = (envoyRoute.metadata ?? {}) as JsonObject;
    const filterMetadata = (metadata.filter_metadata ?? {}) as JsonObject;
    envoyRoute.metadata = { ...metadata, filter_metadata: { ...filterMetadata, [PROXY_CACHE_FILTER]: { rules: meta } } };
  },
};
