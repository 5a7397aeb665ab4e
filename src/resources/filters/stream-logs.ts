import { streamLogResources, streamSinkName, type StreamLogPlugin } from '../../contracts/log.js';
import type { IrRoute } from '../../ir/types.js';
import { entryLoggers } from './http-log.js';
import { markRouteSink, type SinkRouting } from './log-routing.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's tcp-log, udp-log and syslog: as http-log's, each request's entry is streamed by Envoy's
 * gRPC access logger (envoy.access_loggers.http_grpc) to the log companion, off the request
 * path, with the same allow-listed headers; the companion turns it into Kong's entry and sends
 * it on as one JSON text (src/log/stream-sinks.ts). One logger per sink (log_name: its content
 * hash, contracts/log.ts), filtered on the route's metadata (`frontdesk.<plugin>`), so a route
 * may carry any of the log plugins together, each to its own sink.
 */

function streamLogFilter(plugin: StreamLogPlugin): HttpFilter {
  const namespace = `frontdesk.${plugin.replace('-', '_')}`;
  const routeSink = (r: IrRoute) => {
    const f = r.plugins[plugin]?.feature;
    return f ? streamSinkName(f) : undefined;
  };
  const routing = (ctx: FilterContext): SinkRouting => {
    const g = ctx.ir.globalPlugins[plugin]?.feature;
    return { namespace, routeSink, ...(g ? { globalSink: streamSinkName(g) } : {}) };
  };
  return {
    name: namespace,
    httpFilter: () => undefined,
    accessLogs: (l, ctx) => entryLoggers(l, ctx, routing(ctx)),
    patchRoute(r, envoyRoute) {
      markRouteSink(envoyRoute, namespace, routeSink(r));
    },
  };
}

export const tcpLogFilter: HttpFilter = { ...streamLogFilter('tcp-log'), companions: (ctx) => streamLogResources(ctx.ir) };
export const udpLogFilter: HttpFilter = streamLogFilter('udp-log');
export const syslogFilter: HttpFilter = streamLogFilter('syslog');
