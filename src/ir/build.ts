import { isPluginName, pluginFeature, type PluginFeatures, type PluginName } from '../model/plugins/index.js';
import type { GatewayModel, Plugin, Route, Service, Upstream } from '../model/types.js';
import { DEFAULT_THRESHOLDS, mergedCircuitBreaker, mergedOutlierDetection, passiveStatusMapping } from '../model/checks/circuit-breaking.js';
import type { AdaptiveConcurrencyFields, CircuitBreakerFields, OutlierDetectionFields } from '../model/entities.js';
import { compareRoutes, kongPriority } from './route-order.js';
import type { IrMemo } from './ir-memo.js';
import type {
  ActiveHealthCheck, AdaptiveConcurrency, Backend, CircuitThresholds, GatewayIR, HashPolicy, HeaderMatch, IrListener, IrRoute, IrStreamRoute, PassiveHealthCheck, PathMatch, AppliedPlugin, RoutePlugins,
} from './types.js';
import { DEFAULT_PORTS } from '../default-ports.js';
import { escapeRegex } from '../regex.js';
import { isIpLiteral } from '../local-address.js';
import { compareText } from '../text-order.js';

export interface IrOptions {
  /** The listener used when the file declares none: Kong's proxy port by default. */
  defaultListener: { address: string; port: number };
}

export const DEFAULT_IR_OPTIONS: IrOptions = { defaultListener: { address: '0.0.0.0', port: DEFAULT_PORTS.proxy } };

const SCHEME_PORT: Record<string, number> = { http: 80, ws: 80, grpc: 80, https: 443, wss: 443, grpcs: 443 };

/** Model → IR: routes split per path and ordered as Kong's router orders them, scopes merged. */
export function buildIR(model: GatewayModel, options: IrOptions = DEFAULT_IR_OPTIONS, memo?: IrMemo): GatewayIR {
  memo?.begin(model);
  const services = new Map(model.services.map((s) => [s.name, s]));
  const upstreams = new Map(model.upstreams.map((u) => [u.name, u]));

  const caPems = new Map(model.caCertificates.map((c) => [c.key, c.cert]));
  const caFiles = new Set(model.caCertificates.filter((c) => c.file !== undefined).map((c) => c.key));
  const backends = model.services.map((s) => {
    const u = s.upstream ? upstreams.get(s.upstream) : undefined;
    return memo ? memo.backend(s, u, model.caCertificates, () => buildBackend(s, u, caPems, caFiles)) : buildBackend(s, u, caPems, caFiles);
  });

  const global = () => pluginsFor(model.plugins, (p) => !p.scope.route && !p.scope.service && !p.scope.consumer, 'global');
  const globalPlugins = memo ? memo.globalPlugins(global) : global();
  let routes: IrRoute[] = [];
  const streamRoutes: IrStreamRoute[] = [];
  for (const r of model.routes) {
    if (r.protocols.some((p) => STREAM.has(p))) { streamRoutes.push(memo ? memo.stream(r, () => streamRoute(r)) : streamRoute(r)); continue; }
    const service = r.service ? services.get(r.service) : undefined;
    const upstream = service?.upstream ? upstreams.get(service.upstream) : undefined;
    if (memo) routes.push(...memo.route(r, service, upstream, () => httpRoutes(model, r, service, upstream)));
    else routes.push(...httpRoutes(model, r, service, upstream));
  }
  routes = memo ? memo.sort(routes, compareRoutes) : routes.sort(compareRoutes);

  const declared = model.listeners.length
    ? model.listeners
    : [{ name: 'proxy', address: options.defaultListener.address, port: options.defaultListener.port, protocol: 'http' as const, http2: true, certificates: undefined, fleet: undefined }];
  const routeListeners = new Map(model.routes.map((m) => [m.name, m.listeners]));
  const listeners: IrListener[] = declared.map((l) => ({
    name: l.name, address: l.address, port: l.port, protocol: l.protocol, http2: l.http2,
    certificates: l.protocol === 'https' || l.protocol === 'tls' ? (l.certificates ?? model.certificates.map((c) => c.key)) : [],
    fleet: l.fleet,
    routes: l.protocol === 'tcp' || l.protocol === 'tls' ? [] : routes.filter((rt) => {
      const only = routeListeners.get(rt.routeName);
      return !only || only.includes(l.name);
    }),
    ...(l.protocol === 'tcp' || l.protocol === 'tls' ? { streamRoutes: streamRoutesOn(l, streamRoutes, routeListeners) } : {}),
  }));

  return {
    listeners,
    backends,
    certificates: model.certificates.map((c) => {
      const make = () => ({ key: c.key, cert: c.cert, keyPem: c.key_pem, snis: [...c.snis].sort() });
      return memo ? memo.certificate(c, make) : make();
    }),
    routes,
    globalPlugins,
    consumers: model.consumers,
  };
}

/** One HTTP route's IR: one route per path (the route's own when it has none), scopes merged, its action toward its service. */
function httpRoutes(model: GatewayModel, r: Route, service: Service | undefined, upstream: Upstream | undefined): IrRoute[] {
  const routes: IrRoute[] = [];
  const plugins = mergePlugins(model.plugins, r, undefined);
  const consumerPlugins: IrRoute['consumerPlugins'] = {};
  for (const c of model.consumers) {
    const own = mergeConsumerPlugins(model.plugins, r, c.key);
    if (Object.keys(own).length) consumerPlugins[c.key] = own;
  }
  // By the lower-cased name (a header name's case means nothing): the same order however it is written.
  const headers: HeaderMatch[] = Object.entries(r.headers ?? {}).map(([name, values]) => ({
    name: name.toLowerCase(),
    values: values.filter((v) => !v.startsWith('~*')),
    regexes: values.filter((v) => v.startsWith('~*')).map((v) => v.slice(2)),
  })).sort((a, b) => compareText(a.name, b.name));
  const hosts = [...(r.hosts ?? [])].map((h) => h.toLowerCase()).sort();
  const methods = r.methods ? [...new Set(r.methods)].sort() : undefined;
  const snis = r.snis?.length ? [...new Set(r.snis.map((n) => n.toLowerCase()))].sort() : undefined;
  const paths: (PathMatch | undefined)[] = r.paths?.length
    ? r.paths.map((p) => (p.startsWith('~') ? { kind: 'regex', value: p.slice(1) } : { kind: 'prefix', value: p }))
    : [undefined];
  paths.forEach((path, i) => {
    const id = paths.length > 1 ? `${r.name}#${i}` : r.name;
    routes.push({
      id, routeName: r.name, routeId: r.id, service: r.service, hosts, path, methods, headers, ...(snis ? { snis } : {}),
      protocols: [...r.protocols].sort(), httpsRedirectStatus: r.https_redirect_status_code,
      priority: kongPriority({ hosts, methods, headers, path, snis: r.snis, regexPriority: r.regex_priority }),
      action: service ? routeAction(r, path, service, upstream) : { backend: '', readTimeoutMs: 60000, idleTimeoutMs: 60000, retries: 0, hashPolicies: [] },
      plugins, consumerPlugins,
    });
  });
  return routes;
}

/**
 * Sets one plugin's entry. TypeScript cannot check a write through a generic key of a mapped
 * type; the entry is `name`'s own feature (pluginFeature<N>), which is what RoutePlugins[N] holds.
 */
function put<N extends PluginName>(out: RoutePlugins, name: N, config: unknown, scope: AppliedPlugin<unknown>['scope']): void {
  const entry: AppliedPlugin<PluginFeatures[N]> = { feature: pluginFeature(name, config), scope };
  Object.assign(out, { [name]: entry });
}

/** The typed features of the picked plugins (pending plugins, with no definition, have none). */
function pluginsFor(plugins: Plugin[], pick: (p: Plugin) => boolean, scope: AppliedPlugin<unknown>['scope']): RoutePlugins {
  const out: RoutePlugins = {};
  for (const p of plugins) if (pick(p) && isPluginName(p.name)) put(out, p.name, p.config, scope);
  return out;
}

/** Route beats service beats global, per plugin name (consumer-scoped ones excluded). */
function mergePlugins(plugins: Plugin[], r: Route, consumer: string | undefined): RoutePlugins {
  const sameConsumer = (p: Plugin) => p.scope.consumer === consumer;
  return {
    ...pluginsFor(plugins, (p) => sameConsumer(p) && !p.scope.route && !p.scope.service, 'global'),
    ...pluginsFor(plugins, (p) => sameConsumer(p) && !p.scope.route && !!r.service && p.scope.service === r.service, 'service'),
    ...pluginsFor(plugins, (p) => sameConsumer(p) && p.scope.route === r.name, 'route'),
  };
}

function mergeConsumerPlugins(plugins: Plugin[], r: Route, consumer: string): RoutePlugins {
  return mergePlugins(plugins, r, consumer);
}

/**
 * What the rewrite drops between the stripped path and the rest it keeps: one slash, or the
 * "./" or "../" Kong's sanitize_uri_postfix removes from the start of the rest (a request
 * `/route%2E/x` on route `/route`, which Envoy's path normalisation makes `/route./x`).
 */
const REST_START = '(?:/|\\.\\.?/)?';

/**
 * Kong's path_handling v1 (its traditional router; deprecated since Kong 3.0): the service path
 * B and the rest of the request joined as strings, with no slash added.
 *   strip_path, path R:    R + rest → B + rest, one slash dropped when B ends with "/" and the
 *                          rest starts with one; the rest sanitised as v0's ("./", "../")
 *   no strip, or no path:  U → B + U without its leading slash
 */
function rewriteV1(r: Route, path: PathMatch | undefined, base: string): Pick<IrRoute['action'], 'rewrite' | 'strippedPrefix'> {
  if (r.strip_path && path) {
    const head = path.kind === 'prefix' ? escapeRegex(path.value) : `(?:${path.value.startsWith('^') ? path.value.slice(1) : path.value})`;
    const rest = base.endsWith('/') ? REST_START : '(?:\\.\\.?/)?';
    return { rewrite: { pattern: `^${head}${rest}`, substitution: base }, ...(path.kind === 'prefix' ? { strippedPrefix: path.value } : {}) };
  }
  return base === '/' ? {} : { rewrite: { pattern: '^/', substitution: base } };
}

/**
 * Envoy refuses a regex whose RE2 program is larger than 100 instructions (its runtime key
 * re2.max_program_size.error_level, checked on every regex an xDS resource carries, rewrite
 * patterns included). RE2 matches the literal that starts an anchored pattern apart, outside the
 * program, so only the one-rewrite pattern below grows with the route's path: one instruction
 * per UTF-8 byte of R and of R' (the literals inside the alternation), 12 for the rest, as
 * Envoy reports it (program size 134 for a 61-byte R).
 */
const MAX_PROGRAM_SIZE = 100;
const oneRewriteProgramSize = (prefix: string): number => 2 * Buffer.byteLength(prefix) + 12;

/**
 * The upstream path as Kong's path_handling v0 builds it (get_upstream_uri_v0, the rest
 * sanitised by sanitize_uri_postfix): the service path B joined to what is left of the request,
 * as one Envoy regex rewrite. Envoy's regex_rewrite replaces what the pattern matched (RE2
 * GlobalReplace; a `^` pattern matches once) and RE2 substitutes a group that took no part in
 * the match as empty, so a pattern whose groups capture only the slashes to keep gives each case.
 * With strip_path, prefix R (Bb: B without its trailing slash):
 *   R, R., R..             → Bb       (a trailing slash only when the request ends with one)
 *   R/…, R./…, R../…       → Bb/…     ("./" and "../" at the start of the rest dropped)
 *   Rxyz (any other rest)  → Bb/xyz   (one slash added between B and the rest)
 * by `^(?:R(?:\.\.?)?(/|$)|(/)R')` → `Bb\1\2`, R' being R without its leading slash: the
 * second alternative is tried only when the first fails, and its group takes the request's
 * leading slash to put between B and the rest. Where that pattern would be over Envoy's
 * program size, the rewrite adds the slash (`^R(?:/|\.\.?/)?` → Bb/) and a second route for
 * the requests R, R. and R.. (`^R(?:\.\.?)?`, whose literal RE2 matches apart) sends Bb
 * (exactRewrite). With B = "/" every case is "/" + rest; an R ending
 * in "/" leaves no slash to add. A regex path R with B ≠ "/" keeps the second route for the
 * requests R matches whole (one pattern would hold the user's regex twice).
 * Without strip_path: U → B + U (one slash between); "/" → B.
 */
function rewriteFor(r: Route, path: PathMatch | undefined, base: string): Pick<IrRoute['action'], 'rewrite' | 'exactRewrite' | 'strippedPrefix'> {
  if (r.path_handling === 'v1') return rewriteV1(r, path, base);
  const baseDir = base.endsWith('/') ? base : `${base}/`;
  const baseBare = base === '/' ? '/' : base.replace(/\/$/, '');
  if (r.strip_path && path) {
    if (path.kind === 'prefix') {
      const head = escapeRegex(path.value);
      const strippedPrefix = path.value;
      const rewrite = { pattern: `^${head}${REST_START}`, substitution: baseDir };
      // R ending in "/" requested as is gives B (route "/" to a B with a trailing slash too).
      if (path.value.endsWith('/') && (path.value !== '/' || base.endsWith('/'))) return { rewrite, strippedPrefix };
      if (base === '/') return { rewrite: { pattern: `^${head}(?:/|\\.\\.?(?:/|$))?`, substitution: '/' }, strippedPrefix };
      if (oneRewriteProgramSize(path.value) > MAX_PROGRAM_SIZE) return { rewrite, exactRewrite: { regex: `^${head}(?:\\.\\.?)?`, to: baseBare }, strippedPrefix };
      const tail = escapeRegex(path.value.slice(1));
      return { rewrite: { pattern: `^(?:${head}(?:\\.\\.?)?(/|$)|(/)${tail})`, substitution: `${baseBare}\\1\\2` }, strippedPrefix };
    }
    const re = path.value.startsWith('^') ? path.value.slice(1) : path.value;
    const rewrite = { pattern: `^(?:${re})${REST_START}`, substitution: baseDir };
    return base === '/' ? { rewrite } : { rewrite, exactRewrite: { regex: `(?:${re})`, to: baseBare } };
  }
  if (base === '/') return {};
  const matchesRoot = !path || (path.kind === 'prefix' && path.value === '/');
  // "/" alone gives B as it is; a B without trailing slash takes the request's slash otherwise.
  if (matchesRoot && !base.endsWith('/')) return { rewrite: { pattern: '^(?:/$|(/))', substitution: `${base}\\1` } };
  return { rewrite: { pattern: '^/', substitution: baseDir } };
}

function routeAction(r: Route, path: PathMatch | undefined, s: Service, u: Upstream | undefined): IrRoute['action'] {
  let hostRewrite: string | undefined;
  let autoHostRewrite: boolean | undefined;
  if (!r.preserve_host) {
    if (u?.host_header) hostRewrite = u.host_header;
    else if (u) autoHostRewrite = true; // the picked target's host:port, as Kong sends it
    else hostRewrite = hostHeader(s.host, s.port, s.protocol);
  }
  return {
    backend: s.name,
    ...rewriteFor(r, path, s.path ?? '/'),
    ...(hostRewrite ? { hostRewrite } : {}),
    ...(autoHostRewrite ? { autoHostRewrite } : {}),
    readTimeoutMs: s.read_timeout,
    idleTimeoutMs: Math.max(s.read_timeout, s.write_timeout),
    retries: s.retries,
    hashPolicies: u ? hashPolicies(u) : [],
  };
}

/** Kong's upstream Host: the host, with :port unless it is the scheme's default. */
function hostHeader(host: string, port: number, protocol: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === SCHEME_PORT[protocol] ? h : `${h}:${port}`;
}

function hashPolicies(u: Upstream): HashPolicy[] {
  if (u.algorithm !== 'consistent-hashing') return [];
  const one = (on: string, header?: string, query?: string): HashPolicy | undefined => {
    switch (on) {
      case 'consumer': return { kind: 'header', name: 'x-consumer-id' };
      case 'ip': return { kind: 'source_ip' };
      case 'header': return header ? { kind: 'header', name: header.toLowerCase() } : undefined;
      case 'cookie': return u.hash_on_cookie ? { kind: 'cookie', name: u.hash_on_cookie, path: u.hash_on_cookie_path } : undefined;
      case 'path': return { kind: 'header', name: ':path' };
      case 'query_arg': return query ? { kind: 'query', name: query } : undefined;
      default: return undefined;
    }
  };
  return [one(u.hash_on, u.hash_on_header, u.hash_on_query_arg), one(u.hash_fallback, u.hash_fallback_header, u.hash_fallback_query_arg)]
    .filter((x): x is HashPolicy => x !== undefined);
}


function buildBackend(s: Service, u: Upstream | undefined, caPems: Map<string, string>, caFiles: ReadonlySet<string>): Backend {
  const endpoints = u
    ? u.targets.map((t) => ({ host: t.host, port: t.port, weight: t.weight, hostHeader: hostHeader(t.host, t.port, s.protocol) })).sort((a, b) => compareText(a.host, b.host) || a.port - b.port)
    : [{ host: s.host, port: s.port, weight: 100, hostHeader: hostHeader(s.host, s.port, s.protocol) }];
  // A tls service is TLS to the upstream; tls_passthrough forwards the client's own TLS bytes.
  const tlsProto = s.protocol === 'https' || s.protocol === 'grpcs' || s.protocol === 'wss' || s.protocol === 'tls';
  const lb: Backend['lb'] = u?.algorithm === 'least-connections' ? 'least_request' : u?.algorithm === 'consistent-hashing' ? 'ring_hash' : 'round_robin';
  return {
    name: s.name,
    serviceId: s.id,
    serviceHost: s.host,
    ...(u ? { upstream: u.name } : {}),
    protocol: s.protocol as Backend['protocol'],
    http2: s.protocol === 'grpc' || s.protocol === 'grpcs',
    ...(STREAM.has(s.protocol) ? { stream: true } : {}),
    ...(tlsProto ? { tls: {
      sni: u?.host_header ?? s.host,
      // An upstream's mesh identities turn the check on (the service's own need tls_verify, checked at load).
      verify: s.tls_verify === true || (s.mesh?.identities ?? u?.mesh?.identities) !== undefined,
      ...(s.tls_verify && s.tls_verify_depth !== undefined ? { verifyDepth: s.tls_verify_depth } : {}),
      caCerts: (s.ca_certificates ?? []).map((k) => caPems.get(k)!).filter(Boolean),
      ...((s.ca_certificates ?? []).some((k) => caFiles.has(k)) ? { caFromFile: true } : {}),
      ...(s.client_certificate ? { clientCertificate: s.client_certificate } : {}),
      ...meshTls(s, u),
    } } : {}),
    connectTimeoutMs: s.connect_timeout,
    discovery: endpoints.every((e) => isIpLiteral(e.host)) ? 'eds' : 'dns',
    endpoints,
    lb,
    ...(lb === 'ring_hash' && u ? { ringSize: u.slots } : {}),
    ...healthChecks(s, u),
    circuitBreaker: circuitBreaker(mergedCircuitBreaker(s, u)),
    ...(s.adaptive_concurrency ? { adaptiveConcurrency: adaptiveConcurrency(s.adaptive_concurrency) } : {}),
  };
}

/** The mesh extension of the service, else of its upstream (field by field), as the backend's TLS sees it. */
function meshTls(s: Service, u: Upstream | undefined): { identities?: Array<{ type: 'URI' | 'DNS'; name: string }>; alpn?: string[] } {
  const identities = s.mesh?.identities ?? u?.mesh?.identities;
  const alpn = s.mesh?.alpn ?? u?.mesh?.alpn;
  return {
    ...(identities ? { identities: [...new Set(identities)].sort().map((name) => ({ type: name.startsWith('spiffe://') ? 'URI' as const : 'DNS' as const, name })) } : {}),
    ...(alpn ? { alpn } : {}),
  };
}

const STREAM = new Set(['tcp', 'tls', 'tls_passthrough', 'udp']);

function streamRoute(r: Route): IrStreamRoute {
  const snis = [...new Set((r.snis ?? []).map((n) => n.toLowerCase()))].sort();
  const sources = [...(r.sources ?? [])];
  const destinations = [...(r.destinations ?? [])];
  return {
    id: r.name, routeName: r.name, routeId: r.id, ...(r.service ? { service: r.service } : {}), protocols: [...r.protocols].sort(),
    snis, sources, destinations, weight: (snis.length ? 1 : 0) + (sources.length ? 1 : 0) + (destinations.length ? 1 : 0),
  };
}

/**
 * The stream routes a tcp or tls listener serves, most specific first (then by Kong route id, as
 * the HTTP router breaks ties): on a tcp listener the tcp routes, on a tls listener the tls and
 * tls_passthrough ones; a route's destinations must name the listener's port (and address) when
 * they name one, as Kong matches them against the connection's local address.
 */
function streamRoutesOn(l: { name: string; address: string; port: number; protocol: string }, all: IrStreamRoute[], only: Map<string, string[] | undefined>): IrStreamRoute[] {
  const wanted = l.protocol === 'tcp' ? ['tcp'] : ['tls', 'tls_passthrough'];
  return all
    .filter((r) => r.protocols.some((p) => wanted.includes(p)))
    .filter((r) => { const o = only.get(r.routeName); return !o || o.includes(l.name); })
    .filter((r) => !r.destinations.length || r.destinations.some((d) => (d.port === undefined || d.port === l.port) && (d.ip === undefined || d.ip === l.address || l.address === '0.0.0.0')))
    .sort((a, b) => b.weight - a.weight || (a.routeId < b.routeId ? 1 : a.routeId > b.routeId ? -1 : 0));
}

const secondsToMs = (s: number | undefined) => (s === undefined ? undefined : Math.max(1, Math.round(s * 1000)));

/** Every threshold explicit: what the configuration sets, else Frontdesk's gateway default. */
function thresholds(t: Omit<CircuitBreakerFields, 'high'>): CircuitThresholds {
  return {
    maxConnections: t.max_connections ?? DEFAULT_THRESHOLDS.maxConnections,
    maxPendingRequests: t.max_pending_requests ?? DEFAULT_THRESHOLDS.maxPendingRequests,
    maxRequests: t.max_requests ?? DEFAULT_THRESHOLDS.maxRequests,
    retries: t.max_retries !== undefined
      ? { max: t.max_retries }
      : t.retry_budget
        ? { budgetPercent: t.retry_budget.percent, minConcurrency: t.retry_budget.min_concurrency ?? Math.min(DEFAULT_THRESHOLDS.retryBudget.minConcurrency, t.max_requests ?? Infinity) }
        : { budgetPercent: DEFAULT_THRESHOLDS.retryBudget.percent, minConcurrency: Math.min(DEFAULT_THRESHOLDS.retryBudget.minConcurrency, t.max_requests ?? Infinity) },
    ...(t.max_connection_pools !== undefined ? { maxConnectionPools: t.max_connection_pools } : {}),
  };
}

function circuitBreaker(cb: CircuitBreakerFields): Backend['circuitBreaker'] {
  const { high, ...own } = cb;
  // HIGH takes DEFAULT's thresholds where it sets none; a retry cap it sets replaces the other kind.
  const inherited = { ...own };
  if (high?.max_retries !== undefined) delete inherited.retry_budget;
  if (high?.retry_budget !== undefined) delete inherited.max_retries;
  return { default: thresholds(own), high: thresholds({ ...inherited, ...high }) };
}

/** The gradient controller's settings, Envoy's documented defaults where the configuration is silent. */
function adaptiveConcurrency(a: AdaptiveConcurrencyFields): AdaptiveConcurrency {
  return {
    maxConcurrencyLimit: a.max_concurrency_limit ?? 1000,
    concurrencyUpdateIntervalMs: secondsToMs(a.concurrency_update_interval) ?? 100,
    samplePercentile: a.sample_percentile ?? 50,
    minRttIntervalMs: secondsToMs(a.min_rtt_interval) ?? 60_000,
    minRttRequestCount: a.min_rtt_request_count ?? 50,
    minConcurrency: a.min_concurrency ?? 3,
    jitterPercent: a.jitter_percent ?? 10,
    bufferPercent: a.buffer_percent ?? 25,
  };
}

/**
 * Kong's active checks → Envoy health_checks; Kong's passive ones and the outlier_detection
 * extension (which wins field by field) → outlier detection.
 */
function healthChecks(s: Service, u: Upstream | undefined): { active?: ActiveHealthCheck; passive?: PassiveHealthCheck } {
  const out: { active?: ActiveHealthCheck; passive?: PassiveHealthCheck } = {};
  if (u) {
    const a = u.healthchecks.active;
    if (a.healthy.interval > 0 || a.unhealthy.interval > 0) {
      out.active = {
        type: a.type,
        path: a.http_path,
        timeoutMs: Math.round(a.timeout * 1000),
        intervalMs: Math.round((a.healthy.interval || a.unhealthy.interval) * 1000),
        ...(a.unhealthy.interval > 0 && a.unhealthy.interval !== a.healthy.interval ? { unhealthyIntervalMs: Math.round(a.unhealthy.interval * 1000) } : {}),
        healthyThreshold: Math.max(1, a.healthy.successes),
        unhealthyThreshold: Math.max(1, a.unhealthy.http_failures, a.unhealthy.timeouts, a.unhealthy.tcp_failures),
        expectedStatuses: [...a.healthy.http_statuses].sort((x, y) => x - y),
        ...(a.headers && Object.keys(a.headers).length ? { headers: Object.entries(a.headers).flatMap(([name, values]) => values.map((value) => ({ name, value }))) } : {}),
        // Kong sends https_sni as the probe's SNI (the Host stays the target's); the check verifies the certificate unless told not to.
        ...(a.type === 'https' || a.type === 'grpcs' ? { tls: { ...(a.https_sni ? { sni: a.https_sni } : {}), verify: a.https_verify_certificate } } : {}),
      };
    }
  }
  const kong = u ? kongPassive(u) : undefined;
  const ext = mergedOutlierDetection(s, u);
  const passive: PassiveHealthCheck = { ...kong, ...(ext ? outlierDetection(ext) : {}) };
  // Any share of the targets may be ejected unless the configuration says otherwise: Envoy's
  // 10 % would eject no target at all of an upstream with fewer than ten.
  if (Object.keys(passive).length) out.passive = { maxEjectionPercent: 100, ...passive };
  return out;
}

/**
 * Kong's passive checks: http_failures counts the responses of `unhealthy.http_statuses`; Envoy
 * counts either 502/503/504 (gateway failures) or every 5xx, whichever fits the list (the
 * loader warns where that is not exact); timeouts are gateway failures too, tcp_failures local ones.
 */
function kongPassive(u: Upstream): PassiveHealthCheck | undefined {
  const p = u.healthchecks.passive.unhealthy;
  if (p.http_failures === 0 && p.timeouts === 0 && p.tcp_failures === 0) return undefined;
  const counter = p.http_failures > 0 ? passiveStatusMapping(p.http_statuses).counter : undefined;
  const gateway = [counter === 'gateway' ? p.http_failures : 0, p.timeouts].filter((n) => n > 0);
  return {
    ...(counter === '5xx' ? { consecutive5xx: p.http_failures } : {}),
    ...(gateway.length ? { consecutiveGatewayFailure: Math.min(...gateway) } : {}),
    ...(p.tcp_failures > 0 ? { consecutiveLocalOriginFailure: p.tcp_failures } : {}),
  };
}

function outlierDetection(o: OutlierDetectionFields): PassiveHealthCheck {
  const out: PassiveHealthCheck = {};
  if (o.consecutive_5xx !== undefined) out.consecutive5xx = o.consecutive_5xx;
  if (o.consecutive_gateway_failure !== undefined) out.consecutiveGatewayFailure = o.consecutive_gateway_failure;
  if (o.consecutive_local_origin_failure !== undefined) out.consecutiveLocalOriginFailure = o.consecutive_local_origin_failure;
  if (o.interval !== undefined) out.intervalMs = secondsToMs(o.interval);
  if (o.base_ejection_time !== undefined) out.baseEjectionTimeMs = secondsToMs(o.base_ejection_time);
  if (o.max_ejection_time !== undefined) out.maxEjectionTimeMs = secondsToMs(o.max_ejection_time);
  if (o.max_ejection_percent !== undefined) out.maxEjectionPercent = o.max_ejection_percent;
  if (o.success_rate) {
    const r = o.success_rate;
    out.successRate = { minimumHosts: r.minimum_hosts, requestVolume: r.request_volume, stdevFactor: r.stdev_factor, enforcing: r.enforcing ?? 100 };
  }
  if (o.failure_percentage) {
    const f = o.failure_percentage;
    out.failurePercentage = { threshold: f.threshold, minimumHosts: f.minimum_hosts, requestVolume: f.request_volume, enforcing: f.enforcing ?? 100 };
  }
  return out;
}
