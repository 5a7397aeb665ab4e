import { metricsSinkName, namesServicesByIdOrHost, sinkName, STREAM_LOG_PLUGINS, streamLogFeatures, streamSinkName, UNLOGGED_TAG } from '../../contracts/log.js';
import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { keyHeaders, REQUEST_HEADERS, RESPONSE_HEADERS } from './file-log.js';
import type { FilterContext } from './registry.js';

/**
 * The one gRPC access logger (envoy.access_loggers.http_grpc) that streams a listener's entries
 * to the log companion for every plugin the companion serves: http-log, prometheus, tcp-log,
 * udp-log and syslog. Each entry is serialised once and sent on one stream, whatever the
 * number of plugins: the entry names its sink per plugin in a custom tag (the plugin's route
 * metadata namespace, e.g. `frontdesk.http_log`, holding the sink name the route's metadata
 * carries; the global plugin's sink when the route names none), and the companion hands it to
 * each sink it names. Envoy keeps one stream per worker for every logger of the same
 * common_config, so common_config is built from the whole configuration (the same on every
 * listener): one stream per Envoy worker for all listeners.
 *
 * Entries are sent in messages of up to 64 KiB, or every second: fewer, larger gRPC messages
 * (Kong's http-log queue coalesces for a second too). Headers (an allow-list, less the key-auth
 * key names) are logged only on listeners where a plugin writes them (not for prometheus).
 */

export const LOG_CLUSTER = 'frontdesk_log';
/** The stream's log_name: sinks are named per entry, in its custom tags. */
export const COMPANION_LOG_NAME = 'frontdesk';
/** Envoy's buffer of entries before a message is sent (bytes), and its flush interval. */
export const LOG_BUFFER_BYTES = 65536;
export const LOG_FLUSH_INTERVAL = '1s';

type Plugin = 'http-log' | 'prometheus' | (typeof STREAM_LOG_PLUGINS)[number];

interface LogConsumer {
  plugin: Plugin;
  /** The route metadata namespace naming the route's sink, and the entry's custom tag. */
  namespace: string;
  /** Whether its entries carry the request's and response's headers. */
  headers: boolean;
}

/** The route metadata namespace of a plugin's sink (`frontdesk.http_log`, `frontdesk.tcp_log`, ...). */
export const namespaceOf = (p: Plugin) => `frontdesk.${p.replace('-', '_')}`;

/** The plugins the companion serves, in a fixed order (the custom tags' order). */
export const LOG_CONSUMERS: readonly LogConsumer[] = [
  { plugin: 'http-log', namespace: namespaceOf('http-log'), headers: true },
  { plugin: 'prometheus', namespace: namespaceOf('prometheus'), headers: false },
  ...STREAM_LOG_PLUGINS.map((p) => ({ plugin: p, namespace: namespaceOf(p), headers: p !== 'statsd' && p !== 'datadog' })),
];

/** The sink a plugin's feature sends to (its content-hashed name, contracts/log.ts). */
function sinkOf(plugin: Plugin, f: unknown): string {
  if (plugin === 'http-log') return sinkName(f as Parameters<typeof sinkName>[0]);
  if (plugin === 'prometheus') return metricsSinkName(f as Parameters<typeof metricsSinkName>[0]);
  return streamSinkName(f as Parameters<typeof streamSinkName>[0]);
}

/** The sink a route's requests go to for a plugin, or undefined when the route does not use it. */
export function routeSinkOf(plugin: Plugin, r: IrRoute): string | undefined {
  const f = r.plugins[plugin]?.feature;
  return f ? sinkOf(plugin, f) : undefined;
}

function globalSinkOf(plugin: Plugin, ir: GatewayIR): string | undefined {
  const f = ir.globalPlugins[plugin]?.feature;
  return f ? sinkOf(plugin, f) : undefined;
}

function usedBy(c: LogConsumer, ir: GatewayIR, routes: readonly IrRoute[]): boolean {
  return globalSinkOf(c.plugin, ir) !== undefined || routes.some((r) => r.plugins[c.plugin] !== undefined);
}

/** The custom tags of every entry: Kong's service and route names, and each used plugin's sink. */
/**
 * Request headers Envoy writes into every entry's own fields (HTTPRequestProperties.user_agent,
 * forwarded_for, request_id): the companion reads them there (log/als-decode.ts), so they are
 * not logged a second time among the additional headers (measured: each logged header costs
 * Envoy and the companion CPU per request, docs/benchmarks.md).
 */
const NATIVE_HEADERS = ['user-agent', 'x-forwarded-for', 'x-request-id'];

/** The native headers some key-auth plugin reads a key from: named in a tag, so the companion drops them. */
function unloggedNative(ctx: FilterContext): string[] {
  const keys = new Set(ctx.ir.listeners.flatMap((l) => [...keyHeaders(l, ctx)]));
  return NATIVE_HEADERS.filter((h) => keys.has(h));
}

function customTags(ir: GatewayIR, ctx: FilterContext): JsonObject[] {
  const routeTag = (tag: string, key: string, path: string, defaultValue?: string) => ({
    tag, metadata: { kind: { route: {} }, metadata_key: { key, path: [{ key: path }] }, ...(defaultValue !== undefined ? { default_value: defaultValue } : {}) },
  });
  return [
    routeTag('kong.service', 'frontdesk', 'service'),
    routeTag('kong.route', 'frontdesk', 'route'),
    // statsd's status_count_per_user_per_route names the route by its id.
    ...(usedBy(LOG_CONSUMERS.find((c) => c.plugin === 'statsd')!, ir, ir.routes) ? [routeTag('kong.route_id', 'frontdesk', 'route_id')] : []),
    // statsd's service_id and service_host: the service's id and host (route-config.ts writes them only where asked).
    ...(streamLogFeatures(ir, ['statsd']).some(namesServicesByIdOrHost)
      ? [routeTag('kong.service_id', 'frontdesk', 'service_id'), routeTag('kong.service_host', 'frontdesk', 'service_host')] : []),
    ...LOG_CONSUMERS.filter((c) => usedBy(c, ir, ir.routes)).map((c) => routeTag(c.namespace, c.namespace, 'sink', globalSinkOf(c.plugin, ir))),
    ...(() => { const u = unloggedNative(ctx); return u.length ? [{ tag: UNLOGGED_TAG, literal: { value: u.join(',') } }] : []; })(),
  ];
}

const CEL_FILTER = 'envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';

/** The listener's gRPC access logger to the log companion (envoy.config.accesslog.v3.AccessLog), if any plugin on it needs one. */
export function companionLogger(l: IrListener, ctx: FilterContext): JsonObject[] {
  const ir = ctx.ir;
  const used = LOG_CONSUMERS.filter((c) => usedBy(c, ir, l.routes));
  if (!used.length) return [];
  // Requests no route of a used plugin took are logged only for a global plugin; else they are filtered out in Envoy.
  const everyRequest = used.some((c) => globalSinkOf(c.plugin, ir) !== undefined) || l.routes.every((r) => used.some((c) => r.plugins[c.plugin] !== undefined));
  const expression = used.map((c) => `${JSON.stringify(c.namespace)} in xds.route_metadata.filter_metadata`).join(' || ');
  const drop = keyHeaders(l, ctx);
  const headers = used.some((c) => c.headers);
  // Host travels in the entry's own field (authority), and Kong's X-Forwarded-Host overrides it.
  const own = new Set(['host']);
  // The path and host as the client sent them: Kong's X-Forwarded-Path and X-Forwarded-Host, on every proxied request.
  const requestHeaders = [...REQUEST_HEADERS.filter((h) => !drop.has(h) && !own.has(h) && !NATIVE_HEADERS.includes(h)), 'x-forwarded-host', 'x-forwarded-path'];
  return [{
    name: 'envoy.access_loggers.http_grpc',
    ...(everyRequest ? {} : { filter: { extension_filter: { name: 'envoy.access_loggers.extension_filters.cel', typed_config: anyMessage(CEL_FILTER, { expression }) } } }),
    typed_config: anyMessage('envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig', {
      common_config: {
        log_name: COMPANION_LOG_NAME,
        grpc_service: { envoy_grpc: { cluster_name: LOG_CLUSTER }, timeout: '5s' },
        transport_api_version: 'V3',
        buffer_flush_interval: LOG_FLUSH_INTERVAL,
        buffer_size_bytes: LOG_BUFFER_BYTES,
        custom_tags: customTags(ir, ctx),
      },
      ...(headers ? {
        additional_request_headers_to_log: [...new Set(requestHeaders)],
        additional_response_headers_to_log: RESPONSE_HEADERS.filter((h) => !drop.has(h)),
      } : {}),
    }),
  }];
}
