/**
 * Kong's plugins that Frontdesk has no definition for (the ones it serves are in PLUGINS,
 * index.ts). A name in neither list is a typo, reported with the closest known name.
 */

/** Kong plugins that load (their config is not checked) and are reported as not applied yet. */
export const KONG_PLUGINS_PENDING: readonly string[] = [];

/** Kong plugins (OSS and Enterprise, Kong 3.x) Frontdesk does not serve: loading one is an error naming it. */
export const KONG_PLUGINS_NOT_SERVED: readonly string[] = [
  'ai-azure-content-safety', 'ai-prompt-compressor', 'ai-prompt-decorator', 'ai-prompt-guard', 'ai-prompt-template',
  'ai-proxy', 'ai-proxy-advanced', 'ai-rag-injector', 'ai-rate-limiting-advanced', 'ai-request-transformer',
  'ai-response-transformer', 'ai-semantic-cache', 'ai-semantic-prompt-guard', 'app-dynamics', 'application-registration',
  'aws-lambda', 'azure-functions', 'canary', 'confluent', 'datakit', 'degraphql', 'exit-transformer',
  'forward-proxy', 'graphql-proxy-cache-advanced', 'graphql-rate-limiting-advanced', 'grpc-gateway-advanced',
  'header-cert-auth', 'injection-protection', 'jq', 'json-threat-protection', 'jwe-decrypt', 'jwt-signer',
  'kafka-consume', 'kafka-log', 'kafka-upstream', 'key-auth-enc', 'ldap-auth-advanced', 'mocking',
  'mtls-auth', 'oas-validation', 'oauth2', 'oauth2-introspection', 'opa', 'openid-connect',
  'proxy-cache-advanced', 'rate-limiting-advanced', 'request-callout',
  'request-transformer-advanced', 'request-validator', 'response-transformer-advanced',
  'route-by-header', 'route-transformer-advanced', 'saml', 'service-protection',
  'statsd-advanced', 'tls-handshake-modifier', 'tls-metadata-headers',
  'upstream-oauth', 'upstream-timeout', 'vault-auth', 'websocket-size-limit', 'websocket-validator',
  'xml-threat-protection',
];

/** Why some of those are not served, and what to use instead (the hint of the error). */
export const KONG_PLUGIN_NOTES: Readonly<Record<string, string>> = {
  'openid-connect': 'no OpenID Connect flows; verify your identity provider\'s tokens with jwt (jwks_uri on the jwt_secret, an extension)',
  oauth2: 'Frontdesk is no OAuth 2.0 authorization server; verify the tokens your authorization server issues with jwt',
};
