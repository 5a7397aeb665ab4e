import { z } from 'zod';
import { sniProblem } from './hostnames.js';

/**
 * Zod schemas of the Kong 3.0 entities Frontdesk reads, with Kong's defaults. Every object is
 * strict: an unknown key is an error. Nested children (routes in services, plugins anywhere,
 * credentials in consumers, targets in upstreams) are taken out by the loader's flatten step
 * (load/flatten.ts) before these schemas run, so each schema sees one entity's own fields.
 */

const tags = z.array(z.string()).default([]);
const id = z.string().min(1).optional();
const timestamp = z.number().optional(); // created_at / updated_at in deck dumps
const ref = z.union([z.string().min(1), z.object({ id: z.string().optional(), name: z.string().optional() }).strict()]);
const ms = (def: number) => z.number().int().min(1).max(2147483646).default(def);

export const SERVICE_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'] as const;
export const ROUTE_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'] as const;
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

/** A count threshold (Envoy's uint32 fields). */
const count = z.number().int().min(0).max(4294967295);
/** Seconds, as Kong writes health-check intervals; fractions allowed, at least a millisecond. */
const seconds = z.number().min(0.001).max(315576000000);
const percent = z.number().min(0).max(100);

/** Frontdesk extension: one priority's circuit-breaker thresholds (Envoy's CircuitBreakers.Thresholds). */
const thresholdsSchema = z.object({
  max_connections: count.optional(),
  max_pending_requests: count.optional(),
  max_requests: count.optional(),
  max_retries: count.optional(),
  retry_budget: z.object({
    percent,
    min_concurrency: count.optional(),
  }).strict().optional(),
  max_connection_pools: count.optional(),
}).strict();

const oneRetryCap = (t: { max_retries?: number; retry_budget?: unknown }, ctx: z.RefinementCtx, at: (string | number)[]) => {
  if (t.max_retries !== undefined && t.retry_budget !== undefined) {
    ctx.addIssue({ code: 'custom', path: [...at, 'retry_budget'], message: 'set max_retries or retry_budget, not both (Envoy ignores max_retries when a budget is set)' });
  }
};

/**
 * Frontdesk extension: circuit breaking per service cluster. The fields at the top are the
 * thresholds of Envoy's DEFAULT priority (every route's traffic); `high` holds those of the
 * HIGH priority. An unset field takes Frontdesk's gateway default (docs/circuit-breaking.md),
 * never Envoy's built-in 1,024.
 */
export const circuitBreakerSchema = thresholdsSchema.extend({ high: thresholdsSchema.optional() }).strict().superRefine((v, ctx) => {
  oneRetryCap(v, ctx, []);
  if (v.high) oneRetryCap(v.high, ctx, ['high']);
});

/** Frontdesk extension: Envoy's outlier detection, beyond what Kong's passive health checks say. */
export const outlierDetectionSchema = z.object({
  consecutive_5xx: z.number().int().min(1).max(4294967295).optional(),
  consecutive_gateway_failure: z.number().int().min(1).max(4294967295).optional(),
  consecutive_local_origin_failure: z.number().int().min(1).max(4294967295).optional(),
  interval: seconds.optional(),
  base_ejection_time: seconds.optional(),
  max_ejection_time: seconds.optional(),
  max_ejection_percent: z.number().int().min(0).max(100).optional(),
  success_rate: z.object({
    minimum_hosts: count.optional(),
    request_volume: count.optional(),
    stdev_factor: z.number().int().min(0).max(4294967295).optional(),
    enforcing: z.number().int().min(0).max(100).optional(),
  }).strict().optional(),
  failure_percentage: z.object({
    threshold: z.number().int().min(0).max(100),
    minimum_hosts: count.optional(),
    request_volume: count.optional(),
    enforcing: z.number().int().min(0).max(100).optional(),
  }).strict().optional(),
}).strict();

/** Frontdesk extension: Envoy's adaptive_concurrency filter (gradient controller) for one service. */
export const adaptiveConcurrencySchema = z.object({
  max_concurrency_limit: z.number().int().min(1).max(4294967295).optional(),
  concurrency_update_interval: seconds.optional(),
  sample_percentile: percent.optional(),
  min_rtt_interval: seconds.optional(),
  min_rtt_request_count: z.number().int().min(1).max(4294967295).optional(),
  min_concurrency: z.number().int().min(1).max(4294967295).optional(),
  jitter_percent: percent.optional(),
  buffer_percent: percent.optional(),
}).strict();

/**
 * Frontdesk extension: the mesh identity the upstream must prove in its certificate, and the
 * ALPN the mesh's sidecars expect. An identity that starts with `spiffe://` is a URI SAN (Istio,
 * SPIRE); any other is a DNS SAN (Linkerd's `<sa>.<ns>.serviceaccount.identity.linkerd...`).
 * Checked instead of the Host name tls_verify checks otherwise; needs tls_verify: true.
 */
export const meshSchema = z.object({
  identities: z.array(z.string().min(1).superRefine((v, ctx) => {
    if (v.startsWith('spiffe://') ? !/^spiffe:\/\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._~%!$&'()*+,;=:@-]+)*$/.test(v) : !/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: v.startsWith('spiffe://') ? 'is not a SPIFFE ID (spiffe://<trust domain>/<path>)' : 'is not a DNS name (a SPIFFE ID starts with spiffe://)' });
    }
  })).min(1).optional(),
  alpn: z.array(z.string().min(1).max(255)).min(1).optional(),
}).strict();

/** The resilience extensions a service (and, but for adaptive_concurrency, an upstream) may carry. */
const resilience = {
  circuit_breaker: circuitBreakerSchema.optional(),
  outlier_detection: outlierDetectionSchema.optional(),
};

export const serviceSchema = z.object({
  name: z.string().regex(/^[\w.~-]+$/, 'names may hold letters, digits and . _ ~ -').optional(),
  id,
  url: z.string().optional(),
  protocol: z.enum(SERVICE_PROTOCOLS).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  path: z.string().startsWith('/', 'a service path starts with "/"').optional(),
  retries: z.number().int().min(0).max(32767).default(5),
  connect_timeout: ms(60000),
  read_timeout: ms(60000),
  write_timeout: ms(60000),
  tls_verify: z.boolean().optional(),
  tls_verify_depth: z.number().int().min(0).max(64).optional(),
  ca_certificates: z.array(z.string()).optional(),
  client_certificate: ref.optional(),
  enabled: z.boolean().default(true),
  mesh: meshSchema.optional(), // extension
  ...resilience, // extension
  adaptive_concurrency: adaptiveConcurrencySchema.optional(), // extension
  tags,
  created_at: timestamp,
  updated_at: timestamp,
}).strict();

const headerValues = z.union([z.array(z.string()).min(1), z.string().transform((s) => [s])]);

/** A string refined by one of Kong's validators (its error text becomes the issue's message). */
const kongCheck = (problem: (v: string) => string | undefined) => (v: string, ctx: z.RefinementCtx) => {
  const p = problem(v);
  if (p !== undefined) ctx.addIssue({ code: 'custom', message: p });
};

/** Kong's stream route `sources` / `destinations` entry: an IP (or CIDR) and/or a port. */
const streamEndpoint = z.object({
  ip: z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'must be an IP address or CIDR range').optional(),
  port: z.number().int().min(1).max(65535).optional(),
}).strict().refine((e) => e.ip !== undefined || e.port !== undefined, { message: 'at least one of these fields must be non-empty: ip, port' });

export const routeSchema = z.object({
  name: z.string().regex(/^[\w.~-]+$/, 'names may hold letters, digits and . _ ~ -').optional(),
  id,
  service: ref.optional(),
  protocols: z.array(z.enum(ROUTE_PROTOCOLS)).min(1).default(['http', 'https']),
  methods: z.array(z.string().regex(/^[A-Z]+$/, 'methods are upper-case, e.g. GET')).optional(),
  hosts: z.array(z.string().min(1)).optional(),
  paths: z.array(z.string().min(1)).optional(),
  headers: z.record(z.string(), headerValues).optional(),
  snis: z.array(z.string()).optional(),
  sources: z.array(streamEndpoint).optional(),
  destinations: z.array(streamEndpoint).optional(),
  strip_path: z.boolean().default(true),
  preserve_host: z.boolean().default(false),
  regex_priority: z.number().int().default(0),
  path_handling: z.enum(['v0', 'v1']).default('v0'),
  https_redirect_status_code: z.literal([426, 301, 302, 307, 308]).default(426),
  request_buffering: z.boolean().default(true),
  response_buffering: z.boolean().default(true),
  enabled: z.boolean().default(true),
  listeners: z.array(z.string()).optional(), // extension: the listeners this route is served on
  tags,
  created_at: timestamp,
  updated_at: timestamp,
}).strict();

const statuses = (def: number[]) => z.array(z.number().int().min(100).max(999)).default(def);

const activeHealthy = z.object({
  interval: z.number().min(0).max(65535).default(0),
  successes: z.number().int().min(0).max(255).default(0),
  http_statuses: statuses([200, 302]),
}).strict().prefault({});
const activeUnhealthy = z.object({
  interval: z.number().min(0).max(65535).default(0),
  http_failures: z.number().int().min(0).max(255).default(0),
  tcp_failures: z.number().int().min(0).max(255).default(0),
  timeouts: z.number().int().min(0).max(255).default(0),
  http_statuses: statuses([429, 404, 500, 501, 502, 503, 504, 505]),
}).strict().prefault({});
const passiveHealthy = z.object({
  successes: z.number().int().min(0).max(255).default(0),
  http_statuses: statuses([200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308]),
}).strict().prefault({});
const passiveUnhealthy = z.object({
  http_failures: z.number().int().min(0).max(255).default(0),
  tcp_failures: z.number().int().min(0).max(255).default(0),
  timeouts: z.number().int().min(0).max(255).default(0),
  http_statuses: statuses([429, 500, 503]),
}).strict().prefault({});

export const healthchecksSchema = z.object({
  active: z.object({
    type: z.enum(['http', 'https', 'tcp', 'grpc', 'grpcs']).default('http'),
    http_path: z.string().startsWith('/').default('/'),
    https_sni: z.string().optional(),
    https_verify_certificate: z.boolean().default(true),
    timeout: z.number().min(0).max(65535).default(1),
    concurrency: z.number().int().min(1).max(2147483648).default(10),
    headers: z.record(z.string(), z.array(z.string())).optional(),
    healthy: activeHealthy,
    unhealthy: activeUnhealthy,
  }).strict().prefault({}),
  passive: z.object({
    type: z.enum(['http', 'https', 'tcp', 'grpc', 'grpcs']).default('http'),
    healthy: passiveHealthy,
    unhealthy: passiveUnhealthy,
  }).strict().prefault({}),
  threshold: z.number().min(0).max(100).default(0),
}).strict().prefault({});

const HASH_ON = ['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture'] as const;

export const upstreamSchema = z.object({
  name: z.string().min(1),
  id,
  algorithm: z.enum(['round-robin', 'least-connections', 'consistent-hashing', 'latency']).default('round-robin'),
  hash_on: z.enum(HASH_ON).default('none'),
  hash_fallback: z.enum(HASH_ON).default('none'),
  hash_on_header: z.string().optional(),
  hash_fallback_header: z.string().optional(),
  hash_on_cookie: z.string().optional(),
  hash_on_cookie_path: z.string().default('/'),
  hash_on_query_arg: z.string().optional(),
  hash_fallback_query_arg: z.string().optional(),
  hash_on_uri_capture: z.string().optional(),
  hash_fallback_uri_capture: z.string().optional(),
  slots: z.number().int().min(10).max(65536).default(10000),
  host_header: z.string().optional(),
  client_certificate: ref.optional(),
  use_srv_name: z.boolean().default(false),
  healthchecks: healthchecksSchema,
  mesh: meshSchema.optional(), // extension
  ...resilience, // extension
  tags,
  created_at: timestamp,
  updated_at: timestamp,
}).strict();

export const targetSchema = z.object({
  target: z.string().min(1),
  id,
  upstream: ref.optional(),
  weight: z.number().int().min(0).max(65535).default(100),
  tags,
  created_at: timestamp,
  updated_at: timestamp,
}).strict();

export const consumerSchema = z.object({
  username: z.string().min(1).optional(),
  custom_id: z.string().min(1).optional(),
  id,
  tags,
  created_at: timestamp,
  updated_at: timestamp,
}).strict();

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;

export const jwtSecretSchema = z.object({
  id,
  consumer: ref.optional(),
  key: z.string().min(1).optional(),
  algorithm: z.enum(JWT_ALGORITHMS).default('HS256'),
  secret: z.string().min(1).optional(),
  // A private key parses as a public one (its public half is derived), so it would be accepted
  // silently: refused, as the gateway's file must never hold a private signing key.
  rsa_public_key: z.string().min(1).refine((k) => !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), {
    message: 'rsa_public_key holds a private key: paste the public key instead (openssl pkey -in key.pem -pubout), and keep the private key out of the gateway\'s config',
  }).optional(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).strict().optional(), // extension
  jwks_uri: z.url({ protocol: /^https?$/ }).optional(), // extension
  tags,
  created_at: timestamp,
}).strict();

export const keyauthCredentialSchema = z.object({
  id,
  consumer: ref.optional(),
  key: z.string().min(1),
  ttl: z.number().int().min(0).max(100000000).optional(),
  tags,
  created_at: timestamp,
}).strict();

export const basicauthCredentialSchema = z.object({
  id,
  consumer: ref.optional(),
  username: z.string().min(1),
  password: z.string().min(1),
  tags,
  created_at: timestamp,
}).strict();

/**
 * Kong's hmacauth_credential. Kong generates a secret when none is given; a declarative file's
 * generated secret would change on every load and no client could sign with it, so one without
 * is refused once loaded (FD_AUTHZ_HMAC_NO_SECRET; decK's dump of a Kong gateway carries the
 * generated one).
 */
export const hmacauthCredentialSchema = z.object({
  id,
  consumer: ref.optional(),
  username: z.string().min(1),
  secret: z.string().min(1).optional(),
  tags,
  created_at: timestamp,
}).strict();

export const aclSchema = z.object({
  id,
  consumer: ref.optional(),
  group: z.string().min(1),
  tags,
  created_at: timestamp,
}).strict();

export const pluginEntrySchema = z.object({
  name: z.string().min(1),
  id,
  instance_name: z.string().optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  enabled: z.boolean().default(true),
  protocols: z.array(z.enum(ROUTE_PROTOCOLS)).default(['grpc', 'grpcs', 'http', 'https']),
  service: ref.optional(),
  route: ref.optional(),
  consumer: ref.optional(),
  consumer_group: ref.optional(),
  ordering: z.unknown().optional(),
  tags,
  created_at: timestamp,
  updated_at: timestamp,
}).strict();

/** Frontdesk extension: a PEM file, read (and watched) by the control plane; relative to the YAML file that names it. */
const pemFile = z.string().min(1);

/** Exactly one of the inline field and its `_file` extension. */
const oneOf = (inline: string, file: string) => (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
  if (v[inline] !== undefined && v[file] !== undefined) ctx.addIssue({ code: 'custom', path: [file], message: `set ${inline} or ${file}, not both` });
  if (v[inline] === undefined && v[file] === undefined) ctx.addIssue({ code: 'custom', path: [inline], message: `${inline} is required (or ${file}, a file the control plane reads and watches)` });
};

export const certificateSchema = z.object({
  id,
  cert: z.string().includes('BEGIN CERTIFICATE', { message: 'cert must be a PEM certificate' }).optional(),
  key: z.string().includes('PRIVATE KEY', { message: 'key must be a PEM private key' }).optional(),
  cert_file: pemFile.optional(), // extension
  key_file: pemFile.optional(), // extension
  cert_alt: z.string().optional(),
  key_alt: z.string().optional(),
  snis: z.array(z.union([z.string().superRefine(kongCheck(sniProblem)), z.object({ name: z.string().superRefine(kongCheck(sniProblem)), id, tags, created_at: timestamp, _comment: z.string().optional(), _ignore: z.array(z.unknown()).optional() }).strict()])).default([]),
  tags,
  created_at: timestamp,
}).strict().superRefine(oneOf('cert', 'cert_file')).superRefine(oneOf('key', 'key_file'));

export const caCertificateSchema = z.object({
  id,
  cert: z.string().includes('BEGIN CERTIFICATE', { message: 'cert must be a PEM certificate' }).optional(),
  cert_file: pemFile.optional(), // extension
  cert_digest: z.string().optional(),
  tags,
  created_at: timestamp,
}).strict().superRefine(oneOf('cert', 'cert_file'));

/** Frontdesk extension: where the proxy listens, and which Envoy fleet serves it. */
export const listenerSchema = z.object({
  name: z.string().regex(/^[\w.~-]+$/),
  address: z.string().default('0.0.0.0'),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['http', 'https', 'tcp', 'tls']).default('http'),
  http2: z.boolean().default(true),
  certificates: z.array(z.string()).optional(),
  fleet: z.string().min(1).optional(),
}).strict();

export const topLevelSchema = z.object({
  _format_version: z.string(),
  _transform: z.boolean().default(true),
  _info: z.record(z.string(), z.unknown()).optional(),
  _workspace: z.string().optional(),
  _konnect: z.unknown().optional(),
  _comment: z.string().optional(),
  _ignore: z.array(z.unknown()).optional(),
  services: z.array(z.unknown()).default([]),
  routes: z.array(z.unknown()).default([]),
  upstreams: z.array(z.unknown()).default([]),
  targets: z.array(z.unknown()).default([]),
  consumers: z.array(z.unknown()).default([]),
  plugins: z.array(z.unknown()).default([]),
  certificates: z.array(z.unknown()).default([]),
  ca_certificates: z.array(z.unknown()).default([]),
  snis: z.array(z.unknown()).default([]),
  jwt_secrets: z.array(z.unknown()).default([]),
  keyauth_credentials: z.array(z.unknown()).default([]),
  basicauth_credentials: z.array(z.unknown()).default([]),
  hmacauth_credentials: z.array(z.unknown()).default([]),
  acls: z.array(z.unknown()).default([]),
  listeners: z.array(z.unknown()).default([]),
  tags: z.array(z.string()).optional(),
}).strict();

export type ServiceFields = z.infer<typeof serviceSchema>;
export type RouteFields = z.infer<typeof routeSchema>;
export type UpstreamFields = z.infer<typeof upstreamSchema>;
export type TargetFields = z.infer<typeof targetSchema>;
export type ConsumerFields = z.infer<typeof consumerSchema>;
export type JwtSecretFields = z.infer<typeof jwtSecretSchema>;
export type KeyauthCredentialFields = z.infer<typeof keyauthCredentialSchema>;
export type BasicauthCredentialFields = z.infer<typeof basicauthCredentialSchema>;
export type HmacauthCredentialFields = z.infer<typeof hmacauthCredentialSchema>;
export type AclFields = z.infer<typeof aclSchema>;
export type PluginEntryFields = z.infer<typeof pluginEntrySchema>;
export type CertificateFields = z.infer<typeof certificateSchema>;
export type CaCertificateFields = z.infer<typeof caCertificateSchema>;
export type ListenerFields = z.infer<typeof listenerSchema>;
export type Healthchecks = z.infer<typeof healthchecksSchema>;
export type CircuitBreakerFields = z.infer<typeof circuitBreakerSchema>;
export type OutlierDetectionFields = z.infer<typeof outlierDetectionSchema>;
export type AdaptiveConcurrencyFields = z.infer<typeof adaptiveConcurrencySchema>;
