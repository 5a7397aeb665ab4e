/**
 * Kong's plugins that Frontdesk has no definition for (the ones it serves are in PLUGINS,
 * index.ts). A name in neither list is a typo, reported with the closest known name.
 */

/** Kong plugins that load (their config is not checked) and are reported as not applied yet. */
export const KONG_PLUGINS_PENDING: readonly string[] = [
  'bot-detection', 'file-log', 'http-log',
];

/** Kong plugins (OSS and Enterprise) Frontdesk does not serve: loading one is an error naming it. */
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
