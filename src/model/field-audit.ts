import type { z } from 'zod';
import type { FieldAudit } from './plugins/definition.js';
import { PLUGINS } from './plugins/index.js';

export type { FieldAudit, Warned } from './plugins/definition.js';
import {
  aclSchema, basicauthCredentialSchema, caCertificateSchema, certificateSchema, consumerSchema, hmacauthCredentialSchema, jwtSecretSchema, keyauthCredentialSchema,
  listenerSchema, pluginEntrySchema, routeSchema, serviceSchema, targetSchema, topLevelSchema, upstreamSchema,
} from './entities.js';

/**
 * What becomes of every field the schemas accept (dot paths into nested objects; a list or a
 * map is one field): `applied` reaches Envoy or a companion, or is one Kong's proxy ignores too
 * (tags, timestamps, ids used only to refer); `refused` loads only at Kong's default (the loader
 * or the schema says why otherwise); `warned` loads without effect, and the loader warns
 * (FD_FIELD_NOT_APPLIED) when the file asks for anything but what Frontdesk does. A unit test
 * walks the schemas and fails on a field in none of the three, so a field added to a schema
 * must be sorted here. docs/configuration.md says the differences field by field.
 */
const COMMON = ['id', 'tags', 'created_at', 'updated_at'];
/** Credentials and certificates: Kong gives them no updated_at. */
const CREATED = ['id', 'tags', 'created_at'];

const CIRCUIT_BREAKER = ['max_connections', 'max_pending_requests', 'max_requests', 'max_retries', 'retry_budget.percent', 'retry_budget.min_concurrency', 'max_connection_pools'];
const OUTLIER_DETECTION = [
  'consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure', 'interval', 'base_ejection_time', 'max_ejection_time',
  'max_ejection_percent', 'success_rate.minimum_hosts', 'success_rate.request_volume', 'success_rate.stdev_factor', 'success_rate.enforcing',
  'failure_percentage.threshold', 'failure_percentage.minimum_hosts', 'failure_percentage.request_volume', 'failure_percentage.enforcing',
];
const ADAPTIVE_CONCURRENCY = ['max_concurrency_limit', 'concurrency_update_interval', 'sample_percentile', 'min_rtt_interval', 'min_rtt_request_count', 'min_concurrency', 'jitter_percent', 'buffer_percent'];
const under = (prefix: string, fields: readonly string[]) => fields.map((f) => `${prefix}.${f}`);
const circuitExtensions = [...under('circuit_breaker', CIRCUIT_BREAKER), ...under('circuit_breaker.high', CIRCUIT_BREAKER), ...under('outlier_detection', OUTLIER_DETECTION)];

const written = (v: unknown) => v !== undefined;

/** The entities' fields, by schema. */
export const ENTITY_FIELDS: ReadonlyArray<{ entity: string; schema: z.ZodType; audit: FieldAudit }> = [
  { entity: 'top level', schema: topLevelSchema, audit: {
    applied: ['_format_version', '_info', '_workspace', '_konnect', '_comment', '_ignore', 'tags', 'services', 'routes', 'upstreams', 'targets', 'consumers',
      'plugins', 'certificates', 'ca_certificates', 'snis', 'jwt_secrets', 'keyauth_credentials', 'basicauth_credentials', 'hmacauth_credentials', 'acls', 'listeners'],
    warned: { _transform: { default: true, why: 'with _transform: false Kong takes credentials as already transformed (basic-auth passwords hashed); Frontdesk reads them as written' } },
  } },
  { entity: 'services', schema: serviceSchema, audit: {
    applied: ['name', 'url', 'protocol', 'host', 'port', 'path', 'retries', 'connect_timeout', 'read_timeout', 'write_timeout', 'tls_verify', 'tls_verify_depth', 'ca_certificates', 'client_certificate', 'enabled',
      'mesh.identities', 'mesh.alpn', ...COMMON, ...circuitExtensions, ...under('adaptive_concurrency', ADAPTIVE_CONCURRENCY)],
    refused: [],
  } },
  { entity: 'routes', schema: routeSchema, audit: {
    applied: ['name', 'service', 'protocols', 'methods', 'hosts', 'paths', 'headers', 'strip_path', 'preserve_host', 'regex_priority', 'https_redirect_status_code',
      'request_buffering', 'response_buffering', 'path_handling', 'enabled', 'listeners', 'snis', 'sources', 'destinations', ...COMMON],
    refused: [],
  } },
  { entity: 'upstreams', schema: upstreamSchema, audit: {
    applied: ['name', 'algorithm', 'hash_on', 'hash_fallback', 'hash_on_header', 'hash_fallback_header', 'hash_on_cookie', 'hash_on_cookie_path', 'hash_on_query_arg',
      'hash_fallback_query_arg', 'slots', 'host_header', 'mesh.identities', 'mesh.alpn', ...COMMON, ...circuitExtensions,
      ...under('healthchecks.active', ['type', 'http_path', 'https_sni', 'https_verify_certificate', 'timeout', 'headers', 'healthy.interval', 'healthy.successes',
        'healthy.http_statuses', 'unhealthy.interval', 'unhealthy.http_failures', 'unhealthy.tcp_failures', 'unhealthy.timeouts']),
      ...under('healthchecks.passive', ['unhealthy.http_failures', 'unhealthy.tcp_failures', 'unhealthy.timeouts', 'unhealthy.http_statuses'])],
    refused: ['hash_on_uri_capture', 'hash_fallback_uri_capture', 'client_certificate', 'use_srv_name'],
    warned: {
      'healthchecks.threshold': { default: 0, why: 'Envoy has no percentage of healthy targets below which an upstream counts as down; each target is checked on its own' },
      'healthchecks.active.concurrency': { default: 10, why: 'Envoy probes each target on its own timer, with no cap on probes at once' },
      'healthchecks.active.unhealthy.http_statuses': { default: [429, 404, 500, 501, 502, 503, 504, 505], why: 'Envoy counts every status outside healthy.http_statuses as a failed probe' },
      'healthchecks.passive.type': { default: 'http', why: 'passive checks count HTTP responses and connection failures whatever the type' },
      'healthchecks.passive.healthy.successes': { default: 0, why: 'an ejected target comes back after its ejection time, not after a count of successes' },
      'healthchecks.passive.healthy.http_statuses': { default: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], why: 'passive checks count only failures' },
    },
  } },
  { entity: 'targets', schema: targetSchema, audit: { applied: ['target', 'upstream', 'weight', ...COMMON] } },
  { entity: 'consumers', schema: consumerSchema, audit: { applied: ['username', 'custom_id', ...COMMON] } },
  { entity: 'jwt_secrets', schema: jwtSecretSchema, audit: { applied: ['consumer', 'key', 'algorithm', 'secret', 'rsa_public_key', 'jwks.keys', 'jwks_uri', ...CREATED] } },
  { entity: 'keyauth_credentials', schema: keyauthCredentialSchema, audit: { applied: ['consumer', 'key', 'ttl', ...CREATED] } },
  { entity: 'basicauth_credentials', schema: basicauthCredentialSchema, audit: { applied: ['consumer', 'username', 'password', ...CREATED] } },
  { entity: 'hmacauth_credentials', schema: hmacauthCredentialSchema, audit: { applied: ['consumer', 'username', 'secret', ...CREATED] } },
  { entity: 'acls', schema: aclSchema, audit: { applied: ['consumer', 'group', ...CREATED] } },
  { entity: 'plugins', schema: pluginEntrySchema, audit: {
    // protocols: applied where it covers what the plugin's routes take, else warned (checks/plugin-protocols.ts).
    applied: ['name', 'instance_name', 'config', 'enabled', 'protocols', 'service', 'route', 'consumer', ...COMMON],
    refused: ['consumer_group'],
    warned: {
      ordering: { when: written, why: 'plugins run in Kong\'s default order (Kong Enterprise\'s dynamic ordering is not served)' },
    },
  } },
  { entity: 'certificates', schema: certificateSchema, audit: {
    applied: ['cert', 'key', 'cert_file', 'key_file', 'snis', ...CREATED],
    warned: {
      cert_alt: { when: written, why: 'the alternate certificate is not served; only cert and key are' },
      key_alt: { when: written, why: 'the alternate certificate is not served; only cert and key are' },
    },
  } },
  { entity: 'ca_certificates', schema: caCertificateSchema, audit: { applied: ['cert', 'cert_file', 'cert_digest', ...CREATED] } },
  { entity: 'listeners', schema: listenerSchema, audit: { applied: ['name', 'address', 'port', 'protocol', 'http2', 'certificates', 'fleet'] } },
];

/** The served plugins' config fields, by plugin name, from each plugin's definition (its `fields`). */
export const PLUGIN_FIELDS: Readonly<Record<string, FieldAudit>> = Object.fromEntries(PLUGINS.map((d) => [d.name, d.fields]));
