import { createHash } from 'node:crypto';
import type { IrListener } from '../ir/types.js';
import { adsSource, anyMessage, compact, duration, formatterLiteral, socketAddress, type JsonObject } from './builders.js';
import type { FilterContext, HttpFilter } from './filters/registry.js';
import { listenerName, routeConfigName, secretName } from './names.js';
import { SNI_HEADER } from './route-config.js';

/** Timeouts and size limits on the downstream hop, so no client can hold Envoy's resources forever. */
const DOWNSTREAM = {
  requestHeadersTimeoutMs: 10_000,
  streamIdleTimeoutMs: 300_000,
  idleTimeoutMs: 3_600_000,
  maxRequestHeadersKb: 60,
  bufferLimitBytes: 32768,
};

/**
 * Envoy's own error replies get Kong's status and JSON body, by what went wrong (Envoy's
 * response flag): an upstream that refused, reset or garbled the exchange is Kong's 502, no
 * healthy target its 503, a timeout its 504, a failed rate-limit check its 500. Only replies Envoy
 * generates for those failures are mapped, never an upstream's response or a direct response.
 */
const OVERLOADED_UPSTREAM = 'The upstream server is overloaded: too many requests in flight';
const KONG_ERRORS: { flags: string[]; status: number; message: string }[] = [
  // Shed by a circuit breaker (UO: the cluster's requests, pending requests or connections are
  // at their threshold) or by Envoy's overload manager (OM); Kong has no such limit, so the
  // message says which overload it was. Listed first: a shed retry keeps the first try's flags.
  { flags: ['UO'], status: 503, message: OVERLOADED_UPSTREAM },
  { flags: ['OM'], status: 503, message: 'The gateway is overloaded' },
  { flags: ['UF', 'UC', 'URX', 'UPE', 'UR'], status: 502, message: 'An invalid response was received from the upstream server' },
  { flags: ['UH', 'NC'], status: 503, message: 'failure to get a peer from the ring-balancer' },
  { flags: ['UT'], status: 504, message: 'The upstream server is timing out' },
  // The ratelimit service unreachable or failing (fault_tolerant: false): Kong's 500.
  { flags: ['RLSE'], status: 500, message: 'An unexpected error occurred' },
];
const KONG_ERROR_MAPPERS: JsonObject[] = [
  ...KONG_ERRORS.map(({ flags, status, message }): JsonObject => ({
    filter: { response_flag_filter: { flags } },
    status_code: status,
    body_format_override: { json_format: { message }, content_type: 'application/json; charset=utf-8' },
  })),
  // The route's stream idle timeout (SI, details "stream_idle_timeout") is max(read_timeout,
  // write_timeout): when the two are equal it races the per-try idle timeout (UT) for the same
  // silent upstream, and when it wins Envoy answers 504 "stream timeout" as text. That 504 is
  // Kong's read timeout too. (SI on a request the client has not finished sending is Envoy's
  // 408, not mapped here.)
  {
    filter: {
      and_filter: {
        filters: [
          { response_flag_filter: { flags: ['SI'] } },
          { status_code_filter: { comparison: { op: 'EQ', value: { default_value: 504, runtime_key: 'frontdesk.stream_idle_timeout_status' } } } },
        ],
      },
    },
    status_code: 504,
    body_format_override: { json_format: { message: 'The upstream server is timing out' }, content_type: 'application/json; charset=utf-8' },
  },
  // The adaptive_concurrency extension refuses with no response flag, only its details string.
  {
    filter: {
      extension_filter: {
        name: 'envoy.access_loggers.extension_filters.cel',
        typed_config: anyMessage('envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter', { expression: "response.code_details == 'reached_concurrency_limit'" }),
      },
    },
    status_code: 503,
    body_format_override: { json_format: { message: `${OVERLOADED_UPSTREAM} (concurrency limit reached)` }, content_type: 'application/json; charset=utf-8' },
  },
];

/**
 * Kong's grpc-status for the HTTP status of an answer it gives a gRPC request
 * (kong/pdk/response.lua, HTTP_TO_GRPC_STATUS; a status it does not list takes the one of its
 * class: 4xx as 400, 5xx as 500, 2xx as 200). Envoy's own table (Grpc::Utility::
 * httpToGrpcStatus) differs: 404 → 12, 429 → 14, 500 → 2, 504 → 14.
 */
export const KONG_GRPC_STATUS: readonly (readonly [number, number])[] = [
  [200, 0], [400, 3], [401, 16], [403, 7], [404, 5], [409, 6], [429, 8], [499, 1], [500, 13], [501, 12], [503, 14], [504, 4],
];
const KONG_GRPC_CLASS: readonly (readonly [number, number, number])[] = [[400, 499, 3], [500, 599, 13], [200, 299, 0]];

/**
 * A gRPC request: Kong's is_grpc_request, a content-type starting with application/grpc (over
 * HTTP/2, which a gRPC request always is). A gRPC-Web request (HTTP/1.1 from a browser) is not
 * one, for Kong as here, until Envoy's grpc_web filter has made it gRPC: refusals before that
 * filter are Kong's JSON, answers after it are gRPC ones, framed for gRPC-Web by the filter.
 */
const GRPC_REQUEST: JsonObject[] = [
  { header_filter: { header: { name: 'content-type', string_match: { prefix: 'application/grpc' } } } },
  { header_filter: { header: { name: 'content-type', string_match: { prefix: 'application/grpc-web' }, invert_match: true } } },
];

const statusIs = (op: 'EQ' | 'GE' | 'LE', code: number): JsonObject => ({
  status_code_filter: { comparison: { op, value: { default_value: code, runtime_key: 'frontdesk.unused' } } },
});
const grpcStatusHeader = (code: number): JsonObject[] => [
  { header: { key: 'grpc-status', value: String(code) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
];

/** Kong's grpc-message for a grpc-status it writes from an HTTP status alone (kong/pdk/response.lua, GRPC_MESSAGES). */
export const KONG_GRPC_MESSAGES: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
  'Unauthenticated',
];

/**
 * A local reply to a gRPC request is sent by Envoy as a gRPC answer (HTTP 200, trailers only,
 * the reply's body as grpc-message); Envoy writes grpc-status only when the reply has none. These
 * mappers, tried first, give Kong's answer instead of Envoy's:
 * - Envoy's own upstream failures: Kong's error handler (kong/error_handlers.lua) exits with
 *   `{message = ...}` for a gRPC request, which kong.response.exit sends as grpc-message;
 * - every other refusal (the plugins' kong.response.error, the router's 404, the companions'
 *   denials): Kong sends no body to a gRPC client and names the status (GRPC_MESSAGES).
 * The JSON mappers after them are then never reached by a gRPC request.
 */
const grpcReply = (filter: JsonObject, grpc: number, message: string): JsonObject => ({
  filter: { and_filter: { filters: [...GRPC_REQUEST, filter] } },
  headers_to_add: grpcStatusHeader(grpc),
  body_format_override: { text_format_source: { inline_string: formatterLiteral(message) } },
});
const GRPC_ERROR_MAPPERS: JsonObject[] = [
  ...KONG_ERRORS.map(({ flags, status, message }) => grpcReply({ response_flag_filter: { flags } }, kongGrpcStatus(status), message)),
  ...KONG_GRPC_STATUS.map(([http, grpc]) => grpcReply(statusIs('EQ', http), grpc, KONG_GRPC_MESSAGES[grpc]!)),
  ...KONG_GRPC_CLASS.map(([from, to, grpc]) => grpcReply({ and_filter: { filters: [statusIs('GE', from), statusIs('LE', to)] } }, grpc, KONG_GRPC_MESSAGES[grpc]!)),
];

/** Kong's grpc-status for an HTTP status (KONG_GRPC_STATUS, then the status's class; 2 Unknown otherwise). */
export function kongGrpcStatus(http: number): number {
  return KONG_GRPC_STATUS.find(([h]) => h === http)?.[1] ?? KONG_GRPC_CLASS.find(([from, to]) => http >= from && http <= to)?.[2] ?? 2;
}

/** envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation: the connection's SNI as SNI_HEADER, the client's own copy replaced. */
const SNI_EARLY_MUTATION = {
  name: 'frontdesk.sni',
  typed_config: anyMessage('envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation', {
    mutations: [{ append: { header: { key: SNI_HEADER, value: '%REQUESTED_SERVER_NAME%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } }],
  }),
};

/** The listener's HTTP filters, in CHAIN order: those some route of the listener uses. */
export function httpFilterChain(l: IrListener, filters: readonly HttpFilter[], ctx: FilterContext): JsonObject[] {
  return filters.map((f) => f.httpFilter(l, ctx)).filter((f): f is JsonObject => f !== undefined);
}

/**
 * The name of the listener's RouteConfiguration, which carries a hash of its filter chain. The
 * filters are off by default and switched on by each route's typed_per_filter_config, so a
 * chain is only right with the routes written for it: Envoy applies a listener before the
 * routes that come with it, and with one name for both a new chain (say, jwt moved from the
 * authz companion into Envoy's jwt_authn) would run for a moment with the old routes, which
 * switch on filters no longer there and none of the new ones: a protected route unprotected.
 * With the chain in the name, a new chain names new routes, and Envoy keeps the new listener
 * warming (the old one serving with its own routes) until they have arrived.
 */
export function routeConfigNameFor(l: IrListener, chain: readonly JsonObject[]): string {
  return `${routeConfigName(l.name)}#${createHash('sha256').update(JSON.stringify(chain)).digest('base64url').slice(0, 12)}`;
}

/** IrListener → envoy.config.listener.v3.Listener with an HTTP connection manager using RDS. */
export function buildListener(l: IrListener, filters: readonly HttpFilter[], ctx: FilterContext, certSnis: Map<string, string[]>, chain = httpFilterChain(l, filters, ctx)): JsonObject {
  const accessLog = filters.flatMap((f) => f.accessLogs?.(l, ctx) ?? []);
  const tracing = filters.map((f) => f.tracing?.(l, ctx)).find((t) => t !== undefined);
  const filterReplies = filters.flatMap((f) => f.localReplies?.(l, ctx) ?? []);
  const pluginSettings = Object.assign({}, ...filters.map((f) => f.connectionManager?.(l, ctx) ?? {})) as JsonObject;
  const hcm = {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: anyMessage('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', compact({
      stat_prefix: l.name,
      codec_type: 'AUTO',
      rds: { config_source: adsSource(), route_config_name: routeConfigNameFor(l, chain) },
      http_filters: chain,
      // Kong's X-Forwarded-For (the client's list, the connection's address appended) and, with
      // no trusted hop, its X-Forwarded-Proto and -Port: the scheme and the port the request came
      // in on, a client's own values overwritten (http_connection_manager's mutateRequestHeaders).
      use_remote_address: true,
      append_x_forwarded_port: true,
      normalize_path: true,
      // Kong's router merges duplicate slashes before matching (kong.tools.uri normalize).
      merge_slashes: true,
      server_name: 'frontdesk',
      server_header_transformation: 'PASS_THROUGH',
      request_headers_timeout: duration(DOWNSTREAM.requestHeadersTimeoutMs),
      stream_idle_timeout: duration(DOWNSTREAM.streamIdleTimeoutMs),
      common_http_protocol_options: { idle_timeout: duration(DOWNSTREAM.idleTimeoutMs), headers_with_underscores_action: 'ALLOW' },
      max_request_headers_kb: DOWNSTREAM.maxRequestHeadersKb,
      http2_protocol_options: { max_concurrent_streams: 1024, initial_stream_window_size: 65536, initial_connection_window_size: 1048576 },
      upgrade_configs: [{ upgrade_type: 'websocket' }],
      local_reply_config: { mappers: [...GRPC_ERROR_MAPPERS, ...filterReplies, ...KONG_ERROR_MAPPERS] },
      access_log: accessLog.length ? accessLog : undefined,
      tracing,
      // Routes with Kong's snis match the TLS server name, written where a route can read it.
      early_header_mutation_extensions: l.protocol === 'https' && l.routes.some((r) => r.snis) ? [SNI_EARLY_MUTATION] : undefined,
      ...pluginSettings,
    })),
  };
  const tls = (certs: string[]) => ({
    name: 'envoy.transport_sockets.tls',
    typed_config: anyMessage('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
      common_tls_context: {
        tls_certificate_sds_secret_configs: certs.map((c) => ({ name: secretName(c), sds_config: adsSource() })),
        alpn_protocols: l.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      },
    }),
  });
  const filterChains = l.protocol === 'https'
    ? [
      ...l.certificates.filter((c) => (certSnis.get(c) ?? []).length).map((c) => ({
        filter_chain_match: { server_names: certSnis.get(c)! },
        filters: [hcm],
        transport_socket: tls([c]),
      })),
    ]
    : [{ filters: [hcm] }];
  return compact({
    name: listenerName(l.name),
    address: socketAddress(l.address, l.port),
    filter_chains: filterChains,
    default_filter_chain: l.protocol === 'https' && l.certificates.length ? { filters: [hcm], transport_socket: tls([l.certificates[0]!]) } : undefined,
    listener_filters: l.protocol === 'https' ? [{ name: 'envoy.filters.listener.tls_inspector', typed_config: anyMessage('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', {}) }] : undefined,
    per_connection_buffer_limit_bytes: DOWNSTREAM.bufferLimitBytes,
  });
}
