import type { PluginDefinition } from '../plugin-schema.js';
import { aclPlugin } from './acl.js';
import { basicAuthPlugin } from './basic-auth.js';
import { jwtPlugin } from './jwt.js';
import { keyAuthPlugin } from './key-auth.js';
import { rateLimiting } from './rate-limiting.js';
import { corsPlugin } from './cors.js';
import { correlationIdPlugin } from './correlation-id.js';
import { ipRestrictionPlugin } from './ip-restriction.js';
import { prometheusPlugin } from './prometheus.js';
import { requestSizeLimitingPlugin } from './request-size-limiting.js';
import { requestTerminationPlugin } from './request-termination.js';
import { requestTransformerPlugin } from './request-transformer.js';
import { responseTransformerPlugin } from './response-transformer.js';

/**
 * The plugin registry. A plugin Frontdesk serves has a definition file beside this one and a
 * line in DEFINITIONS; its config is validated by that definition's schema.
 */
const DEFINITIONS: PluginDefinition[] = [aclPlugin, basicAuthPlugin, jwtPlugin, keyAuthPlugin, rateLimiting,
  corsPlugin, correlationIdPlugin, ipRestrictionPlugin, prometheusPlugin, requestSizeLimitingPlugin, requestTerminationPlugin,
  requestTransformerPlugin, responseTransformerPlugin] as PluginDefinition[];

/**
 * Plugins an Envoy filter or a companion service enforces today. A plugin that loads but is
 * not listed here is reported with a warning (FD_PLUGIN_PENDING), never silently ignored.
 */
export const ENFORCED_PLUGINS: ReadonlySet<string> = new Set<string>([
  'jwt', 'key-auth', 'basic-auth', 'acl', // authz plugins
  'rate-limiting', // ratelimit plugins
  'cors', 'correlation-id', 'ip-restriction', 'prometheus', 'request-size-limiting', 'request-termination', // native plugins
  'request-transformer', 'response-transformer', // native plugins (headers; bodies refused until the transform companion)
]);

/** Plugins named in Frontdesk's plugin table (docs/plugins.md): they all load. */
export const PENDING_PLUGINS: readonly string[] = [
  'acl', 'basic-auth', 'bot-detection', 'correlation-id', 'cors', 'file-log', 'grpc-gateway', 'grpc-web',
  'http-log', 'ip-restriction', 'jwt', 'key-auth', 'prometheus', 'proxy-cache', 'rate-limiting',
  'request-size-limiting', 'request-termination', 'request-transformer', 'response-transformer',
];

/** Kong plugins Frontdesk does not serve: loading one is an error naming it. */
export const KONG_PLUGINS_NOT_SERVED: readonly string[] = [
  'acme', 'ai-proxy', 'ai-prompt-decorator', 'ai-prompt-guard', 'ai-prompt-template', 'ai-request-transformer',
  'ai-response-transformer', 'aws-lambda', 'azure-functions', 'canary', 'datadog', 'degraphql', 'exit-transformer',
  'forward-proxy', 'graphql-proxy-cache-advanced', 'graphql-rate-limiting-advanced', 'grpc-gateway-advanced',
  'hmac-auth', 'jwt-signer', 'ldap-auth', 'ldap-auth-advanced', 'loggly', 'mtls-auth', 'oauth2',
  'oauth2-introspection', 'opa', 'openid-connect', 'opentelemetry', 'post-function', 'pre-function',
  'proxy-cache-advanced', 'rate-limiting-advanced', 'redirect', 'request-validator', 'response-ratelimiting',
  'route-by-header', 'route-transformer-advanced', 'session', 'standard-webhooks', 'statsd', 'syslog',
  'tcp-log', 'udp-log', 'upstream-timeout', 'vault-auth', 'websocket-size-limit', 'websocket-validator',
  'xml-threat-protection', 'zipkin',
];

const byName = new Map(DEFINITIONS.map((d) => [d.name, d]));

/** The definition of a plugin Frontdesk serves, by name. */
export function pluginDefinition(name: string): PluginDefinition | undefined {
  return byName.get(name);
}

/** Every plugin name Frontdesk knows how to load (served or pending). */
export function knownPluginNames(): string[] {
  return [...new Set([...byName.keys(), ...PENDING_PLUGINS])].sort();
}
