import { stringify } from 'yaml';
import { DEFAULT_MAX_DOWNSTREAM_CONNECTIONS } from '../model/checks/circuit-breaking.js';
import type { JsonObject } from '../resources/builders.js';
import { xdsList, type XdsAddresses } from '../contracts/companion.js';
import { ENVOY_CA_SECRET, ENVOY_CERT_SECRET, upstreamTls, type EnvoySds } from '../resources/companion-cluster.js';

// Where an Envoy's SDS files are: a module of its own, so a companion's CLI path loads no YAML writer.
export { envoySds, SDS_FILE_NAMES } from './envoy-sds.js';

export interface BootstrapOptions {
  /** The control plane, or its replicas: one cluster, an endpoint each (see xdsCluster). */
  xds: XdsAddresses;
  nodeId: string;
  /** Envoy's node cluster: the fleet whose listeners this Envoy serves. */
  cluster: string;
  adminPort: number;
  adminHost?: string;
  delta?: boolean;
  /** Cap on downstream connections (overload manager); the service clusters' thresholds derive from the default. */
  maxConnections?: number;
  /** The heap size the overload manager's actions are fractions of. */
  maxHeapBytes?: number;
  /** mTLS to the control plane: the SDS files with Envoy's certificate and the CA (see envoySdsFiles). */
  tls?: EnvoySds;
}

/**
 * The two path-based SDS files (envoy.service.discovery.v3.DiscoveryResponse in YAML): Envoy's
 * TlsCertificate and the CA, each naming the certificate files and watching their folder, so a
 * rotation (files moved into place) is read again without a restart.
 */
export function envoySdsFiles(files: { cert: string; key: string; ca: string }, sds: EnvoySds): { path: string; text: string }[] {
  const secret = (body: JsonObject) => stringify({ resources: [{ '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', ...body }] });
  return [
    { path: sds.certSds, text: secret({ name: ENVOY_CERT_SECRET, tls_certificate: { certificate_chain: { filename: files.cert }, private_key: { filename: files.key }, watched_directory: { path: sds.dir } } }) },
    { path: sds.caSds, text: secret({ name: ENVOY_CA_SECRET, validation_context: { trusted_ca: { filename: files.ca }, watched_directory: { path: sds.dir } } }) },
  ];
}

/** envoy.config.bootstrap.v3.Bootstrap for an Envoy that takes everything from Frontdesk over ADS. */
export function buildBootstrap(o: BootstrapOptions): JsonObject {
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
    static_resources: { clusters: [xdsCluster(o)] },
    overload_manager: overloadManager(o),
    layered_runtime: layeredRuntime(),
  };
}

/**
 * Envoy's runtime: a static layer, then the admin layer Envoy has when a bootstrap names none
 * (so /runtime_modify on the loopback admin still works).
 *
 * Envoy refuses any regex whose RE2 program is over `re2.max_program_size.error_level`
 * instructions, 100 by default. Kong's regex paths (PCRE) have no such limit, and ordinary ones
 * exceed it: `~/orders/<uuid>/items/<uuid>$` with each UUID written as `[0-9a-f]{8}-…` is a
 * 158-instruction regex in the route Envoy gets (test/e2e/regex-program-size.test.ts). So the
 * limit is raised to 2^20, as Contour and Consul raise it, with Envoy's
 * warning (`re2.exceeded_warn_level`) from 5,000: Kong's bot-detection rules are one regex of
 * 2,256 instructions, which would otherwise warn on every route configuration Envoy loads
 * (resources/filters/bot-detection-rules.ts). RE2's own memory bound still refuses a
 * pathological pattern. The regexes the translation writes itself stay within 100 (the
 * one-rewrite pattern's length bound in ir/build.ts), so an Envoy with its own bootstrap and
 * Envoy's default serves them too.
 */
export const RE2_MAX_PROGRAM_SIZE = 2 ** 20;
export const RE2_WARN_PROGRAM_SIZE = 5000;

/**
 * Envoy's runtime for Frontdesk's Envoys. `ext_proc_graceful_grpc_close`: Envoy ends each
 * ext_proc stream to the transform companion by half-closing it and waiting for the companion's
 * status, where by default it resets every finished stream. Node's HTTP/2 server counted those
 * resets as a rapid-reset flood (nghttp2's guard, about 1,000 at once), refused new streams and
 * closed the connection, failing the requests on it (measured: 1-2 % of requests answered 500
 * under load through the companion, none with it on; docs/benchmarks.md, bench/transform). The
 * companion's own HTTP/2 server now takes a reset of an answered stream as its end, so this is
 * the cleaner close (no RST_STREAM per request), no longer the only one that works.
 */
export function layeredRuntime(): JsonObject {
  return {
    layers: [
      {
        name: 'frontdesk',
        static_layer: {
          're2.max_program_size.error_level': RE2_MAX_PROGRAM_SIZE,
          're2.max_program_size.warn_level': RE2_WARN_PROGRAM_SIZE,
          'envoy.reloadable_features.ext_proc_graceful_grpc_close': true,
        },
      },
      { name: 'admin', admin_layer: {} },
    ],
  };
}

const IP = /^(\d{1,3}\.){3}\d{1,3}$/;

/**
 * The cluster Envoy's ADS stream goes to: an endpoint per control-plane address. With replicas,
 * a TCP health check every second takes a replica that went away out of the pick, so the stream
 * Envoy reopens (its own back-off, about a second) goes to one that answers; replicas serve the
 * same versions, so Envoy resumes on it without anything sent again. One address behind a
 * Kubernetes Service name resolves to each pod as an endpoint (STRICT_DNS).
 */
function xdsCluster(o: BootstrapOptions): JsonObject {
  const addresses = xdsList(o.xds);
  const dns = addresses.some((a) => !IP.test(a.host) && !a.host.includes(':'));
  return {
    name: 'frontdesk_xds',
    type: dns ? 'STRICT_DNS' : 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: 'frontdesk_xds',
      endpoints: [{ lb_endpoints: addresses.map((a) => ({ endpoint: { address: { socket_address: { address: a.host, port_value: a.port } } } })) }],
    },
    ...(addresses.length > 1 ? {
      health_checks: [{ timeout: '1s', interval: '1s', no_traffic_interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} }],
    } : {}),
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '5s' } } },
      },
    },
    ...(o.tls ? { transport_socket: upstreamTls(o.tls, { role: 'control-plane' }) } : {}),
  };
}

/** Envoy's heap ceiling when none is given: the overload actions below are fractions of it. */
export const DEFAULT_MAX_HEAP_BYTES = 1024 * 1024 * 1024;

const HEAP = 'envoy.resource_monitors.fixed_heap';
const trigger = (value: number) => [{ name: HEAP, threshold: { value } }];

/**
 * envoy.config.overload.v3.OverloadManager: Envoy protecting itself. Downstream connections are
 * capped (past the cap Envoy closes new connections; the listener counts
 * downstream_global_cx_overflow); as the heap fills Envoy first gives memory back, then stops
 * keeping connections alive, answers new requests 503 (a Kong-style JSON body: flag OM, see
 * resources/listener.ts), stops accepting connections, and at the top resets the streams
 * holding the most memory. Each action shows as overload.<action>.active in Envoy's stats.
 */
function overloadManager(o: BootstrapOptions): JsonObject {
  return {
    refresh_interval: '0.25s',
    // Per-stream memory accounts (streams of 1 MiB or more), which reset_high_memory_stream needs.
    buffer_factory_config: { minimum_account_to_track_power_of_two: 20 },
    resource_monitors: [
      {
        name: HEAP,
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig',
          max_heap_size_bytes: o.maxHeapBytes ?? DEFAULT_MAX_HEAP_BYTES,
        },
      },
      {
        name: 'envoy.resource_monitors.global_downstream_max_connections',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig',
          max_active_downstream_connections: o.maxConnections ?? DEFAULT_MAX_DOWNSTREAM_CONNECTIONS,
        },
      },
    ],
    actions: [
      { name: 'envoy.overload_actions.shrink_heap', triggers: trigger(0.9) },
      { name: 'envoy.overload_actions.disable_http_keepalive', triggers: trigger(0.92) },
      { name: 'envoy.overload_actions.stop_accepting_requests', triggers: trigger(0.95) },
      { name: 'envoy.overload_actions.stop_accepting_connections', triggers: trigger(0.97) },
      {
        name: 'envoy.overload_actions.reset_high_memory_stream',
        triggers: [{ name: HEAP, scaled: { scaling_threshold: 0.95, saturation_threshold: 0.99 } }],
      },
    ],
  };
}

/** The bootstrap as YAML, what `frontdesk bootstrap` prints and Envoy's --config-yaml takes. */
export function bootstrapYaml(o: BootstrapOptions): string {
  return stringify(buildBootstrap(o));
}
