import type { PluginFeatures, PluginName } from '../model/plugins/index.js';
import type { Consumer } from '../model/types.js';

export type { PluginFeatures, PluginName } from '../model/plugins/index.js';

/**
 * The intermediate representation: what the gateway does, with no Envoy types in it. Built
 * from the model by ir/build.ts; turned into Envoy and companion resources by resources/.
 */

export type PathMatch =
  | { kind: 'prefix'; value: string }
  | { kind: 'regex'; value: string };

export interface HeaderMatch {
  name: string;
  /** Any of these values matches; compared case-insensitively, as Kong does. */
  values: string[];
  /** `~*` regex values (case-insensitive, searched anywhere in the value), RE2 syntax. */
  regexes: string[];
}

/** One plugin as it applies to a route: its typed feature (the plugin's definition says which). */
export interface AppliedPlugin<F> {
  feature: F;
  /** Where it was attached: route beats service beats global. */
  scope: 'route' | 'service' | 'global';
}

/** The plugins that apply to a route (or globally), one per name, each with its typed feature. */
export type RoutePlugins = { [N in PluginName]?: AppliedPlugin<PluginFeatures[N]> };

/** The feature of one plugin. */
export type FeatureOf<N extends PluginName> = PluginFeatures[N];

/** One match of one Kong route: a Kong route with three paths becomes three IrRoutes. */
export interface IrRoute {
  /** Unique, stable: `<route name>` or `<route name>#<path index>`. */
  id: string;
  routeName: string;
  /** The Kong route's id (the file's, or the one Kong generates): Kong's router breaks priority ties by it. */
  routeId: string;
  service?: string;
  hosts: string[];
  path?: PathMatch;
  methods?: string[];
  headers: HeaderMatch[];
  /** Kong's route `snis`: the TLS server names the route answers (lower case, sorted); none: any. */
  snis?: string[];
  protocols: string[];
  httpsRedirectStatus: number;
  /** Kong's router priority, larger first; see ir/route-order.ts. */
  priority: bigint;
  action: RouteAction;
  /** Effective plugins by name after merging scopes. */
  plugins: RoutePlugins;
  /** Consumer-scoped plugin overrides: consumer key → plugin name → feature. */
  consumerPlugins: Record<string, RoutePlugins>;
}

export interface RouteAction {
  backend: string;
  /** Upstream path rewrite: a regex over the request path and its substitution. */
  rewrite?: { pattern: string; substitution: string };
  /**
   * The requests Kong's path_handling v0 sends to the service path alone (a strip_path route's
   * path requested whole) where the main rewrite cannot give it (a regex path, or a prefix too
   * long for the one-rewrite pattern): a full-match regex, and the upstream path.
   */
  exactRewrite?: { regex: string; to: string };
  /** The Host header to send: a literal, or the picked endpoint's host (upstreams). */
  hostRewrite?: string;
  autoHostRewrite?: boolean;
  /** The prefix stripped from the path, for X-Forwarded-Prefix. */
  strippedPrefix?: string;
  /** Kong's read_timeout: the longest wait between two reads from the upstream. */
  readTimeoutMs: number;
  /** The longest a stream may sit idle in either direction: max(read_timeout, write_timeout). */
  idleTimeoutMs: number;
  retries: number;
  hashPolicies: HashPolicy[];
}

export type HashPolicy =
  | { kind: 'header'; name: string }
  | { kind: 'cookie'; name: string; path: string }
  | { kind: 'source_ip' }
  | { kind: 'query'; name: string };

export interface Endpoint {
  host: string;
  port: number;
  weight: number;
  /** The Host header Kong sends to this target: host, and :port unless the scheme's default. */
  hostHeader: string;
}

export interface ActiveHealthCheck {
  type: 'http' | 'https' | 'tcp' | 'grpc' | 'grpcs';
  path: string;
  timeoutMs: number;
  intervalMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  expectedStatuses: number[];
  /** Probe interval for unhealthy hosts, when Kong's differs from the healthy one. */
  unhealthyIntervalMs?: number;
  /** Kong's `active.headers`: sent with every HTTP(S) probe, each value as its own header line. */
  headers?: { name: string; value: string }[];
  /** HTTPS and gRPCS probes: the TLS handshake's SNI (`https_sni`) and whether the target's certificate is verified. */
  tls?: { sni?: string; verify: boolean };
}

/**
 * Passive health checking (Envoy's outlier detection): Kong's passive health checks, with the
 * `outlier_detection` extension on top. Only what is set here is enforced.
 */
export interface PassiveHealthCheck {
  consecutive5xx?: number;
  consecutiveGatewayFailure?: number;
  consecutiveLocalOriginFailure?: number;
  intervalMs?: number;
  baseEjectionTimeMs?: number;
  maxEjectionTimeMs?: number;
  maxEjectionPercent?: number;
  successRate?: { minimumHosts?: number; requestVolume?: number; stdevFactor?: number; enforcing: number };
  failurePercentage?: { threshold: number; minimumHosts?: number; requestVolume?: number; enforcing: number };
}

/** One priority's circuit-breaker thresholds; every limit is explicit (no Envoy built-in default applies). */
export interface CircuitThresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  /** Concurrent retries: a budget (share of active requests, with a floor), or a fixed cap. */
  retries: { budgetPercent: number; minConcurrency: number } | { max: number };
  maxConnectionPools?: number;
}

/** Envoy's adaptive concurrency (gradient controller) in front of one backend; every field explicit. */
export interface AdaptiveConcurrency {
  maxConcurrencyLimit: number;
  concurrencyUpdateIntervalMs: number;
  samplePercentile: number;
  minRttIntervalMs: number;
  minRttRequestCount: number;
  minConcurrency: number;
  jitterPercent: number;
  bufferPercent: number;
}

/** One upstream cluster: a Kong service (with its upstream's targets when it names one). */
export interface Backend {
  name: string;
  /** The Kong service's id and host, as Kong's log entry names the service (statsd's service_id and service_host). */
  serviceId: string;
  serviceHost: string;
  /** The Kong upstream whose targets are its endpoints, when the service names one (its host). */
  upstream?: string;
  protocol: 'http' | 'https' | 'grpc' | 'grpcs' | 'ws' | 'wss' | 'tcp' | 'tls' | 'tls_passthrough';
  /** A stream service (tcp, tls, tls_passthrough): bytes, no HTTP. */
  stream?: boolean;
  http2: boolean;
  /** Upstream TLS: the SNI, whether the chain is checked (to `verifyDepth` CAs above the leaf), the CAs trusted, the certificate presented. */
  tls?: {
    sni: string; verify: boolean; verifyDepth?: number; caCerts: string[]; clientCertificate?: string;
    /** The names the upstream's certificate must carry instead of the SNI (mesh identities: URI or DNS SANs). */
    identities?: Array<{ type: 'URI' | 'DNS'; name: string }>;
    /** ALPN offered in the handshake (a mesh's sidecars match on it). */
    alpn?: string[];
    /** The CAs come (at least one) from a watched file: served as this backend's own SDS secret, so a new bundle needs no new cluster. */
    caFromFile?: boolean;
  };
  connectTimeoutMs: number;
  discovery: 'eds' | 'dns';
  endpoints: Endpoint[];
  lb: 'round_robin' | 'least_request' | 'ring_hash';
  ringSize?: number;
  active?: ActiveHealthCheck;
  passive?: PassiveHealthCheck;
  /** Circuit-breaker thresholds by Envoy priority (routes send at `default`). */
  circuitBreaker: { default: CircuitThresholds; high: CircuitThresholds };
  /** Opt-in (extension): a concurrency limit that follows the backend's latency. */
  adaptiveConcurrency?: AdaptiveConcurrency;
}

export interface IrCertificate {
  key: string;
  cert: string;
  keyPem: string;
  snis: string[];
  /** Obtained by the acme plugin's client (ir/acme.ts), not configured. */
  acme?: true;
}

/**
 * A Kong stream route (tcp, tls, tls_passthrough), served on tcp and tls listeners by Envoy's
 * tcp_proxy: matched on the TLS server name, the client's address and port, the listener's
 * address and port.
 */
export interface IrStreamRoute {
  id: string;
  routeName: string;
  routeId: string;
  /** The backend (service name); none: the connection is closed, as Kong does. */
  service?: string;
  protocols: string[];
  snis: string[];
  sources: Array<{ ip?: string; port?: number }>;
  destinations: Array<{ ip?: string; port?: number }>;
  /** How many kinds of criteria it has (snis, sources, destinations): more first. */
  weight: number;
}

export interface IrListener {
  name: string;
  address: string;
  port: number;
  /** tcp and tls: Kong's stream_listen (tls: with `ssl`), serving `streamRoutes` only. */
  protocol: 'http' | 'https' | 'tcp' | 'tls';
  /** Stream routes served here (tcp and tls listeners), most specific first. */
  streamRoutes?: IrStreamRoute[];
  http2: boolean;
  /** Certificates served on this listener (https), by key. */
  certificates: string[];
  /** The Envoy fleet (node cluster) that serves it; undefined = every node. */
  fleet?: string;
  /** Routes served here, highest priority first. */
  routes: IrRoute[];
}

export interface GatewayIR {
  listeners: IrListener[];
  backends: Backend[];
  certificates: IrCertificate[];
  /** Every route once, highest priority first (listeners hold subsets of these). */
  routes: IrRoute[];
  /** Global plugins, for filters that act outside any route. */
  globalPlugins: RoutePlugins;
  /** Consumers with their credentials, for the authz companion. */
  consumers: Consumer[];
  /** The acme plugin's challenge answers (ir/acme.ts applyAcme), when the config has the plugin. */
  acme?: IrAcme;
}

/** What the http listeners answer on `/.well-known/acme-challenge/`: the hosts Kong's acme plugin takes, and the tokens the ACME client is being asked for. */
export interface IrAcme {
  domains: { any: boolean; exact: string[]; suffixes: string[] };
  challenges: { token: string; keyAuthorization: string }[];
}
