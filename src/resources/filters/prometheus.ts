import { metricsResources, metricsSinkName } from '../../contracts/log.js';
import type { IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { LOG_CLUSTER } from './http-log.js';
import { listenerSinks, markRouteSink, type SinkRouting } from './log-routing.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's prometheus plugin: Envoy's gRPC access logger (envoy.access_loggers.http_grpc)
 * streams each request of the plugin's routes to the log companion, which counts it in Kong's
 * metric names and labels (src/log/kong-metrics.ts) and serves them on its admin /metrics.
 * Envoy's own statistics cannot carry Kong's names (every one starts with `envoy_`) nor a
 * consumer or route label (docs/observability.md); the logger buffers entries and sends them
 * off the request path, as http-log's does. One logger per metrics sink (log_name: a hash of
 * the plugin's flags, contracts/log.ts), filtered on the route's metadata as the log plugins'
 * are. No header is logged: the entry carries the status, sizes, timings, the response flags,
 * the consumer authz identified and Kong's service and route names (custom tags).
 */

export const PROMETHEUS = 'frontdesk.prometheus';
const SINK_METADATA = 'frontdesk.prometheus';

function routeSink(r: IrRoute): string | undefined {
  const f = r.plugins.prometheus?.feature;
  return f ? metricsSinkName(f) : undefined;
}

function routing(ctx: FilterContext): SinkRouting {
  const g = ctx.ir.globalPlugins.prometheus?.feature;
  return { namespace: SINK_METADATA, routeSink, ...(g ? { globalSink: metricsSinkName(g) } : {}) };
}

const routeTag = (tag: string, key: string) => ({ tag, metadata: { kind: { route: {} }, metadata_key: { key: 'frontdesk', path: [{ key }] } } });

/** envoy.config.accesslog.v3.AccessLog entries (http_grpc) for one listener: one per metrics sink. */
function accessLogs(l: IrListener, ctx: FilterContext): JsonObject[] {
  return listenerSinks(l, routing(ctx)).map(({ sink, filter }) => ({
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
    }),
  }));
}

export const prometheusFilter: HttpFilter = {
  name: PROMETHEUS,
  httpFilter: () => undefined,
  accessLogs,
  companions: (ctx) => metricsResources(ctx.ir),
  patchRoute(r, envoyRoute) {
    markRouteSink(envoyRoute, SINK_METADATA, routeSink(r));
  },
};
