import { LOCAL_STAGE, type NativeLimit, type RateLimitPlan } from '../../contracts/ratelimit.js';
import type { IrListener } from '../../ir/types.js';
import { KONG_PERIOD_SECONDS } from '../../rate-limits.js';
import { anyMessage, duration, type JsonObject } from '../builders.js';
import { ratelimitPlan } from './ratelimit.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's `policy: local` served by Envoy's own local_ratelimit filter (envoy.filters.http.
 * local_ratelimit), with no call to the ratelimit companion, wherever Envoy gives exactly what
 * Kong gives; everywhere else the companion's memory store (one per gateway node, as Kong's
 * counters are per node) serves it. contracts/ratelimit.ts (planRateLimits) decides per route,
 * model/plugins/rate-limiting.ts (nativeLocalBlockers) lists the config's reasons. Against
 * Envoy 1.40 and the API protos Frontdesk loads, each reason is a behaviour a Kong user would
 * see change:
 *
 * - body: local_ratelimit's own answer is `local_rate_limited` (text/plain). The connection
 *   manager's local reply mapper (LOCAL_RATE_LIMIT_REPLY below) rewrites exactly those replies
 *   (response code details `local_rate_limited`) into Kong's `{"message": error_message}`, the
 *   message read from the route's metadata, so the body is Kong's for every config.
 * - status: one filter refuses with one status (its `status` field; a per-route config would
 *   give every route its own bucket): only Kong's default 429 is native.
 * - headers: Kong sends live counts (X-RateLimit-Remaining-<Unit>, RateLimit-Reset, Retry-After).
 *   local_ratelimit sends fixed `response_headers_to_add`, or draft-03 `x-ratelimit-limit`,
 *   `-remaining` (the whole tokens left, as Kong's remaining) and `-reset`: measured on Envoy
 *   1.40 with 3 a minute, the reset is 0 while a token is left and the time to the next token
 *   once none is (20, then 15 five seconds later: the bucket refills continuously), where Kong's
 *   RateLimit-Reset is the time until the bucket is full again, which those headers do not
 *   give: only `hide_client_headers: true` is native.
 * - keys: limit_by service needs one bucket per (scope, service), a static descriptor. A bucket
 *   per client (consumer, credential, ip, header, path's ip fallback) needs dynamic descriptors
 *   (an entry without a value): Envoy 1.40 keeps at most max_dynamic_descriptors of them, least
 *   recently used evicted (an evicted client starts over with a full bucket), and the API protos
 *   Frontdesk loads (@grpc/grpc-js-xds deps) predate the field: those stay on the companion.
 * - algorithm: a token bucket only (capacity = limit, refilled at limit per period, the same
 *   bucket as the companion's token-bucket); fixed-window and the other extensions cannot be
 *   expressed.
 * - several windows: Envoy takes a token from each matching bucket in turn and does not give it
 *   back when a later one refuses; Kong counts a refused request in no window.
 * - scope: the buckets are the listener filter's descriptors (shared by its routes and workers,
 *   `local_rate_limit_per_downstream_connection` off), so every route of a plugin's scope shares
 *   one count, as Kong's; a scope whose routes sit on several listeners, or partly on the
 *   companion (a consumer override), stays on the companion.
 *
 * One difference remains and is documented (docs/ratelimit.md): a config change that changes a
 * listener's limits (adds, removes or edits one) rebuilds that listener's filter, and its
 * buckets start full; Kong keeps its counters across a reload.
 */

export const LOCAL_RATELIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
const LOCAL_RATELIMIT_TYPE = 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';

/** The descriptor key of a native bucket (a generic_key the route sends). */
export const LOCAL_ENTRY = 'fd_local';

/** Where the route's Kong body for a local refusal is kept (route metadata, namespace `frontdesk`). */
export const LOCAL_BODY_METADATA = 'rate_limit_body';

/** A billion tokens a second: the default bucket, so that a request matching no descriptor is never refused. */
const UNLIMITED = 1_000_000_000;

/**
 * The local reply mapper (envoy.extensions.filters.network.http_connection_manager.v3.
 * ResponseMapper) that gives local_ratelimit's refusals Kong's body: only replies whose details
 * are `local_rate_limited` (Envoy's own words for this filter's refusals; the ratelimit filter's
 * say `request_rate_limited`), the body the route's metadata holds.
 */
export const LOCAL_RATE_LIMIT_REPLY: JsonObject = {
  filter: {
    extension_filter: {
      name: 'envoy.access_loggers.extension_filters.cel',
      typed_config: anyMessage('envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter', { expression: "response.code_details == 'local_rate_limited'" }),
    },
  },
  body_format_override: {
    text_format_source: { inline_string: `%METADATA(ROUTE:frontdesk:${LOCAL_BODY_METADATA})%` },
    content_type: 'application/json; charset=utf-8',
  },
};

/** The native limits of the routes Envoy serves on this listener, by bucket key. */
function listenerLimits(l: IrListener, plan: RateLimitPlan): Map<string, NativeLimit> {
  const out = new Map<string, NativeLimit>();
  for (const r of l.routes) {
    const n = r.service ? plan.native.get(r.routeName) : undefined;
    if (n) out.set(n.key, n);
  }
  return out;
}

/** A token bucket (envoy.type.v3.TokenBucket) of `limit` tokens refilled at `limit` per `unit`. */
function bucket(n: NativeLimit): JsonObject {
  return { max_tokens: n.limit, tokens_per_fill: n.limit, fill_interval: duration(KONG_PERIOD_SECONDS[n.unit] * 1000) };
}

/** Kong's body for a refused request: `{"message": error_message}`. */
export function kongRateLimitBody(message: string): string {
  return JSON.stringify({ message });
}

/**
 * envoy.filters.http.local_ratelimit on a listener whose routes have native limits: one
 * descriptor (fd_local = the bucket's key) per distinct bucket, read from the routes'
 * `rate_limits` of LOCAL_STAGE; a request of a route without one takes from a default bucket too
 * large to run dry. The routes get the action that names their bucket, and their Kong body.
 */
export const localRateLimitFilter: HttpFilter = {
  name: LOCAL_RATELIMIT_FILTER,
  httpFilter(listener: IrListener, ctx: FilterContext) {
    const limits = listenerLimits(listener, ratelimitPlan(ctx));
    if (!limits.size) return undefined;
    return {
      name: LOCAL_RATELIMIT_FILTER,
      typed_config: anyMessage(LOCAL_RATELIMIT_TYPE, {
        stat_prefix: 'frontdesk_local_rate_limit',
        stage: LOCAL_STAGE,
        token_bucket: { max_tokens: UNLIMITED, tokens_per_fill: UNLIMITED, fill_interval: duration(1000) },
        filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: 'frontdesk.local_rate_limit.enabled' },
        filter_enforced: { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: 'frontdesk.local_rate_limit.enforced' },
        // A request of a limited route takes only from its route's bucket.
        always_consume_default_token_bucket: false,
        // A refused gRPC call: Kong maps 429 to grpc-status 8 (RESOURCE_EXHAUSTED).
        rate_limited_as_resource_exhausted: true,
        descriptors: [...limits.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((n) => ({
          entries: [{ key: LOCAL_ENTRY, value: n.key }],
          token_bucket: bucket(n),
        })),
      }),
    };
  },
  localReplies(listener, ctx) {
    return listenerLimits(listener, ratelimitPlan(ctx)).size ? [LOCAL_RATE_LIMIT_REPLY] : [];
  },
  patchRoute(route, envoyRoute, ctx) {
    const n = route.service ? ratelimitPlan(ctx).native.get(route.routeName) : undefined;
    const action = envoyRoute.route as JsonObject | undefined;
    if (!n || !action) return;
    const limits = (action.rate_limits as JsonObject[] | undefined) ?? [];
    action.rate_limits = [...limits, { stage: LOCAL_STAGE, actions: [{ generic_key: { descriptor_key: LOCAL_ENTRY, descriptor_value: n.key } }] }];
    const metadata = (envoyRoute.metadata ?? {}) as { filter_metadata?: Record<string, JsonObject> };
    const fm = metadata.filter_metadata ?? {};
    envoyRoute.metadata = { ...metadata, filter_metadata: { ...fm, frontdesk: { ...(fm.frontdesk ?? {}), [LOCAL_BODY_METADATA]: kongRateLimitBody(n.errorMessage) } } };
  },
};
