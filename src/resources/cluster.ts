import type { Backend } from '../ir/types.js';
import { adsSource, any, compact, duration, socketAddress, type JsonObject } from './builders.js';
import { clusterName } from './names.js';

/** Backend → envoy.config.cluster.v3.Cluster (EDS over ADS, or STRICT_DNS for hostnames). */
export function buildCluster(b: Backend): JsonObject {
  const lbPolicy = { round_robin: 'ROUND_ROBIN', least_request: 'LEAST_REQUEST', ring_hash: 'RING_HASH' }[b.lb];
  return compact({
    name: clusterName(b.name),
    connect_timeout: duration(b.connectTimeoutMs),
    ...(b.discovery === 'eds'
      ? { type: 'EDS', eds_cluster_config: { eds_config: adsSource(), service_name: clusterName(b.name) } }
      : { type: 'STRICT_DNS', dns_lookup_family: 'V4_PREFERRED', load_assignment: buildLoadAssignment(b) }),
    lb_policy: lbPolicy === 'ROUND_ROBIN' ? undefined : lbPolicy,
    ring_hash_lb_config: b.ringSize ? { minimum_ring_size: Math.max(b.ringSize, 1024) } : undefined,
    per_connection_buffer_limit_bytes: 32768,
    typed_extension_protocol_options: b.http2 ? {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': any('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', {
        explicit_http_config: { http2_protocol_options: {} },
      }),
    } : undefined,
    transport_socket: b.tls ? {
      name: 'envoy.transport_sockets.tls',
      typed_config: any('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', compact({
        sni: b.tls.sni,
        common_tls_context: compact({
          alpn_protocols: b.http2 ? ['h2'] : undefined,
          validation_context: b.tls.verify ? {
            trusted_ca: b.tls.caCerts.length ? { inline_string: b.tls.caCerts.join('\n') } : { filename: '/etc/ssl/certs/ca-certificates.crt' },
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: b.tls.sni } }],
          } : undefined,
        }),
      })),
    } : undefined,
    health_checks: b.active ? [compact({
      timeout: duration(b.active.timeoutMs),
      interval: duration(b.active.intervalMs),
      unhealthy_interval: b.active.unhealthyIntervalMs ? duration(b.active.unhealthyIntervalMs) : undefined,
      // Kong probes at its interval whether or not traffic flows.
      no_traffic_interval: duration(b.active.intervalMs),
      healthy_threshold: b.active.healthyThreshold,
      unhealthy_threshold: b.active.unhealthyThreshold,
      ...(b.active.type === 'tcp'
        ? { tcp_health_check: {} }
        : b.active.type === 'grpc' || b.active.type === 'grpcs'
          ? { grpc_health_check: {} }
          : { http_health_check: compact({ path: b.active.path, host: b.active.host, expected_statuses: statusRanges(b.active.expectedStatuses) }) }),
    })] : undefined,
    outlier_detection: b.passive ? compact({
      consecutive_5xx: b.passive.consecutive5xx,
      enforcing_consecutive_5xx: b.passive.consecutive5xx ? undefined : 0,
      consecutive_gateway_failure: b.passive.consecutiveGatewayFailure,
      enforcing_consecutive_gateway_failure: b.passive.consecutiveGatewayFailure ? 100 : undefined,
      split_external_local_origin_errors: b.passive.consecutiveLocalOriginFailure ? true : undefined,
      consecutive_local_origin_failure: b.passive.consecutiveLocalOriginFailure,
      enforcing_success_rate: 0,
    }) : undefined,
  });
}

/** Backend → envoy.config.endpoint.v3.ClusterLoadAssignment; weight-0 targets are left out, as Kong disables them. */
export function buildLoadAssignment(b: Backend): JsonObject {
  const live = b.endpoints.filter((e) => e.weight > 0);
  return {
    cluster_name: clusterName(b.name),
    endpoints: live.length ? [{
      lb_endpoints: live.map((e) => ({
        endpoint: {
          address: socketAddress(e.host, e.port),
          // Kong sends the target's host:port as Host (auto_host_rewrite) and in health checks.
          hostname: e.hostHeader,
          ...(b.active ? { health_check_config: { hostname: e.hostHeader } } : {}),
        },
        load_balancing_weight: e.weight,
      })),
    }] : [],
  };
}

/** [200, 201, 202, 302] → Int64Range list [{start:200,end:203},{start:302,end:303}]. */
function statusRanges(codes: number[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const c of codes) {
    const last = out[out.length - 1];
    if (last && last.end === c) last.end = c + 1;
    else out.push({ start: c, end: c + 1 });
  }
  return out;
}
