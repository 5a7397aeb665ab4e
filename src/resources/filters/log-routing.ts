import type { IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';

/**
 * Which access logger takes which request, for the logging plugins (file-log, http-log): each
 * route names its sink in its metadata (`<namespace>.sink`), and when a listener's requests do
 * not all go to one sink, each logger gets a CEL filter on that metadata. Requests no logging
 * route took (Kong's 404, redirects) go to the global plugin's sink, as Kong's global plugin
 * logs them.
 */

const CEL_FILTER = 'envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';

export interface SinkRouting {
  /** The route metadata namespace, e.g. frontdesk.file_log. */
  namespace: string;
  /** The sink a route's requests go to, or undefined when the route does not log. */
  routeSink(r: IrRoute): string | undefined;
  /** The global plugin's sink. */
  globalSink?: string;
}

/** Each sink of a listener with the access-log filter it needs (none when it takes every request). */
export function listenerSinks(l: IrListener, o: SinkRouting): { sink: string; filter?: JsonObject }[] {
  const sinks = new Set<string>();
  let everyRoute = true;
  for (const r of l.routes) {
    const s = o.routeSink(r);
    if (s !== undefined) sinks.add(s);
    else everyRoute = false;
  }
  if (o.globalSink !== undefined) sinks.add(o.globalSink);
  const all = [...sinks].sort();
  const unfiltered = all.length === 1 && everyRoute && o.globalSink !== undefined;
  const str = (s: string) => JSON.stringify(s);
  return all.map((sink) => {
    if (unfiltered) return { sink };
    const mine = `xds.route_metadata.filter_metadata[${str(o.namespace)}].sink == ${str(sink)}`;
    const expression = o.globalSink === sink ? `!(${str(o.namespace)} in xds.route_metadata.filter_metadata) || ${mine}` : mine;
    return { sink, filter: { extension_filter: { name: 'envoy.access_loggers.extension_filters.cel', typed_config: anyMessage(CEL_FILTER, { expression }) } } };
  });
}

/** Writes the route's sink into its metadata (the Envoy route is patched in place). */
export function markRouteSink(envoyRoute: JsonObject, namespace: string, sink: string | undefined): void {
  if (sink === undefined) return;
  const metadata = (envoyRoute.metadata ?? {}) as JsonObject;
  envoyRoute.metadata = { ...metadata, filter_metadata: { ...(metadata.filter_metadata as JsonObject | undefined), [namespace]: { sink } } };
}
