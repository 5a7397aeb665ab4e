import { stringify } from 'yaml';
import type { JsonObject } from '../resources/builders.js';

export interface BootstrapOptions {
  xds: { host: string; port: number };
  nodeId: string;
  /** Envoy's node cluster: the fleet whose listeners this Envoy serves. */
  cluster: string;
  adminPort: number;
  adminHost?: string;
  delta?: boolean;
  /** Cap on downstream connections (overload manager). */
  maxConnections?: number;
}

/** envoy.config.bootstrap.v3.Bootstrap for an Envoy that takes everything from Frontdesk over ADS. */
export function buildBootstrap(o: BootstrapOptions): JsonObject {
  const ip = /^(\d{1,3}\.){3}\d{1,3}$/.test(o.xds.host) || o.xds.host.includes(':');
  return {
    node: { id: o.nodeId, cluster: o.cluster },
    admin: { address: { socket_address: { address: o.adminHost ?? '127.0.0.1', port_value: o.adminPort } } },
    dynamic_resources: {
      ads_config: {
        api_type: o.delta ? 'DELTA_GRPC' : 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'frontdesk_xds' }, timeout: '5s' }],
        set_node_on_first_message_only: true,
      },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      clusters: [{
        name: 'frontdesk_xds',
        type: ip ? 'STATIC' : 'STRICT_DNS',
        connect_timeout: '1s',
        load_assignment: {
          cluster_name: 'frontdesk_xds',
          endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: o.xds.host, port_value: o.xds.port } } } }] }],
        },
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '5s' } } },
          },
        },
      }],
    },
    overload_manager: {
      resource_monitors: [{
        name: 'envoy.resource_monitors.global_downstream_max_connections',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig',
          max_active_downstream_connections: o.maxConnections ?? 50000,
        },
      }],
    },
  };
}

/** The bootstrap as YAML, what `frontdesk bootstrap` prints and Envoy's --config-yaml takes. */
export function bootstrapYaml(o: BootstrapOptions): string {
  return stringify(buildBootstrap(o));
}
