import { isIpLiteral } from '../local-address.js';
import { anyMessage, duration, socketAddress, type JsonObject } from './builders.js';
import { spiffeId, type Identity } from '../identity.js';

/**
 * Where an Envoy reads its own certificate and the CA: SDS files on its machine (written by
 * `frontdesk bootstrap`), watched so that a rotation of the files is taken without a restart.
 */
export interface EnvoySds {
  /** The SDS file holding the Envoy's TlsCertificate. */
  certSds: string;
  /** The SDS file holding the CA (CertificateValidationContext). */
  caSds: string;
  /** The folder of the certificate files: a move in it makes Envoy read them again. */
  dir: string;
}

export const ENVOY_CERT_SECRET = 'frontdesk_envoy_cert';
export const ENVOY_CA_SECRET = 'frontdesk_ca';

/**
 * envoy.config.core.v3.TransportSocket with an UpstreamTlsContext: Envoy's client certificate
 * and the CA from the SDS files, the server accepted only when its certificate names `peer`
 * (URI SAN), and h2 by ALPN (gRPC).
 */
export function upstreamTls(sds: EnvoySds, peer: Identity): JsonObject {
  const source = (path: string): JsonObject => ({ path_config_source: { path, watched_directory: { path: sds.dir } }, resource_api_version: 'V3' });
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: anyMessage('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
      common_tls_context: {
        alpn_protocols: ['h2'],
        tls_certificate_sds_secret_configs: [{ name: ENVOY_CERT_SECRET, sds_config: source(sds.certSds) }],
        combined_validation_context: {
          default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: spiffeId(peer) } }] },
          validation_context_sds_secret_config: { name: ENVOY_CA_SECRET, sds_config: source(sds.caSds) },
        },
      },
    }),
  };
}

/**
 * envoy.config.cluster.v3.Cluster for a companion service Envoy calls over gRPC (authz,
 * ratelimit): HTTP/2 to one host:port, a static address or a DNS name, with circuit breakers
 * raised above Envoy's default of 1,024 concurrent requests, which would refuse calls under load.
 * With `tls`, over mTLS to the companion named there.
 */
export function companionCluster(name: string, host: string, port: number, tls?: { sds: EnvoySds; companion: string }): JsonObject {
  const ip = isIpLiteral(host);
  return {
    name,
    type: ip ? 'STATIC' : 'STRICT_DNS',
    ...(ip ? {} : { dns_lookup_family: 'V4_PREFERRED' }),
    connect_timeout: duration(1000),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, port) } }] }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': anyMessage('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', {
        explicit_http_config: { http2_protocol_options: {} },
      }),
    },
    circuit_breakers: { thresholds: [{ max_connections: 1024, max_pending_requests: 10_000, max_requests: 10_000 }] },
    ...(tls ? { transport_socket: upstreamTls(tls.sds, { role: 'companion', name: tls.companion }) } : {}),
  };
}
