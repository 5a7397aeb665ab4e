import { httpLogResources, usesLogCompanion } from '../../contracts/log.js';
import { companionCluster } from '../companion-cluster.js';
import { companionLogger, LOG_CLUSTER, namespaceOf, routeSinkOf } from './companion-log.js';
import { markRouteSink } from './log-routing.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's http-log: Envoy has no HTTP access logger, so its gRPC access-log service
 * (envoy.access_loggers.http_grpc) streams each request's entry to the log companion, which
 * turns it into Kong's entry and sends it to the plugin's endpoint in batches, as Kong's queue
 * does (src/log). Envoy buffers the entries and sends them off the request path (a slow or
 * absent companion never holds a request). The route names its sink (the sink's content hash,
 * contracts/log.ts) in its metadata; one logger per listener carries every companion plugin's
 * entries (companion-log.ts), and this filter emits it.
 *
 * The entry carries only an allow-list of headers (the same as file-log's, less the key-auth
 * key names), the consumer authz identified (dynamic metadata), and Kong's service and route
 * names (custom tags from the route's metadata).
 */

export { LOG_CLUSTER };
export const HTTP_LOG = 'frontdesk.http_log';
const SINK_METADATA = namespaceOf('http-log');

export const httpLogFilter: HttpFilter = {
  name: HTTP_LOG,
  httpFilter: () => undefined,
  // The one logger to the log companion, for every plugin that streams to it (prometheus.ts, stream-logs.ts too).
  accessLogs: companionLogger,
  // The log companion's cluster, for every plugin that streams to it.
  clusters(ctx) {
    return usesLogCompanion(ctx.ir) ? [companionCluster(LOG_CLUSTER, ctx.settings.log.host, ctx.settings.log.port, ctx.settings.tls && { sds: ctx.settings.tls, companion: 'log' })] : [];
  },
  companions: (ctx) => httpLogResources(ctx.ir),
  patchRoute(r, envoyRoute) {
    markRouteSink(envoyRoute, SINK_METADATA, routeSinkOf('http-log', r));
  },
};
