import { tracingResources } from '../../contracts/tracing.js';
import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, duration, socketAddress, type JsonObject } from '../builders.js';
import { isIpLiteral } from '../../local-address.js';
import { EXT_AUTHZ_FILTER } from './ext-authz.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's opentelemetry and zipkin plugins: Envoy's tracer on the listener's HTTP connection
 * manager (envoy.tracers.opentelemetry: OTLP/HTTP protobuf; envoy.tracers.zipkin: Zipkin v2
 * JSON), exporting through one cluster to the collector. Envoy reads the caller's trace
 * context (W3C traceparent, or B3) and continues its trace, and sends the request's span on
 * to the upstream as its parent, as Kong does with `tracing_instrumentations` off, its default
 * (the request's root span only): no span of its own for the upstream call (spawn_upstream_span off),
 * which Envoy would build for every request, sampled or not (measured: about 4 µs of Envoy's
 * CPU per request at sampling 0.01, docs/benchmarks.md).
 *
 * Envoy has one tracer per listener, where Kong has one per plugin instance: every instance
 * names the same exporter (model/checks/tracing.ts), and what differs per route is the
 * sampling rate (route.tracing.random_sampling overrides the connection manager's), so a
 * route with no tracing plugin gets 0 %. Requests no route took follow the global plugin.
 * Each route's span is named after the route (its decorator) and tagged with its service,
 * route and the consumer authz identified; Envoy adds the status (http.status_code).
 */

type TracingFeature = FeatureOf<'opentelemetry'> | FeatureOf<'zipkin'>;

export const TRACING = 'frontdesk.tracing';
export const TRACING_CLUSTER = 'frontdesk_tracing';

function featureOf(r: IrRoute): TracingFeature | undefined {
  return r.plugins.opentelemetry?.feature ?? r.plugins.zipkin?.feature;
}

function globalFeature(ctx: FilterContext): TracingFeature | undefined {
  return ctx.ir.globalPlugins.opentelemetry?.feature ?? ctx.ir.globalPlugins.zipkin?.feature;
}

/** The whole configuration's exporter, found once per IR (patchRoute asks for every route). */
const exporters = new WeakMap<FilterContext['ir'], TracingFeature | null>();

/** The exporter of the configuration (every instance names the same one). */
function anyFeature(ctx: FilterContext, routes?: readonly IrRoute[]): TracingFeature | undefined {
  const find = (rs: readonly IrRoute[]) => globalFeature(ctx) ?? rs.map(featureOf).find((f) => f !== undefined);
  if (routes) return find(routes);
  let f = exporters.get(ctx.ir);
  if (f === undefined) exporters.set(ctx.ir, (f = find(ctx.ir.routes) ?? null));
  return f ?? undefined;
}

/** envoy.type.v3.Percent. */
function percent(value: number): JsonObject {
  return { value };
}

/** The tracer provider (envoy.config.trace.v3.Tracing.Http) for an exporter. */
function provider(f: TracingFeature): JsonObject {
  const e = f.exporter;
  const c = e.collector;
  if (e.kind === 'zipkin') {
    return {
      name: 'envoy.tracers.zipkin',
      typed_config: anyMessage('envoy.config.trace.v3.ZipkinConfig', {
        collector_cluster: TRACING_CLUSTER,
        collector_endpoint: c.path,
        collector_endpoint_version: 'HTTP_JSON',
        collector_hostname: c.authority,
        trace_id_128bit: e.traceId128,
      }),
    };
  }
  return {
    name: 'envoy.tracers.opentelemetry',
    typed_config: anyMessage('envoy.config.trace.v3.OpenTelemetryConfig', {
      http_service: {
        http_uri: { uri: `${c.tls ? 'https' : 'http'}://${c.authority}${c.path}`, cluster: TRACING_CLUSTER, timeout: duration(e.timeoutMs) },
        request_headers_to_add: Object.entries(e.headers).sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
      },
      service_name: e.serviceName,
      ...(Object.keys(e.resourceAttributes).length ? {
        resource_detectors: [{
          name: 'envoy.tracers.opentelemetry.resource_detectors.static_config',
          typed_config: anyMessage('envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig', { attributes: e.resourceAttributes }),
        }],
      } : {}),
    }),
  };
}

/** The HTTP connection manager's tracing (envoy...HttpConnectionManager.Tracing) for a listener. */
function tracing(l: IrListener, ctx: FilterContext): JsonObject | undefined {
  const f = anyFeature(ctx, l.routes);
  if (!f) return undefined;
  return {
    provider: provider(f),
    // Requests no route took (and routes that set none) follow the global plugin's rate.
    random_sampling: percent(globalFeature(ctx)?.samplingPercent ?? 0),
    spawn_upstream_span: false,
  };
}

/** The collector's cluster: HTTP/1.1 to the endpoint's host and port, TLS for https. */
function collectorCluster(f: TracingFeature): JsonObject {
  const c = f.exporter.collector;
  const ip = isIpLiteral(c.host);
  return {
    name: TRACING_CLUSTER,
    type: ip ? 'STATIC' : 'STRICT_DNS',
    ...(ip ? {} : { dns_lookup_family: 'V4_PREFERRED' }),
    connect_timeout: duration(f.exporter.connectTimeoutMs),
    load_assignment: { cluster_name: TRACING_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(c.host, c.port) } }] }] },
    ...(c.tls ? {
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: anyMessage('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', { sni: c.host }),
      },
    } : {}),
  };
}

/**
 * A route's random_sampling (envoy.type.v3.FractionalPercent) in ten-thousandths, the grain of
 * Envoy's sampling decision: with a MILLION denominator Envoy 1.40 sampled numerator/10,000 of
 * the requests (measured: 10,000/1,000,000 traced every request), so 0.01 % is the finest rate.
 */
function sampling(percent: number): JsonObject {
  return { numerator: Math.round(percent * 100), denominator: 'TEN_THOUSAND' };
}

/** A route's tracing: its sampling rate, and the tags Kong's spans carry. */
function routeTracing(r: IrRoute, f: TracingFeature | undefined): JsonObject {
  if (!f) return { random_sampling: sampling(0) };
  const literal = (tag: string, value: string) => ({ tag, literal: { value } });
  return {
    random_sampling: sampling(f.samplingPercent),
    custom_tags: [
      ...(r.service ? [literal('kong.service.name', r.service)] : []),
      literal('kong.route.name', r.routeName),
      { tag: 'kong.consumer.username', metadata: { kind: { request: {} }, metadata_key: { key: EXT_AUTHZ_FILTER, path: [{ key: 'consumer_username' }] } } },
      ...Object.entries(f.staticTags).sort(([a], [b]) => (a < b ? -1 : 1)).filter(([, v]) => v !== '').map(([k, v]) => literal(k, v)),
    ],
  };
}

export const tracingFilter: HttpFilter = {
  name: TRACING,
  httpFilter: () => undefined,
  tracing,
  clusters(ctx) {
    const f = anyFeature(ctx);
    return f ? [collectorCluster(f)] : [];
  },
  // The companions' own spans go to the same collector (contracts/tracing.ts).
  companions: (ctx) => tracingResources(ctx.ir),
  patchRoute(r, envoyRoute, ctx) {
    if (!anyFeature(ctx)) return;
    const f = featureOf(r);
    envoyRoute.decorator = { operation: r.routeName };
    envoyRoute.tracing = routeTracing(r, f);
    if (!f || !envoyRoute.route) return;
    if (f.responseTraceIdHeader) {
      envoyRoute.response_headers_to_add = [
        ...((envoyRoute.response_headers_to_add as JsonObject[] | undefined) ?? []),
        { header: { key: f.responseTraceIdHeader.toLowerCase(), value: '%TRACE_ID%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      ];
    }
    if (f.clearHeaders.length) {
      envoyRoute.request_headers_to_remove = [...((envoyRoute.request_headers_to_remove as string[] | undefined) ?? []), ...f.clearHeaders];
    }
  },
};
