import type { IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { EXT_AUTHZ_FILTER } from './ext-authz.js';
import { listenerSinks, markRouteSink, type SinkRouting } from './log-routing.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's file-log: Envoy's file access logger (envoy.access_loggers.file) on the listener's
 * HTTP connection manager writes one JSON line per request in Kong's log shape
 * (kong.log.serialize): request, response, latencies, service, route, consumer, client_ip,
 * started_at, upstream_uri, tries. Envoy opens each path once, however many loggers name it.
 *
 * Credentials never reach the file. Headers are an allow-list (so authorization,
 * proxy-authorization, cookie and set-cookie are never written), less any header a key-auth
 * plugin on the listener reads its key from; paths are written without their query string.
 * The consumer is the one the authz companion identified (its dynamic metadata), never a
 * header a client could send.
 *
 * Routes logging to different files, or some routes not logging at all, give one logger per
 * file and format, each filtered (a CEL expression) on the route's metadata written here.
 */

export const FILE_LOG = 'frontdesk.file_log';

/** The route metadata namespace naming the file a route's entries go to. */
const SINK_METADATA = 'frontdesk.file_log';

const FILE_ACCESS_LOG = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';

/** Request headers written to the log (Kong writes them all; credentials are why this is a list). */
export const REQUEST_HEADERS = ['accept', 'content-length', 'content-type', 'host', 'user-agent', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id'];
/** Response headers written to the log (set-cookie never). */
export const RESPONSE_HEADERS = ['content-length', 'content-type', 'location', 'retry-after'];

/** The filter-state key holding the request's path as the client sent it, before any rewrite. */
const ORIGINAL_PATH = 'frontdesk.original_path';
const SET_FILTER_STATE = 'envoy.extensions.filters.http.set_filter_state.v3.Config';

function routePath(r: IrRoute): string | undefined {
  return r.plugins['file-log']?.feature.path;
}

/** The header as the client sent it: a route may rewrite Host (x-forwarded-host is Kong's copy of it). */
const AS_SENT: Record<string, string> = { host: '%REQ(x-forwarded-host?:authority)%' };

function headerObject(names: readonly string[], command: 'REQ' | 'RESP', drop: ReadonlySet<string>): JsonObject {
  return Object.fromEntries(names.filter((n) => !drop.has(n)).map((n) => [n, (command === 'REQ' ? AS_SENT[n] : undefined) ?? `%${command}(${n})%`]));
}

/**
 * Kong's log entry as an Envoy json_format (missing values are left out: omit_empty_values).
 * Paths are written without their query string: a key-auth key (key_in_query) or a jwt
 * (uri_param_names) may be in it, and Envoy's formatter cannot drop one parameter.
 */
export function kongLogFormat(dropHeaders: ReadonlySet<string>): JsonObject {
  const uri = `%FILTER_STATE(${ORIGINAL_PATH}:PLAIN)%`;
  const authz = (field: string) => `%DYNAMIC_METADATA(${EXT_AUTHZ_FILTER}:${field})%`;
  return {
    request: {
      method: '%REQ(:METHOD)%',
      uri,
      // The Host the client sent (the route may rewrite :authority; x-forwarded-host is Kong's copy).
      url: `%REQ(x-forwarded-proto)%://%REQ(x-forwarded-host?:authority)%${uri}`,
      size: '%BYTES_RECEIVED%',
      headers: headerObject(REQUEST_HEADERS, 'REQ', dropHeaders),
    },
    response: {
      status: '%RESPONSE_CODE%',
      size: '%BYTES_SENT%',
      headers: headerObject(RESPONSE_HEADERS, 'RESP', dropHeaders),
    },
    latencies: {
      request: '%DURATION%',
      // Kong's proxy latency: the upstream's time to answer (first byte of its response).
      proxy: '%COMMON_DURATION(US_TX_BEG:US_RX_BEG:ms)%',
      // Kong's own latency: the gateway's time before the request went upstream.
      kong: '%COMMON_DURATION(DS_RX_BEG:US_TX_BEG:ms)%',
    },
    service: { name: '%METADATA(ROUTE:frontdesk:service)%' },
    route: { name: '%METADATA(ROUTE:frontdesk:route)%' },
    consumer: { id: authz('consumer_id'), username: authz('consumer_username') },
    client_ip: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
    started_at: '%START_TIME(%s%3f)%',
    upstream_uri: '%PATH(NQ:PATH)%',
    upstream_host: '%UPSTREAM_HOST%',
    tries: '%UPSTREAM_REQUEST_ATTEMPT_COUNT%',
    response_flags: '%RESPONSE_FLAGS%',
  };
}

/** Header names a key-auth plugin on the listener reads a key from (never logged). */
export function keyHeaders(l: IrListener, ctx: FilterContext): Set<string> {
  const out = new Set<string>();
  for (const p of [ctx.ir.globalPlugins['key-auth'], ...l.routes.map((r) => r.plugins['key-auth'])]) {
    if (p?.feature.key_in_header) for (const k of p.feature.key_names) out.add(k.toLowerCase());
  }
  return out;
}

function routing(ctx: FilterContext): SinkRouting {
  const global = ctx.ir.globalPlugins['file-log']?.feature.path;
  return { namespace: SINK_METADATA, routeSink: routePath, ...(global !== undefined ? { globalSink: global } : {}) };
}

/** envoy.config.accesslog.v3.AccessLog entries for one listener: one per file. */
function accessLogs(l: IrListener, ctx: FilterContext): JsonObject[] {
  const drop = keyHeaders(l, ctx);
  return listenerSinks(l, routing(ctx)).map(({ sink, filter }) => ({
    name: 'envoy.access_loggers.file',
    ...(filter ? { filter } : {}),
    typed_config: anyMessage(FILE_ACCESS_LOG, { path: sink, log_format: { json_format: kongLogFormat(drop), omit_empty_values: true } }),
  }));
}

export const fileLogFilter: HttpFilter = {
  name: FILE_LOG,
  // First in the chain: the path as the client sent it, kept before any filter or route rewrites it.
  httpFilter(l, ctx) {
    if (listenerSinks(l, routing(ctx)).length === 0) return undefined;
    return {
      name: FILE_LOG,
      typed_config: anyMessage(SET_FILTER_STATE, {
        on_request_headers: [{ object_key: ORIGINAL_PATH, factory_key: 'envoy.string', format_string: { text_format_source: { inline_string: '%PATH(NQ)%' } } }],
      }),
    };
  },
  accessLogs,
  patchRoute(r, envoyRoute) {
    markRouteSink(envoyRoute, SINK_METADATA, routePath(r));
  },
};
