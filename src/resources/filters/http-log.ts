import { httpLogResources, sinkName, usesLogCompanion } from '../../contracts/log.js';
import type { IrListener, IrRoute } from '../../ir/types.js';
import { companionCluster } from '../companion-cluster.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { keyHeaders, REQUEST_HEADERS, RESPONSE_HEADERS } from './file-log.js';
import { listenerSinks, markRouteSink, type SinkRouting } from './log-routing.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's http-log: Envoy has no HTTP access logger, so its gRPC access-log service
 * (envoy.access_loggers.http_grpc) streams each request's entry to the log companion, which
 * turns it into Kong's entry and sends it to the plugin's endpoint in batches, as Kong's queue
 * does (src/log). Envoy buffers the entries and sends them off the request path (a slow or
 * absent companion never holds a request). One logger per sink (log_name: the sink's content
 * hash, contracts/log.ts), each filtered on the route's metadata as file-log's are.
 *
 * The entry carries only an allow-list of headers (the same as file-log's, less the key-auth
 * key names), the consumer authz identified (dynamic metadata), and Kong's service and route
 * names (custom tags from the route's metadata).
 */

export const HTTP_LOG = 'frontdesk.http_log';
export const LOG_CLUSTER = 'frontdesk_log';
const SINK_METADATA = 'frontdesk.http_log';

function routeSink(r: IrRoute): string | undefined {
  const f = r.plugins['http-log']?.feature;
  return f ? sinkName(f) : undefined;
}

function routing(ctx: FilterContext): SinkRouting {
  const g = ctx.ir.globalPlugins['http-log']?.feature;
  return { namespace: SINK_METADATA, routeSink, ...(g ? { globalSink: sinkName(g) } : {}) };
}

const routeTag = (tag: string, key: string) => ({ tag, metadata: { kind: { route: {} }, metadata_key: { key: 'frontdesk', path: [{ key }] } } });

/**
 * envoy.config.accesslog.v3.AccessLog entries (http_grpc) for one listener: one per sink, each
 * entry carrying what the companion needs for Kong's entry (http-log's, and tcp-log's, udp-log's
 * and syslog's, filters/stream-logs.ts).
 */
export function entryLoggers(l: IrListener, ctx: FilterContext, sinks: SinkRouting): JsonObject[] {
  const drop = keyHeaders(l, ctx);
  // The path as the client sent it: Kong's X-Forwarded-Path, on every proxied request.
  const requestHeaders = [...REQUEST_HEADERS.filter((h) => !drop.has(h)), 'x-forwarded-host', 'x-forwarded-path'];
  return listenerSinks(l, sinks).map(({ sink, filter }) => ({
    name: 'envoy.access_loggers.http_grpc',
    ...(filter ? { filter } : {}),
    typed_config: anyMessage('envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig', {
      common_config: {
        log_name: sink,
        grpc_service: { envoy_grpc: { cluster_name: LOG_CLUSTER }, timeout: '5s' },
        transport_api_version: 'V3',
        buffer_flush_interval: '0.2s',
        buffer_size_bytes: 16384,
        custom_tags: [routeTag('kong.service', 'service'), routeTag('kong.route', 'route')],
      },
      additional_request_headers_to_log: [...new Set(requestHeaders)],
      additional_response_headers_to_log: RESPONSE_HEADERS.filter((h) => !drop.has(h)),
    }),
  }));
}

export const httpLogFilter: HttpFilter = {
  name: HTTP_LOG,
  httpFilter: () => undefined,
  accessLogs: (l, ctx) => entryLoggers(l, ctx, routing(ctx)),
  // The log companion's cluster, for every plugin that streams to it (prometheus.ts, stream-logs.ts).
  clusters(ctx) {
    return usesLogCompanion(ctx.ir) ? [companionCluster(LOG_CLUSTER, ctx.settings.log.host, ctx.settings.log.port, ctx.settings.tls && { sds: ctx.settings.tls, companion: 'log' })] : [];
  },
  companions: (ctx) => httpLogResources(ctx.ir),
  patchRoute(r, envoyRoute) {
    markRouteSink(envoyRoute, SINK_METADATA, routeSink(r));
  },
};
