/**
 * The one source of truth for rate limiting: from the IR, for every route (and every
 * consumer-scoped override), both the descriptor entries Envoy must send (the route's
 * `rate_limits` actions) and the limits the ratelimit service enforces (the `RouteRateLimit`
 * companion resource). The filter (resources/filters/ratelimit.ts) and the service
 * (ratelimit/limiter.ts) both read what this module builds, so they cannot disagree.
 * Pure: no I/O, no clock, no logger.
 */
import { consumerId } from '../authz/resources.js';
import type { AppliedPlugin, FeatureOf, GatewayIR, IrRoute } from '../ir/types.js';

type RateLimiting = AppliedPlugin<FeatureOf<'rate-limiting'>>;
import { RATE_LIMIT_PERIODS, type RateLimitingConfig, type RateLimitingRedis } from '../model/plugins/rate-limiting.js';
import type { Json } from '../xds/proto-json.js';
import type { AlgorithmName, Unit } from './algorithms/types.js';

type JsonObject = { [k: string]: Json };

/** The rate-limit domain of every request Envoy sends the service. */
export const RATELIMIT_DOMAIN = 'frontdesk';

/** The companion resource's type URL (proto/frontdesk/ratelimit/v1/ratelimit.proto). */
export const RATELIMIT_TYPE_URL = 'type.googleapis.com/frontdesk.ratelimit.v1.RouteRateLimit';

/**
 * Where the authz companion puts a request's identity (Envoy dynamic metadata, written by the
 * ext_authz filter under its own name): consumer_id, consumer_username, credential_id.
 */
export const AUTHZ_METADATA_NAMESPACE = 'envoy.filters.http.ext_authz';

/** The keys of the descriptor entries Envoy sends and the service reads. */
export const ENTRY = {
  /** generic_key: the Kong route's name, the RouteRateLimit to apply. */
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

export type LimitBy = RateLimitingConfig['limit_by'];
export type StorePolicy = RateLimitingConfig['policy'];

/** One Kong rate-limiting plugin instance as the service enforces it. */
export interface RatePolicy {
  /** Counter namespace: Kong's (route_id, service_id) of the plugin, see scopeKey. */
  scope: string;
  limitBy: LimitBy;
  /** Lower case. */
  headerName?: string;
  path?: string;
  windows: Array<{ unit: Unit; limit: number }>;
  algorithm: AlgorithmName;
  policy: StorePolicy;
  /** Only for policy redis. */
  redis?: RateLimitingRedis;
  faultTolerant: boolean;
  hideClientHeaders: boolean;
  errorCode: number;
  errorMessage: string;
  /** The Envoy ratelimit filter stage that asks about this policy. */
  stage: number;
}

/** The limits of one Kong route: its own policy and the consumer-scoped ones. */
export interface RouteLimits {
  /** The Kong route's name (all its paths share it). */
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

/** Everything rate limiting needs from one IR. */
export interface RateLimitPlan {
  /** Kong route name → its limits; only routes with a rate-limiting plugin. */
  routes: Map<string, RouteLimits>;
  /** Indexed by stage. */
  stages: StageGroup[];
}

/** Envoy's ratelimit filter supports stages 0 to 10. */
export const MAX_STAGES = 11;

/** Translation settings this module reads. */
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
  const windows = RATE_LIMIT_PERIODS.filter((p) => c[p] !== undefined).map((unit) => ({ unit, limit: c[unit]! }));
  return {
    scope: scopeKey(route, plugin.scope),
    limitBy: c.limit_by,
    ...(c.limit_by === 'header' && c.header_name ? { headerName: c.header_name.toLowerCase() } : {}),
    ...(c.limit_by === 'path' && c.path ? { path: c.path } : {}),
    windows,
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
 * fault_tolerant pairs, or an error_code Envoy cannot send), so such a config is refused
 * rather than served differently.
 */
export function planRateLimits(ir: GatewayIR, settings: PlanSettings): RateLimitPlan {
  const consumerIds = new Map(ir.consumers.map((c) => [c.key, consumerId(c)]));
  const limited = ir.routes.filter((r) => r.service && isRateLimited(r));

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
  if (sorted.length > MAX_STAGES) {
    throw new Error(`rate-limiting: ${sorted.length} distinct (error_code, fault_tolerant) combinations; Envoy's ratelimit filter has ${MAX_STAGES} stages, so at most ${MAX_STAGES} can be served`);
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
  return { routes, stages };
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
function entriesFor(p: RatePolicy): string[] {
  switch (p.limitBy) {
    case 'consumer': return [ENTRY.consumer, ENTRY.credential, ENTRY.ip];
    case 'credential': return [ENTRY.credential, ENTRY.ip];
    case 'ip': return [ENTRY.ip];
    case 'service': return [];
    case 'header': return [headerEntry(p.headerName ?? ''), ENTRY.ip];
    case 'path': return [ENTRY.path, ENTRY.ip];
  }
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
 * policies use. Each produces one descriptor: (fd_route, name), (fd_stage, n), then only the
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
      { generic_key: { descriptor_key: ENTRY.route, descriptor_value: limits.name } },
      { generic_key: { descriptor_key: ENTRY.stage, descriptor_value: String(stage) } },
      ...actions,
    ],
  }));
}

// ---- the companion resource, both ways ------------------------------------------------------

const UNIT_ENUM: Record<Unit, string> = { second: 'SECOND', minute: 'MINUTE', hour: 'HOUR', day: 'DAY', month: 'MONTH', year: 'YEAR' };
const LIMIT_BY_ENUM: Record<LimitBy, string> = { consumer: 'CONSUMER', credential: 'CREDENTIAL', ip: 'IP', service: 'SERVICE', header: 'HEADER', path: 'PATH' };
const ALGORITHM_ENUM: Record<AlgorithmName, string> = {
  'token-bucket': 'TOKEN_BUCKET', 'fixed-window': 'FIXED_WINDOW', 'sliding-window': 'SLIDING_WINDOW', 'sliding-log': 'SLIDING_LOG', 'leaky-bucket': 'LEAKY_BUCKET',
};
const POLICY_ENUM: Record<StorePolicy, string> = { local: 'LOCAL', cluster: 'CLUSTER', redis: 'REDIS' };

function invert<K extends string>(m: Record<K, string>): Map<string, K> {
  return new Map(Object.entries(m).map(([k, v]) => [v as string, k as K]));
}
const UNIT_OF = invert(UNIT_ENUM);
const LIMIT_BY_OF = invert(LIMIT_BY_ENUM);
const ALGORITHM_OF = invert(ALGORITHM_ENUM);
const POLICY_OF = invert(POLICY_ENUM);

/** Drops proto3 zero values (false, 0, '', empty lists, undefined): decoding gives them back as absent. */
function clean(o: Record<string, Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false || v === '' || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

function redisBody(r: RateLimitingRedis): JsonObject {
  return clean({
    host: r.host, port: r.port, username: r.username, password: r.password, database: r.database,
    ssl: r.ssl, ssl_verify: r.ssl_verify, server_name: r.server_name,
    connect_timeout_ms: r.connect_timeout, read_timeout_ms: r.read_timeout,
  });
}

function policyBody(p: RatePolicy): JsonObject {
  return clean({
    scope: p.scope,
    limit_by: LIMIT_BY_ENUM[p.limitBy],
    header_name: p.headerName,
    path: p.path,
    windows: p.windows.map((w) => ({ unit: UNIT_ENUM[w.unit], limit: w.limit })),
    algorithm: ALGORITHM_ENUM[p.algorithm],
    policy: POLICY_ENUM[p.policy],
    redis: p.redis ? redisBody(p.redis) : undefined,
    fault_tolerant: p.faultTolerant,
    hide_client_headers: p.hideClientHeaders,
    error_code: p.errorCode,
    error_message: p.errorMessage,
    stage: p.stage,
  });
}

/** RouteLimits → frontdesk.ratelimit.v1.RouteRateLimit (proto3 JSON). */
export function routeResource(limits: RouteLimits): JsonObject {
  return clean({
    name: limits.name,
    service: limits.service,
    policy: limits.policy ? policyBody(limits.policy) : undefined,
    consumers: limits.consumers.map((c) => ({ consumer_id: c.consumerId, policy: policyBody(c.policy) })),
  });
}

type Obj = { [k: string]: unknown };

function str(o: Obj, k: string): string {
  return typeof o[k] === 'string' ? (o[k] as string) : '';
}
function num(o: Obj, k: string): number {
  return typeof o[k] === 'number' ? (o[k] as number) : 0;
}

function redisFromBody(o: Obj): RateLimitingRedis {
  const timeout = num(o, 'read_timeout_ms') || 2000;
  return {
    ...(str(o, 'host') ? { host: str(o, 'host') } : {}),
    port: num(o, 'port') || 6379,
    timeout,
    connect_timeout: num(o, 'connect_timeout_ms') || timeout,
    send_timeout: timeout,
    read_timeout: timeout,
    ...(str(o, 'username') ? { username: str(o, 'username') } : {}),
    ...(str(o, 'password') ? { password: str(o, 'password') } : {}),
    database: num(o, 'database'),
    ssl: o.ssl === true,
    ssl_verify: o.ssl_verify === true,
    ...(str(o, 'server_name') ? { server_name: str(o, 'server_name') } : {}),
  };
}

function policyFromBody(o: Obj, where: string): RatePolicy {
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${where}: bad or missing ${what}`);
    return v;
  };
  const windows = ((o.windows ?? []) as Obj[]).map((w, i) => ({
    unit: need(UNIT_OF.get(str(w, 'unit')), `windows[${i}].unit`),
    limit: need(num(w, 'limit') > 0 ? num(w, 'limit') : undefined, `windows[${i}].limit`),
  }));
  if (!windows.length) throw new Error(`${where}: no windows`);
  const policy = need(POLICY_OF.get(str(o, 'policy')), 'policy');
  const limitBy = need(LIMIT_BY_OF.get(str(o, 'limit_by')), 'limit_by');
  return {
    scope: str(o, 'scope'),
    limitBy,
    ...(str(o, 'header_name') ? { headerName: str(o, 'header_name').toLowerCase() } : {}),
    ...(str(o, 'path') ? { path: str(o, 'path') } : {}),
    windows,
    algorithm: need(ALGORITHM_OF.get(str(o, 'algorithm')), 'algorithm'),
    policy,
    ...(policy === 'redis' ? { redis: redisFromBody(need(o.redis as Obj | undefined, 'redis')) } : {}),
    faultTolerant: o.fault_tolerant === true,
    hideClientHeaders: o.hide_client_headers === true,
    errorCode: num(o, 'error_code') || 429,
    errorMessage: str(o, 'error_message'),
    stage: num(o, 'stage'),
  };
}

/**
 * frontdesk.ratelimit.v1.RouteRateLimit (proto3 JSON, as an AdsClient decoded it) → RouteLimits.
 * Throws with the field's path on a body the control plane cannot have built (the service
 * NACKs such an update and keeps its last good policy).
 */
export function routeLimitsFromResource(body: Json): RouteLimits {
  const o = body as Obj;
  const name = str(o, 'name');
  if (!name) throw new Error('RouteRateLimit without a name');
  return {
    name,
    ...(str(o, 'service') ? { service: str(o, 'service') } : {}),
    ...(o.policy ? { policy: policyFromBody(o.policy as Obj, `${name}.policy`) } : {}),
    consumers: ((o.consumers ?? []) as Obj[]).map((c, i) => ({
      consumerId: str(c, 'consumer_id'),
      policy: policyFromBody((c.policy ?? {}) as Obj, `${name}.consumers[${i}].policy`),
    })),
  };
}
