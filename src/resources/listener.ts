import type { IrListener } from '../ir/types.js';
import { adsSource, any, compact, duration, socketAddress, type JsonObject } from './builders.js';
import type { FilterContext, HttpFilter } from './filters/registry.js';
import { listenerName, routeConfigName, secretName } from './names.js';

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
  // The adaptive_concurrency extension refuses with no response flag, only its details string.
  {
    filter: {
      extension_filter: {
        name: 'envoy.access_loggers.extension_filters.cel',
        typed_config: any('envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter', { expression: "response.code_details == 'reached_concurrency_limit'" }),
      },
    },
    status_code: 503,
    body_format_override: { json_format: { message: `${OVERLOADED_UPSTREAM} (concurrency limit reached)` }, content_type: 'application/json; charset=utf-8' },
  },
];

/** IrListener → envoy.config.listener.v3.Listener with an HTTP connection manager using RDS. */
export function buildListener(l: IrListener, filters: readonly HttpFilter[], ctx: FilterContext, certSnis: Map<string, string[]>): JsonObject {
  const chain = filters.map((f) => f.httpFilter(l, ctx)).filter((f): f is JsonObject => f !== undefined);
  const hcm = {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: any('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
      stat_prefix: l.name,
      codec_type: 'AUTO',
      rds: { config_source: adsSource(), route_config_name: routeConfigName(l.name) },
      http_filters: chain,
      use_remote_address: true,
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
      local_reply_config: { mappers: KONG_ERROR_MAPPERS },
    }),
  };
  const tls = (certs: string[]) => ({
    name: 'envoy.transport_sockets.tls',
    typed_config: any('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
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
    listener_filters: l.protocol === 'https' ? [{ name: 'envoy.filters.listener.tls_inspector', typed_config: any('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', {}) }] : undefined,
    per_connection_buffer_limit_bytes: DOWNSTREAM.bufferLimitBytes,
  });
}
