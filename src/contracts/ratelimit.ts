/**
 * The ratelimit companion's contract (proto/frontdesk/ratelimit/v1/ratelimit.proto) and the one
 * source of truth for rate limiting: from the IR, for every route (and every consumer-scoped
 * override), the plan that both the descriptor entries Envoy must send (the route's
 * `rate_limits` actions, resources/filters/ratelimit.ts) and the limits the ratelimit service
 * enforces (the `RouteRateLimit` resource, ratelimit/limiter.ts) are read from, so they cannot
 * disagree. Pure: no I/O, no clock, no logger.
 */
import type { AppliedPlugin, FeatureOf, GatewayIR, IrRoute } from '../ir/types.js';
import { MAX_STAGES, nativeLocalBlockers, type RateLimitAlgorithm, type RateLimitingRedis, type RateLimitPeriod } from '../rate-limits.js';
import { consumerId } from './authz.js';
import { byName, contentAddressedResource, type CompanionResource } from './companion.js';
import type { Algorithm__Output } from './generated/frontdesk/ratelimit/v1/Algorithm.js';
import type { LimitBy__Output } from './generated/frontdesk/ratelimit/v1/LimitBy.js';
import type { Policy__Output } from './generated/frontdesk/ratelimit/v1/Policy.js';
import type { RateLimitPolicy } from './generated/frontdesk/ratelimit/v1/RateLimitPolicy.js';
import type { Redis } from './generated/frontdesk/ratelimit/v1/Redis.js';
import type { RouteRateLimit, RouteRateLimit__Output } from './generated/frontdesk/ratelimit/v1/RouteRateLimit.js';
import type { Unit__Output } from './generated/frontdesk/ratelimit/v1/Unit.js';

/**
 * What the ratelimit companion decodes of Envoy's API with protobufjs: nothing (the ADS
 * messages are read and written by hand, xds/ads-codec.ts, and the rate-limit service's own two,
 * ratelimit/rls-codec.ts); it loads only Frontdesk's own messages. Here, not in the service's
 * module, so that the command line knows it before loading the service.
 */
export const RATELIMIT_ENVOY_PROTOS: readonly string[] = [];

export type { RateLimitPolicy, RouteRateLimit, RouteRateLimit__Output };

type RateLimiting = AppliedPlugin<FeatureOf<'rate-limiting'>>;

/** The rate-limit domain of every request Envoy sends the service. */
export const RATELIMIT_DOMAIN = 'frontdesk';

/** The companion resource's type URL. */
export const RATELIMIT_TYPE_URL = 'type.googleapis.com/frontdesk.ratelimit.v1.RouteRateLimit';

/** The ratelimit type URL's message, as the service decodes it. */
export interface RatelimitMessages {
  [RATELIMIT_TYPE_URL]: RouteRateLimit__Output;
}

/**
 * Where the authz companion puts a request's identity (Envoy dynamic metadata, written by the
 * ext_authz filter under its own name): consumer_id, consumer_username, credential_id.
 */
export const AUTHZ_METADATA_NAMESPACE = 'envoy.filters.http.ext_authz';

/** The keys of the descriptor entries Envoy sends and the service reads. */
export const ENTRY = {
  /** generic_key: the name of the RouteRateLimit to apply, a hash of its content (see rateLimitPolicyId). */
  route: 'fd_route',
  /** generic_key: the filter stage asking (a route's policies can sit on different stages). */
  stage: 'fd_stage',
  /** metadata: the consumer authz identified (absent for anonymous requests). */
  consumer: 'consumer',
  /** metadata: the credential authz accepted. */
  credential: 'credential',
  /** remote_address: the client's address (the TCP peer; Envoy uses use_remote_address). */
  ip: 'remote_address',
  /** request_headers `:path`: the request path (with its query, which the service drops). */
  path: 'path',
} as const;

/** The descriptor key carrying request header `name` (lower case). */
export function headerEntry(name: string): string {
  return `header:${name.toLowerCase()}`;
}

export type LimitBy = FeatureOf<'rate-limiting'>['limit_by'];
export type StorePolicy = FeatureOf<'rate-limiting'>['policy'];

/** The Redis a policy names, Kong's defaults applied. */
export type RedisSettings = RateLimitingRedis;

/** One Kong rate-limiting plugin instance as the service enforces it. */
export interface RatePolicy {
  /** Counter namespace: Kong's (route_id, service_id) of the plugin, see scopeKey. */
  scope: string;
  limitBy: LimitBy;
  /** Lower case. */
  headerName?: string;
  path?: string;
  windows: Array<{ unit: RateLimitPeriod; limit: number }>;
  algorithm: RateLimitAlgorithm;
  policy: StorePolicy;
  /** Only for policy redis. */
  redis?: RedisSettings;
  faultTolerant: boolean;
  hideClientHeaders: boolean;
  errorCode: number;
  errorMessage: string;
  /** The Envoy ratelimit filter stage that asks about this policy. */
  stage: number;
}

/** The limits of one Kong route: its own policy and the consumer-scoped ones. */
export interface RouteLimits {
  /**
   * In a plan, the Kong route's name (all its paths share it); read back from a resource, the
   * resource's name (its content hash, rateLimitPolicyId).
   */
  name: string;
  service?: string;
  policy?: RatePolicy;
  /** consumer id → policy, sorted by id. */
  consumers: Array<{ consumerId: string; policy: RatePolicy }>;
}

/**
 * One ratelimit filter stage: Envoy's filter has one status for refusals and one failure
 * mode, so each distinct (error_code, failure mode) pair gets its own filter, and a route's
 * descriptors go to the stage of the policy that applies.
 */
export interface StageGroup {
  stage: number;
  errorCode: number;
  /** failure_mode_deny: refuse (500) when the service cannot be asked. */
  failureModeDeny: boolean;
}

/**
 * A limit Envoy's local_ratelimit enforces by itself (resources/filters/local-ratelimit.ts):
 * one token bucket, shared by every route of the plugin's scope on the listener.
 */
export interface NativeLimit {
  /** The bucket's descriptor value: the counter's scope and identifier (Kong's key without the period). */
  key: string;
  unit: RateLimitPeriod;
  limit: number;
  errorMessage: string;
}

/** Everything rate limiting needs from one IR. */
export interface RateLimitPlan {
  /** Kong route name → its limits, for the routes the ratelimit companion serves. */
  routes: Map<string, RouteLimits>;
  /** Kong route name → its limit, for the routes Envoy's local_ratelimit serves. */
  native: Map<string, NativeLimit>;
  /** Why each other rate-limited route is not served by Envoy (Kong route name → reasons). */
  companionWhy: Map<string, string[]>;
  /** Indexed by stage. */
  stages: StageGroup[];
}

/**
 * The ratelimit filter stage local_ratelimit reads its routes' descriptors from (Envoy's stages
 * are 0-10): the companion's filters take the others.
 */
export const LOCAL_STAGE = MAX_STAGES - 1;

export { MAX_STAGES };

/** Translation settings the plan reads. */
export interface PlanSettings {
  /** Operator override: never refuse because the service cannot be asked. */
  failOpen: boolean;
}

/**
 * Kong keys rate-limiting counters `ratelimit:<route_id>:<service_id>:<identifier>:...` with the
 * route and service *of the plugin* (null for a global or consumer-only plugin): routes share
 * counters exactly when they share a plugin instance's scope.
 */
export function scopeKey(route: Pick<IrRoute, 'routeName' | 'service'>, scope: RateLimiting['scope']): string {
  if (scope === 'route') return `route:${route.routeName}`;
  if (scope === 'service') return `service:${route.service ?? ''}`;
  return 'global';
}

function groupKey(errorCode: number, deny: boolean): string {
  return `${String(errorCode).padStart(3, '0')}/${deny ? 1 : 0}`;
}

function policyFrom(plugin: RateLimiting, route: IrRoute, stageOf: (code: number, deny: boolean) => number, settings: PlanSettings): RatePolicy {
  const c = plugin.feature;
  return {
    scope: scopeKey(route, plugin.scope),
    limitBy: c.limit_by,
    ...(c.limit_by === 'header' && c.header_name ? { headerName: c.header_name.toLowerCase() } : {}),
    ...(c.limit_by === 'path' && c.path ? { path: c.path } : {}),
    windows: c.windows,
    algorithm: c.algorithm,
    policy: c.policy,
    ...(c.policy === 'redis' ? { redis: c.redis } : {}),
    faultTolerant: c.fault_tolerant,
    hideClientHeaders: c.hide_client_headers,
    errorCode: c.error_code,
    errorMessage: c.error_message,
    stage: stageOf(c.error_code, !c.fault_tolerant && !settings.failOpen),
  };
}

/** The plugins that limit a route: its own, and each consumer's override. */
function pluginsOf(r: IrRoute, consumerIds: Map<string, string>): { own?: RateLimiting; consumers: Array<[string, RateLimiting]> } {
  const consumers: Array<[string, RateLimiting]> = [];
  for (const [key, plugins] of Object.entries(r.consumerPlugins)) {
    const p = plugins['rate-limiting'];
    const id = consumerIds.get(key);
    if (p && id !== undefined) consumers.push([id, p]);
  }
  consumers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { own: r.plugins['rate-limiting'], consumers };
}

/** Whether a route is rate limited for anyone (Envoy must ask the service about it). */
export function isRateLimited(r: IrRoute): boolean {
  return r.plugins['rate-limiting'] !== undefined || Object.values(r.consumerPlugins).some((p) => p['rate-limiting'] !== undefined);
}

/**
 * IR → the plan: each rate-limited Kong route's policies, and the filter stages they need.
 * Routes without a service (Kong answers 503 before any plugin counts) are left out.
 * Throws when the limits cannot be expressed in Envoy (more than 11 distinct error_code and
 * fault_tolerant pairs), so such a config is refused rather than served differently.
 */
export function planRateLimits(ir: GatewayIR, settings: PlanSettings): RateLimitPlan {
  const consumerIds = new Map(ir.consumers.map((c) => [c.key, consumerId(c)]));
  const { native, why: companionWhy } = nativeLimits(ir, consumerIds);
  const limited = ir.routes.filter((r) => r.service && isRateLimited(r) && !native.has(r.routeName));

  const groups = new Map<string, { errorCode: number; deny: boolean }>();
  for (const r of limited) {
    const { own, consumers } = pluginsOf(r, consumerIds);
    for (const p of [own, ...consumers.map(([, c]) => c)]) {
      if (!p) continue;
      const c = p.feature;
      const deny = !c.fault_tolerant && !settings.failOpen;
      groups.set(groupKey(c.error_code, deny), { errorCode: c.error_code, deny });
    }
  }
  const sorted = [...groups].sort(([a], [b]) => (a === groupKey(429, false) ? -1 : b === groupKey(429, false) ? 1 : a < b ? -1 : 1));
  const available = native.size ? LOCAL_STAGE : MAX_STAGES;
  if (sorted.length > available) {
    throw new Error(`rate-limiting: ${sorted.length} distinct (error_code, fault_tolerant) combinations; Envoy's ratelimit filter has ${MAX_STAGES} stages${native.size ? ', one of them for local_ratelimit' : ''}, so at most ${available} can be served`);
  }
  const stages: StageGroup[] = sorted.map(([, g], stage) => ({ stage, errorCode: g.errorCode, failureModeDeny: g.deny }));
  const index = new Map(sorted.map(([k], i) => [k, i]));
  const stageOf = (code: number, deny: boolean) => index.get(groupKey(code, deny))!;

  const routes = new Map<string, RouteLimits>();
  for (const r of limited) {
    if (routes.has(r.routeName)) continue;
    const { own, consumers } = pluginsOf(r, consumerIds);
    routes.set(r.routeName, {
      name: r.routeName,
      ...(r.service ? { service: r.service } : {}),
      ...(own ? { policy: policyFrom(own, r, stageOf, settings) } : {}),
      consumers: consumers.map(([id, p]) => ({ consumerId: id, policy: policyFrom(p, r, stageOf, settings) })),
    });
  }
  return { routes, native, companionWhy, stages };
}

/**
 * The routes whose limit Envoy's local_ratelimit enforces exactly as Kong would: the plugin's
 * config allows it (nativeLocalBlockers, enforcer not `companion`), no consumer overrides it,
 * and every route sharing its counters (its scope) is such a route on one listener, so one
 * bucket of one listener's filter holds the whole count, as Kong's node-local counter does.
 */
function nativeLimits(ir: GatewayIR, consumerIds: Map<string, string>): { native: Map<string, NativeLimit>; why: Map<string, string[]> } {
  const why = new Map<string, string[]>();
  const candidates = new Map<string, { scope: string; limit: NativeLimit }>();
  const byScope = new Map<string, { routes: Set<string>; blocked: boolean }>();
  for (const r of ir.routes) {
    if (!r.service || !isRateLimited(r)) continue;
    const { own, consumers } = pluginsOf(r, consumerIds);
    const reasons: string[] = [];
    if (!own) reasons.push('limited only for some consumers (consumer-scoped plugins): the consumer comes from authz');
    else {
      if (own.feature.enforcer === 'companion') reasons.push('enforcer: companion');
      reasons.push(...nativeLocalBlockers(own.feature));
    }
    if (consumers.length) reasons.push('a consumer-scoped plugin overrides the limit for some consumers');
    const scope = own ? scopeKey(r, own.scope) : '';
    const entry = byScope.get(scope) ?? { routes: new Set<string>(), blocked: false };
    byScope.set(scope, entry);
    entry.routes.add(r.routeName);
    if (reasons.length) {
      entry.blocked = true;
      why.set(r.routeName, reasons);
      continue;
    }
    const c = own!.feature;
    const w = c.windows[0]!;
    candidates.set(r.routeName, { scope, limit: { key: `${scope}|${r.service}`, unit: w.unit, limit: w.limit, errorMessage: c.error_message } });
  }
  const native = new Map<string, NativeLimit>();
  for (const [route, { scope, limit }] of candidates) {
    const entry = byScope.get(scope)!;
    const listeners = new Set(ir.listeners.filter((l) => l.routes.some((x) => entry.routes.has(x.routeName))).map((l) => l.name));
    if (entry.blocked) why.set(route, [`shares its counters (${scope}) with a route the ratelimit companion serves`]);
    else if (listeners.size > 1) why.set(route, [`its counters (${scope}) span ${listeners.size} listeners; a local_ratelimit bucket belongs to one`]);
    else native.set(route, limit);
  }
  return { native, why };
}

/** Every policy of a route, its own first. */
export function policiesOf(limits: RouteLimits): RatePolicy[] {
  return [...(limits.policy ? [limits.policy] : []), ...limits.consumers.map((c) => c.policy)];
}

/** The stages a route's policies sit on, ascending. */
export function stagesOf(limits: RouteLimits): number[] {
  return [...new Set(policiesOf(limits).map((p) => p.stage))].sort((a, b) => a - b);
}

/**
 * The descriptor entries one policy needs to find its identifier, as Kong's get_identifier
 * computes it: consumer → the consumer's id, else the credential's, else the ip; credential →
 * the credential's id, else the ip; header → the header's value, else the ip; path → the path
 * when it is the configured one, else the ip; service → the route's service; ip → the ip.
 */
export function entriesFor(p: RatePolicy): string[] {
  switch (p.limitBy) {
    case 'consumer': return [ENTRY.consumer, ENTRY.credential, ENTRY.ip];
    case 'credential': return [ENTRY.credential, ENTRY.ip];
    case 'ip': return [ENTRY.ip];
    case 'service': return [];
    case 'header': return [headerEntry(p.headerName ?? ''), ENTRY.ip];
    case 'path': return [ENTRY.path, ENTRY.ip];
  }
}

// ---- the companion resource, both ways ------------------------------------------------------

const UNIT_ENUM = { second: 'SECOND', minute: 'MINUTE', hour: 'HOUR', day: 'DAY', month: 'MONTH', year: 'YEAR' } as const satisfies Record<RateLimitPeriod, Unit__Output>;
const LIMIT_BY_ENUM = {
  consumer: 'CONSUMER', credential: 'CREDENTIAL', ip: 'IP', service: 'SERVICE', header: 'HEADER', path: 'PATH',
} as const satisfies Record<LimitBy, LimitBy__Output>;
const ALGORITHM_ENUM = {
  'token-bucket': 'TOKEN_BUCKET', 'fixed-window': 'FIXED_WINDOW', 'sliding-window': 'SLIDING_WINDOW', 'sliding-log': 'SLIDING_LOG', 'leaky-bucket': 'LEAKY_BUCKET',
} as const satisfies Record<RateLimitAlgorithm, Algorithm__Output>;
const POLICY_ENUM = { local: 'LOCAL', cluster: 'CLUSTER', redis: 'REDIS' } as const satisfies Record<StorePolicy, Policy__Output>;

function invert<K extends string, V extends string>(m: Record<K, V>): Map<string, K> {
  return new Map((Object.keys(m) as K[]).map((k) => [m[k], k]));
}
const UNIT_OF = invert(UNIT_ENUM);
const LIMIT_BY_OF = invert(LIMIT_BY_ENUM);
const ALGORITHM_OF = invert(ALGORITHM_ENUM);
const POLICY_OF = invert(POLICY_ENUM);

/** Kong's redis record (defaults applied) as the companions' Redis message. */
export function redisMessage(r: RedisSettings): Redis {
  return {
    host: r.host, port: r.port, username: r.username, password: r.password, database: r.database,
    ssl: r.ssl, ssl_verify: r.ssl_verify, server_name: r.server_name,
    connect_timeout_ms: r.connect_timeout, read_timeout_ms: r.read_timeout,
  };
}

function policyMessage(p: RatePolicy): RateLimitPolicy {
  return {
    scope: p.scope,
    limit_by: LIMIT_BY_ENUM[p.limitBy],
    header_name: p.headerName,
    path: p.path,
    windows: p.windows.map((w) => ({ unit: UNIT_ENUM[w.unit], limit: w.limit })),
    algorithm: ALGORITHM_ENUM[p.algorithm],
    policy: POLICY_ENUM[p.policy],
    redis: p.redis ? redisMessage(p.redis) : undefined,
    fault_tolerant: p.faultTolerant,
    hide_client_headers: p.hideClientHeaders,
    error_code: p.errorCode,
    error_message: p.errorMessage,
    stage: p.stage,
  };
}

/** RouteLimits → the frontdesk.ratelimit.v1.RouteRateLimit message (named by its content, see routeRateLimitResource). */
export function routeRateLimitMessage(limits: RouteLimits): RouteRateLimit {
  return {
    service: limits.service,
    policy: limits.policy ? policyMessage(limits.policy) : undefined,
    consumers: limits.consumers.map((c) => ({ consumer_id: c.consumerId, policy: policyMessage(c.policy) })),
  };
}

const limitResources = new WeakMap<RouteLimits, CompanionResource>();

/**
 * RouteLimits → the RouteRateLimit resource, named by its content (computed once per plan
 * entry). The counters are not keyed by that name but by each policy's scope and the request's
 * identifier (see scopeKey), as Kong keys them: a new name for equal limits, or a route renamed
 * under a service-scoped plugin, keeps counting where it was.
 */
export function routeRateLimitResource(limits: RouteLimits): CompanionResource {
  let r = limitResources.get(limits);
  if (!r) limitResources.set(limits, (r = contentAddressedResource(RATELIMIT_TYPE_URL, routeRateLimitMessage(limits))));
  return r;
}

/** The name Envoy sends as the descriptor entry fd_route: the route's RouteRateLimit, by content. */
export function rateLimitPolicyId(limits: RouteLimits): string {
  return routeRateLimitResource(limits).name;
}

/** RouteLimits → the RouteRateLimit resource body the control plane serves. */
export function routeResource(limits: RouteLimits): CompanionResource['body'] {
  return routeRateLimitResource(limits).body;
}

/** One RouteRateLimit resource per distinct limits of the rate-limited Kong routes. */
export function rateLimitResources(plan: RateLimitPlan): CompanionResource[] {
  const out = new Map<string, CompanionResource>();
  for (const limits of plan.routes.values()) {
    const r = routeRateLimitResource(limits);
    if (!out.has(r.name)) out.set(r.name, r);
  }
  return byName([...out.values()]);
}

function redisFrom(r: Redis): RedisSettings {
  const timeout = r.read_timeout_ms || 2000;
  return {
    ...(r.host ? { host: r.host } : {}),
    port: r.port || 6379,
    timeout,
    connect_timeout: r.connect_timeout_ms || timeout,
    send_timeout: timeout,
    read_timeout: timeout,
    ...(r.username ? { username: r.username } : {}),
    ...(r.password ? { password: r.password } : {}),
    database: r.database ?? 0,
    ssl: r.ssl === true,
    ssl_verify: r.ssl_verify === true,
    ...(r.server_name ? { server_name: r.server_name } : {}),
  };
}

function policyFromMessage(o: RateLimitPolicy, where: string): RatePolicy {
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${where}: bad or missing ${what}`);
    return v;
  };
  const windows = (o.windows ?? []).map((w, i) => ({
    unit: need(UNIT_OF.get(String(w.unit ?? '')), `windows[${i}].unit`),
    limit: need(Number(w.limit ?? 0) > 0 ? Number(w.limit) : undefined, `windows[${i}].limit`),
  }));
  if (!windows.length) throw new Error(`${where}: no windows`);
  const policy = need(POLICY_OF.get(String(o.policy ?? '')), 'policy');
  const limitBy = need(LIMIT_BY_OF.get(String(o.limit_by ?? '')), 'limit_by');
  return {
    scope: o.scope ?? '',
    limitBy,
    ...(o.header_name ? { headerName: o.header_name.toLowerCase() } : {}),
    ...(o.path ? { path: o.path } : {}),
    windows,
    algorithm: need(ALGORITHM_OF.get(String(o.algorithm ?? '')), 'algorithm'),
    policy,
    ...(policy === 'redis' ? { redis: redisFrom(need(o.redis ?? undefined, 'redis')) } : {}),
    faultTolerant: o.fault_tolerant === true,
    hideClientHeaders: o.hide_client_headers === true,
    errorCode: o.error_code || 429,
    errorMessage: o.error_message ?? '',
    stage: o.stage ?? 0,
  };
}

/**
 * A decoded frontdesk.ratelimit.v1.RouteRateLimit → RouteLimits. Throws with the field's path
 * on a message the control plane cannot have built (the service NACKs such an update and
 * keeps its last good policy).
 */
export function routeLimitsFromResource(m: RouteRateLimit): RouteLimits {
  const name = m.name ?? '';
  if (!name) throw new Error('RouteRateLimit without a name');
  return {
    name,
    ...(m.service ? { service: m.service } : {}),
    ...(m.policy ? { policy: policyFromMessage(m.policy, `${name}.policy`) } : {}),
    consumers: (m.consumers ?? []).map((c, i) => ({
      consumerId: c.consumer_id ?? '',
      policy: policyFromMessage(c.policy ?? {}, `${name}.consumers[${i}].policy`),
    })),
  };
}
