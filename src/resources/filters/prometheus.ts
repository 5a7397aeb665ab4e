import { metricsResources } from '../../contracts/log.js';
import { namespaceOf, routeSinkOf } from './companion-log.js';
import { markRouteSink } from './log-routing.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's prometheus plugin: Envoy's gRPC access logger (envoy.access_loggers.http_grpc)
 * streams each request of the plugin's routes to the log companion, which counts it in Kong's
 * metric names and labels (src/log/kong-metrics.ts) and serves them on its admin /metrics.
 * Envoy's own statistics cannot carry Kong's names (every one starts with `envoy_`) nor a
 * consumer or route label (docs/observability.md); the logger buffers entries and sends them
 * off the request path, as http-log's does. The route names its metrics sink (a hash of the
 * plugin's flags, contracts/log.ts) in its metadata; the entries travel in the one logger per
 * listener that carries every companion plugin's (companion-log.ts, emitted by http-log.ts),
 * so http-log and prometheus together cost one entry and one stream. Without a plugin that
 * logs headers, no header is logged: the entry carries the status, sizes, timings, the
 * response flags, the consumer authz identified and Kong's service and route names.
 */

export const PROMETHEUS = 'frontdesk.prometheus';
const SINK_METADATA = namespaceOf('prometheus');

export const prometheusFilter: HttpFilter = {
  name: PROMETHEUS,
  httpFilter: () => undefined,
  companions: (ctx) => metricsResources(ctx.ir),
  patchRoute(r, envoyRoute) {
    markRouteSink(envoyRoute, SINK_METADATA, routeSinkOf('prometheus', r));
  },
};
