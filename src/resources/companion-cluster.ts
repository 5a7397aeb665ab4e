import { isIpLiteral } from '../ir/build.js';
import { any, duration, socketAddress, type JsonObject } from './builders.js';

/**
 * envoy.config.cluster.v3.Cluster for a companion service Envoy calls over gRPC (authz,
 * ratelimit): HTTP/2 to one host:port, a static address or a DNS name, with circuit breakers
 * raised above Envoy's default of 1,024 concurrent requests, which would refuse calls under load.
 */
export function companionCluster(name: string, host: string, port: number): JsonObject {
  const ip = isIpLiteral(host);
  return {
    name,
    type: ip ? 'STATIC' : 'STRICT_DNS',
    ...(ip ? {} : { dns_lookup_family: 'V4_PREFERRED' }),
    connect_timeout: duration(1000),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, port) } }] }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': any('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', {
        explicit_http_config: { http2_protocol_options: {} },
      }),
    },
    circuit_breakers: { thresholds: [{ max_connections: 1024, max_pending_requests: 10_000, max_requests: 10_000 }] },
  };
}
