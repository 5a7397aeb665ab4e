import {
  AUTHZ_METADATA_NAMESPACE, ENTRY, entriesFor, planRateLimits, policiesOf, RATELIMIT_DOMAIN, rateLimitPolicyId, rateLimitResources, stagesOf, type RateLimitPlan, type RouteLimits,
} from '../../contracts/ratelimit.js';
import type { GatewayIR, IrListener } from '../../ir/types.js';
import { ENVOY_ERROR_STATUS_NAMES } from '../../rate-limits.js';
import { anyMessage, duration, type JsonObject } from '../builders.js';
import { companionCluster } from '../companion-cluster.js';
import type { CompanionResource, FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's rate-limiting plugin, enforced by Envoy's ratelimit filter asking the ratelimit
 * companion (gRPC, envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit) about every
 * request on a rate-limited route. The route's `rate_limits` actions and the companion's
 * RouteRateLimit resources both come from one plan (contracts/ratelimit.ts). See docs/ratelimit.md.
 */

/** The cluster Envoy reaches the ratelimit service through (Kong services are `service:<name>`). */
export const RATELIMIT_CLUSTER = 'frontdesk:ratelimit';

const RATE_LIMIT_TYPE = 'envoy.extensions.filters.http.ratelimit.v3.RateLimit';
const RATE_LIMIT_PER_ROUTE_TYPE = 'envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute';

const plans = new WeakMap<GatewayIR, Map<boolean, RateLimitPlan>>();

/** The plan of ctx's IR, computed once per IR and settings (translate calls the hooks per route). */
export function ratelimitPlan(ctx: FilterContext): RateLimitPlan {
  let byMode = plans.get(ctx.ir);
  if (!byMode) plans.set(ctx.ir, (byMode = new Map()));
  const failOpen = ctx.settings.ratelimit.failOpen;
  let plan = byMode.get(failOpen);
  if (!plan) {
    plan = planRateLimits(ctx.ir, { failOpen });
    for (const g of plan.stages) {
      if (!ENVOY_ERROR_STATUS_NAMES[g.errorCode]) {
        throw new Error(`rate-limiting: error_code ${g.errorCode} cannot be sent by Envoy's ratelimit filter (it refuses with a 4xx or 5xx status it knows: ${Object.keys(ENVOY_ERROR_STATUS_NAMES).join(', ')})`);
      }
    }
    byMode.set(failOpen, plan);
  }
  return plan;
}

/** The stages used by the routes Envoy serves on this listener. */
function listenerStages(l: IrListener, plan: RateLimitPlan): Set<number> {
  const out = new Set<number>();
  for (const r of l.routes) {
    const limits = r.service ? plan.routes.get(r.routeName) : undefined;
    if (limits) for (const s of stagesOf(limits)) out.add(s);
  }
  return out;
}

const ENTRY_ORDER: string[] = [ENTRY.consumer, ENTRY.credential, ENTRY.path, ENTRY.ip];

function metadataAction(key: string, field: string, skipIfAbsent: boolean): JsonObject {
  return {
    metadata: {
      descriptor_key: key,
      metadata_key: { key: AUTHZ_METADATA_NAMESPACE, path: [{ key: field }] },
      source: 'DYNAMIC',
      ...(skipIfAbsent ? { skip_if_absent: true } : {}),
    },
  };
}

/**
 * The Envoy route's `rate_limits` (envoy.config.route.v3.RateLimit), one per stage the route's
 * policies use. Each produces one descriptor: (fd_route, the RouteRateLimit's content hash), (fd_stage, n), then only the
 * entries some policy needs. Entries that may be missing (consumer, credential, a header) are
 * skipped when absent rather than dropping the descriptor. A route limited only for some
 * consumers requires the consumer entry, so anonymous requests there cost no call.
 */
export function rateLimitActions(limits: RouteLimits): JsonObject[] {
  const policies = policiesOf(limits);
  const needed = new Set(policies.flatMap(entriesFor));
  if (limits.consumers.length) needed.add(ENTRY.consumer);
  const consumerRequired = limits.policy === undefined;
  const headers = [...needed].filter((e) => e.startsWith('header:')).sort();
  const ordered = [...ENTRY_ORDER.filter((e) => needed.has(e) && e !== ENTRY.ip), ...headers, ...(needed.has(ENTRY.ip) ? [ENTRY.ip] : [])];
  const actions: JsonObject[] = [];
  for (const e of ordered) {
    if (e === ENTRY.consumer) actions.push(metadataAction(ENTRY.consumer, 'consumer_id', !consumerRequired));
    else if (e === ENTRY.credential) actions.push(metadataAction(ENTRY.credential, 'credential_id', true));
    else if (e === ENTRY.ip) actions.push({ remote_address: {} });
    else if (e === ENTRY.path) actions.push({ request_headers: { header_name: ':path', descriptor_key: ENTRY.path, skip_if_absent: true } });
    else actions.push({ request_headers: { header_name: e.slice('header:'.length), descriptor_key: e, skip_if_absent: true } });
  }
  return stagesOf(limits).map((stage) => ({
    ...(stage ? { stage } : {}),
    actions: [
      { generic_key: { descriptor_key: ENTRY.route, descriptor_value: rateLimitPolicyId(limits) } },
      { generic_key: { descriptor_key: ENTRY.stage, descriptor_value: String(stage) } },
      ...actions,
    ],
  }));
}

/** The ratelimit cluster: HTTP/2 (gRPC) to settings.ratelimit, a static address or a DNS name. */
export function ratelimitCluster(ctx: FilterContext): JsonObject {
  return companionCluster(RATELIMIT_CLUSTER, ctx.settings.ratelimit.host, ctx.settings.ratelimit.port, ctx.settings.tls && { sds: ctx.settings.tls, companion: 'ratelimit' });
}

/** The chain name of stage n's filter. */
export function stageFilterName(stage: number): string {
  return stage === 0 ? 'envoy.filters.http.ratelimit' : `frontdesk.ratelimit.stage${stage}`;
}

/**
 * envoy.filters.http.ratelimit for one stage: present on a listener only when one of its routes
 * has a policy on that stage, and off (`disabled`) unless the route has one there: the routes
 * that do switch it on with an empty per-route config (the route's own `rate_limits`, the
 * filter's domain), so the other routes of the listener do not create the filter per request
 * (measured in bench/request-path, the shared-listener case). The filter refuses with the stage's error_code and the service's
 * body and headers; it lets requests through when the service cannot be asked unless the
 * stage's policies are fault_tolerant: false (then 500, as Kong answers when it cannot count).
 */
function stageFilter(stage: number): HttpFilter {
  const name = stageFilterName(stage);
  const filter: HttpFilter = {
    name,
    httpFilter(listener, ctx) {
      const plan = ratelimitPlan(ctx);
      const group = plan.stages[stage];
      if (!group || !listenerStages(listener, plan).has(stage)) return undefined;
      return {
        name,
        disabled: true,
        typed_config: anyMessage(RATE_LIMIT_TYPE, {
          domain: RATELIMIT_DOMAIN,
          ...(stage ? { stage } : {}),
          timeout: duration(ctx.settings.ratelimit.timeoutMs),
          // proto3's false is absent.
          ...(group.failureModeDeny ? { failure_mode_deny: true } : {}),
          rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: RATELIMIT_CLUSTER } }, transport_api_version: 'V3' },
          // Kong's headers come from the service (response_headers_to_add), not Envoy's draft ones;
          // Kong sends no x-envoy-ratelimited.
          disable_x_envoy_ratelimited_header: true,
          rate_limited_status: { code: ENVOY_ERROR_STATUS_NAMES[group.errorCode]! },
          // A refused gRPC call: Kong maps 429 to grpc-status 8 (RESOURCE_EXHAUSTED); Envoy's
          // default would be 14 (UNAVAILABLE). Other codes follow Envoy's HTTP → gRPC mapping.
          ...(group.errorCode === 429 ? { rate_limited_as_resource_exhausted: true } : {}),
          status_on_error: { code: 'InternalServerError' },
        }),
      };
    },
  };
  filter.perRoute = (route, ctx) => {
    const limits = route.service ? ratelimitPlan(ctx).routes.get(route.routeName) : undefined;
    return limits && stagesOf(limits).includes(stage) ? anyMessage(RATE_LIMIT_PER_ROUTE_TYPE, {}) : undefined;
  };
  if (stage === 0) {
    filter.patchRoute = (route, envoyRoute, ctx) => {
      const limits = route.service ? ratelimitPlan(ctx).routes.get(route.routeName) : undefined;
      const action = envoyRoute.route as JsonObject | undefined;
      if (!limits || !action) return;
      action.rate_limits = rateLimitActions(limits);
    };
    filter.clusters = (ctx) => {
      const plan = ratelimitPlan(ctx);
      return ctx.ir.listeners.some((l) => listenerStages(l, plan).size) ? [ratelimitCluster(ctx)] : [];
    };
    filter.companions = (ctx): CompanionResource[] => rateLimitResources(ratelimitPlan(ctx));
  }
  return filter;
}

/** One filter per possible stage (0-10), in chain order; filters/index.ts lists them. */
export const RATELIMIT_FILTERS: readonly HttpFilter[] = Array.from({ length: 11 }, (_, stage) => stageFilter(stage));
