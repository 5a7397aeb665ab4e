import type { ActiveHealthCheck, Backend, CircuitThresholds, PassiveHealthCheck } from '../ir/types.js';
import { adsSource, anyMessage, compact, duration, socketAddress, type JsonObject } from './builders.js';
import { clusterName, secretName, trustSecretName } from './names.js';

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
    // A stream backend (tcp_proxy) has no HTTP options: TLS names come from the cluster's sni.
    typed_extension_protocol_options: !b.stream && (b.http2 || b.tls) ? {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyMessage('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', compact({
        explicit_http_config: b.http2 ? { http2_protocol_options: {} } : { http_protocol_options: {} },
        // Kong's proxy_ssl_name is $upstream_host: the SNI (and the name verified) is the Host sent
        // upstream, the service's host, or the client's with preserve_host. Envoy's auto_sni takes
        // it from the upstream request's Host; the cluster's sni stays for connections without one.
        // With mesh identities, the certificate is checked against them, not against the Host.
        upstream_http_protocol_options: b.tls ? (b.tls.verify && !b.tls.identities ? { auto_sni: true, auto_san_validation: true } : { auto_sni: true }) : undefined,
      })),
    } : undefined,
    transport_socket: b.tls ? {
      name: 'envoy.transport_sockets.tls',
      typed_config: anyMessage('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', compact({
        sni: b.tls.sni,
        common_tls_context: compact({
          alpn_protocols: b.tls.alpn ?? (b.http2 ? ['h2'] : undefined),
          // Kong's client_certificate: presented in the handshake, served over SDS so it rotates without a new cluster.
          tls_certificate_sds_secret_configs: b.tls.clientCertificate ? [{ name: secretName(b.tls.clientCertificate), sds_config: adsSource() }] : undefined,
          // CAs from watched files: their own SDS secret (trust:<service>), the checks beside it.
          combined_validation_context: b.tls.verify && b.tls.caFromFile ? {
            default_validation_context: compact({
              match_typed_subject_alt_names: b.tls.identities
                ? b.tls.identities.map((i) => ({ san_type: i.type, matcher: { exact: i.name } }))
                : [{ san_type: 'DNS', matcher: { exact: b.tls.sni } }],
              max_verify_depth: b.tls.verifyDepth,
            }),
            validation_context_sds_secret_config: { name: trustSecretName(b.name), sds_config: adsSource() },
          } : undefined,
          validation_context: b.tls.verify && !b.tls.caFromFile ? compact({
            trusted_ca: b.tls.caCerts.length ? { inline_string: b.tls.caCerts.join('\n') } : { filename: '/etc/ssl/certs/ca-certificates.crt' },
            // The mesh's identities (a SPIFFE ID is a URI SAN), else the name the SNI asks for.
            match_typed_subject_alt_names: b.tls.identities
              ? b.tls.identities.map((i) => ({ san_type: i.type, matcher: { exact: i.name } }))
              : [{ san_type: 'DNS', matcher: { exact: b.tls.sni } }],
            // tls_verify_depth is nginx's proxy_ssl_verify_depth (OpenSSL's verify depth: CAs above the leaf), as Envoy counts max_verify_depth.
            max_verify_depth: b.tls.verifyDepth,
          }) : undefined,
        }),
      })),
    } : undefined,
    // HTTPS probes get their own TLS socket (their SNI, their verification), picked by the
    // health checker's transport_socket_match_criteria; endpoints carry no match metadata, so
    // requests keep the cluster's transport_socket.
    transport_socket_matches: b.active?.tls ? [{ name: 'health-check', match: HEALTH_CHECK_SOCKET, transport_socket: healthCheckTls(b.active.tls) }] : undefined,
    health_checks: b.active ? [compact({
      timeout: duration(b.active.timeoutMs),
      interval: duration(b.active.intervalMs),
      unhealthy_interval: b.active.unhealthyIntervalMs ? duration(b.active.unhealthyIntervalMs) : undefined,
      // Kong probes at its interval whether or not traffic flows.
      no_traffic_interval: duration(b.active.intervalMs),
      healthy_threshold: b.active.healthyThreshold,
      unhealthy_threshold: b.active.unhealthyThreshold,
      transport_socket_match_criteria: b.active.tls ? HEALTH_CHECK_SOCKET : undefined,
      ...(b.active.type === 'tcp'
        ? { tcp_health_check: {} }
        : b.active.type === 'grpc' || b.active.type === 'grpcs'
          ? { grpc_health_check: {} }
          : { http_health_check: compact({
            path: b.active.path,
            expected_statuses: statusRanges(b.active.expectedStatuses),
            request_headers_to_add: b.active.headers?.map((h) => ({ header: { key: h.name, value: h.value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
          }) }),
    })] : undefined,
    circuit_breakers: { thresholds: [thresholds('DEFAULT', b.circuitBreaker.default), thresholds('HIGH', b.circuitBreaker.high)] },
    outlier_detection: b.passive ? outlierDetection(b.passive) : undefined,
  });
}

const HEALTH_CHECK_SOCKET = { 'frontdesk.health_check': true };

/** The UpstreamTlsContext of HTTPS probes: Kong's https_sni as SNI, the system CAs when https_verify_certificate holds. */
function healthCheckTls(tls: NonNullable<ActiveHealthCheck['tls']>): JsonObject {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: anyMessage('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', compact({
      sni: tls.sni,
      // Kong's handshake checks the chain and, with https_sni, that the certificate names it.
      common_tls_context: tls.verify ? { validation_context: compact({
        trusted_ca: { filename: '/etc/ssl/certs/ca-certificates.crt' },
        match_typed_subject_alt_names: tls.sni ? [{ san_type: 'DNS', matcher: { exact: tls.sni } }] : undefined,
      }) } : {},
    })),
  };
}

/**
 * One priority's envoy.config.cluster.v3.CircuitBreakers.Thresholds, every limit written out so
 * that none of Envoy's built-in ones (1,024 and 3 retries) applies. Overflows count in the
 * cluster's upstream_cx_overflow, upstream_rq_pending_overflow and upstream_rq_retry_overflow.
 */
function thresholds(priority: 'DEFAULT' | 'HIGH', t: CircuitThresholds): JsonObject {
  return compact({
    priority,
    max_connections: t.maxConnections,
    max_pending_requests: t.maxPendingRequests,
    max_requests: t.maxRequests,
    ...('max' in t.retries
      ? { max_retries: t.retries.max }
      : { retry_budget: { budget_percent: { value: t.retries.budgetPercent }, min_retry_concurrency: t.retries.minConcurrency } }),
    max_connection_pools: t.maxConnectionPools,
    // The overflow counters above, plus remaining_* gauges per threshold.
    track_remaining: true,
  });
}

/**
 * envoy.config.cluster.v3.OutlierDetection enforcing only what is set: Envoy enforces
 * consecutive 5xx and success rate by default, so both are switched off unless asked for.
 */
function outlierDetection(p: PassiveHealthCheck): JsonObject {
  return compact({
    consecutive_5xx: p.consecutive5xx,
    enforcing_consecutive_5xx: p.consecutive5xx ? undefined : 0,
    consecutive_gateway_failure: p.consecutiveGatewayFailure,
    enforcing_consecutive_gateway_failure: p.consecutiveGatewayFailure ? 100 : undefined,
    split_external_local_origin_errors: p.consecutiveLocalOriginFailure ? true : undefined,
    consecutive_local_origin_failure: p.consecutiveLocalOriginFailure,
    interval: p.intervalMs !== undefined ? duration(p.intervalMs) : undefined,
    base_ejection_time: p.baseEjectionTimeMs !== undefined ? duration(p.baseEjectionTimeMs) : undefined,
    max_ejection_time: p.maxEjectionTimeMs !== undefined ? duration(p.maxEjectionTimeMs) : undefined,
    max_ejection_percent: p.maxEjectionPercent,
    success_rate_minimum_hosts: p.successRate?.minimumHosts,
    success_rate_request_volume: p.successRate?.requestVolume,
    success_rate_stdev_factor: p.successRate?.stdevFactor,
    enforcing_success_rate: p.successRate ? p.successRate.enforcing : 0,
    failure_percentage_threshold: p.failurePercentage?.threshold,
    failure_percentage_minimum_hosts: p.failurePercentage?.minimumHosts,
    failure_percentage_request_volume: p.failurePercentage?.requestVolume,
    enforcing_failure_percentage: p.failurePercentage?.enforcing,
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

/** The trusted CAs of a backend whose CAs come from watched files, as an SDS validation-context secret. */
export function buildTrustSecret(b: Backend): JsonObject | undefined {
  if (!b.tls?.verify || !b.tls.caFromFile) return undefined;
  return { name: trustSecretName(b.name), validation_context: { trusted_ca: { inline_string: b.tls.caCerts.join('\n') } } };
}
