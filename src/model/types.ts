import type { YamlPath } from '../errors.js';
import type {
  AclFields, AdaptiveConcurrencyFields, BasicauthCredentialFields, CircuitBreakerFields, Healthchecks, HmacauthCredentialFields, JwtSecretFields,
  KeyauthCredentialFields, OutlierDetectionFields, RouteFields, SERVICE_PROTOCOLS,
} from './entities.js';

/** Where an entity was written: the file and the YAML path inside it. */
export interface Origin {
  file: string;
  path: YamlPath;
}

export type ServiceProtocol = (typeof SERVICE_PROTOCOLS)[number];

/** A Kong service with url split into its parts and Kong's defaults filled in. */
/** The mesh extension of services and upstreams. */
export interface MeshFields {
  identities?: string[];
  alpn?: string[];
}

export interface Service {
  name: string;
  /** The file's id, else the one Kong generates (src/kong-ids.ts). */
  id: string;
  protocol: ServiceProtocol;
  host: string;
  port: number;
  path?: string;
  /** Set when host names an upstream of this file. */
  upstream?: string;
  retries: number;
  connect_timeout: number;
  read_timeout: number;
  write_timeout: number;
  tls_verify?: boolean;
  tls_verify_depth?: number;
  ca_certificates?: string[];
  /** The key of the certificate presented to the upstream (Kong's `client_certificate`). */
  client_certificate?: string;
  /** Frontdesk extension (docs/mesh.md): the upstream's mesh identity and ALPN. */
  mesh?: MeshFields;
  /** Frontdesk extensions (docs/circuit-breaking.md). */
  circuit_breaker?: CircuitBreakerFields;
  outlier_detection?: OutlierDetectionFields;
  adaptive_concurrency?: AdaptiveConcurrencyFields;
  tags: string[];
  origin: Origin;
}

/** A Kong route, its service resolved to a name, 2.x paths already converted. */
export interface Route extends Omit<RouteFields, 'id' | 'service' | 'enabled' | 'created_at' | 'updated_at'> {
  name: string;
  /** The file's id, else the one Kong generates (src/kong-ids.ts): Kong's router breaks priority ties by it. */
  id: string;
  service?: string;
  origin: Origin;
}

export interface Target {
  id: string;
  target: string;
  host: string;
  port: number;
  weight: number;
  origin: Origin;
}

export interface Upstream {
  name: string;
  id: string;
  algorithm: 'round-robin' | 'least-connections' | 'consistent-hashing' | 'latency';
  hash_on: string;
  hash_fallback: string;
  hash_on_header?: string;
  hash_fallback_header?: string;
  hash_on_cookie?: string;
  hash_on_cookie_path: string;
  hash_on_query_arg?: string;
  hash_fallback_query_arg?: string;
  hash_on_uri_capture?: string;
  hash_fallback_uri_capture?: string;
  slots: number;
  host_header?: string;
  healthchecks: Healthchecks;
  /** Frontdesk extensions (docs/circuit-breaking.md); a service's own win field by field. */
  circuit_breaker?: CircuitBreakerFields;
  outlier_detection?: OutlierDetectionFields;
  /** Frontdesk extension (docs/mesh.md): the targets' mesh identity and ALPN; a service's own win field by field. */
  mesh?: MeshFields;
  targets: Target[];
  origin: Origin;
}

type Cred<T> = Omit<T, 'consumer' | 'created_at' | 'tags'> & { origin: Origin };

export interface Consumer {
  /** id when given, else username, else custom_id: what credentials refer to. */
  key: string;
  /** The file's id, else the one Kong generates from the username (a consumer with only custom_id: from where it is written). */
  id: string;
  username?: string;
  custom_id?: string;
  jwt_secrets: Cred<JwtSecretFields>[];
  keyauth_credentials: Cred<KeyauthCredentialFields>[];
  basicauth_credentials: Cred<BasicauthCredentialFields>[];
  hmacauth_credentials: Cred<HmacauthCredentialFields>[];
  acls: Cred<AclFields>[];
  tags: string[];
  origin: Origin;
}

export interface Plugin {
  name: string;
  id?: string;
  instance_name?: string;
  /** The config after its plugin schema ran (defaults applied); raw when the plugin is pending. */
  config: unknown;
  protocols: string[];
  scope: { service?: string; route?: string; consumer?: string };
  origin: Origin;
}

export interface Certificate {
  /** id when given, else the first SNI. */
  key: string;
  /** The PEMs; those given by file are empty until the control plane reads the files (runtime/certificate-files.ts). */
  cert: string;
  key_pem: string;
  /** Frontdesk extension: the files the PEMs come from, as written (relative to origin.file). */
  files?: { cert?: string; key?: string };
  snis: string[];
  origin: Origin;
}

export interface CaCertificate {
  key: string;
  /** The PEM; empty until the control plane reads `file`. */
  cert: string;
  /** Frontdesk extension: the file the PEM comes from, as written (relative to origin.file). */
  file?: string;
  origin: Origin;
}

/** Frontdesk extension: a proxy listener, and the Envoy fleet (node cluster) that serves it. */
export interface Listener {
  name: string;
  address: string;
  port: number;
  /** tcp and tls are Kong's stream_listen entries (tls: its `ssl` flag), serving stream routes only. */
  protocol: 'http' | 'https' | 'tcp' | 'tls';
  http2: boolean;
  certificates?: string[];
  fleet?: string;
  origin: Origin;
}

/** The whole validated configuration; every list is sorted by name for deterministic output. */
export interface GatewayModel {
  services: Service[];
  routes: Route[];
  upstreams: Upstream[];
  consumers: Consumer[];
  plugins: Plugin[];
  certificates: Certificate[];
  caCertificates: CaCertificate[];
  listeners: Listener[];
}
