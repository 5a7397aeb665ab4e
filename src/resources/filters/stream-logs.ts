import { streamLogResources, type StreamLogPlugin } from '../../contracts/log.js';
import { namespaceOf, routeSinkOf } from './companion-log.js';
import { markRouteSink } from './log-routing.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's tcp-log, udp-log, syslog, loggly, statsd and datadog: as http-log's, each request's entry is streamed by Envoy's
 * gRPC access logger (envoy.access_loggers.http_grpc) to the log companion, off the request
 * path, with the same allow-listed headers; the companion turns it into Kong's entry and sends
 * it on as one JSON text (src/log/stream-sinks.ts). The route names its sink (its content hash,
 * contracts/log.ts) in its metadata (`frontdesk.<plugin>`), so a route may carry any of the log
 * plugins together, each to its own sink; the entries travel in the one logger per listener
 * that carries every companion plugin's (companion-log.ts, emitted by http-log.ts).
 */

function streamLogFilter(plugin: StreamLogPlugin): HttpFilter {
  const namespace = namespaceOf(plugin);
  return {
    name: namespace,
    httpFilter: () => undefined,
    patchRoute(r, envoyRoute) {
      markRouteSink(envoyRoute, namespace, routeSinkOf(plugin, r));
    },
  };
}

export const tcpLogFilter: HttpFilter = { ...streamLogFilter('tcp-log'), companions: (ctx) => streamLogResources(ctx.ir) };
export const udpLogFilter: HttpFilter = streamLogFilter('udp-log');
export const syslogFilter: HttpFilter = streamLogFilter('syslog');
export const statsdFilter: HttpFilter = streamLogFilter('statsd');
export const datadogFilter: HttpFilter = streamLogFilter('datadog');
export const logglyFilter: HttpFilter = streamLogFilter('loggly');
