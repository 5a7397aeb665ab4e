import { corsActualHeadersFilter, corsFilter, corsHeadersFilter, corsOriginFilter } from './cors.js';
import { correlationCounterFilter, correlationIdFilter } from './correlation-id.js';
import { extAuthzFilter, identityStripFilter } from './ext-authz.js';
import { grpcGatewayFilter, grpcGatewayOptionsFilter } from './grpc-gateway.js';
import { grpcWebFilter, grpcWebOptionsFilter } from './grpc-web.js';
import { fileLogFilter } from './file-log.js';
import { httpLogFilter } from './http-log.js';
import { prometheusFilter } from './prometheus.js';
import { datadogFilter, logglyFilter, statsdFilter, syslogFilter, tcpLogFilter, udpLogFilter } from './stream-logs.js';
import { botDetectionFilter } from './bot-detection.js';
import { ipRestrictionFilter } from './ip-restriction.js';
import { redirectFilter, redirectResponder } from './redirect.js';
import { untypedReplyFilter } from './untyped-reply.js';
import { kongRepliesFilter } from './kong-replies.js';
import { localRateLimitFilter } from './local-ratelimit.js';
import { nativeAcceptConsumerFilter, nativeApiKeyFilter, nativeBasicAuthFilter, nativeBasicFilter, nativeConsumerMetadata, nativeDecideFilter, nativeJwtAuthnFilter, nativeTokenFilter } from './native-auth.js';
import { proxyCacheFilter } from './proxy-cache.js';
import { RATELIMIT_FILTERS } from './ratelimit.js';
import { adaptiveConcurrencyFilters } from './adaptive-concurrency.js';
import type { ChainEntry, HttpFilter } from './registry.js';
import { requestSizeBufferFilter, requestSizeGateFilter } from './request-size-limiting.js';
import { requestTerminationFilter, terminationResponder } from './request-termination.js';
import { requestTransformerFilter } from './request-transformer.js';
import { responseTransformerFilter } from './response-transformer.js';
import { routerFilter } from './router.js';
import { postFunctionRequestFilter, postFunctionResponseFilter, preFunctionRequestFilter, preFunctionResponseFilter } from './serverless.js';
import { tracingFilter } from './tracing.js';
import { transformFilter } from './transform.js';

/**
 * The filter-order table: every HTTP filter Frontdesk can put in a chain, in the order Envoy
 * runs them on a request (responses pass them in reverse). This table alone decides the order;
 * a filter is in a listener's chain only when one of its routes needs it. The order is Kong's
 * plugin priority (higher runs first: pre-function 1000000 and post-function -1000, each as a
 * request filter and a response filter at the mirrored place, correlation-id 100001, bot-detection 2500, cors 2000, the auth plugins jwt
 * 1450, key-auth 1250, basic-auth 1100 and acl 950 (in Envoy, or in one ext_authz call), rate-limiting 910,
 * the transformers 801/800, redirect 779, proxy-cache 100, grpc-web 3, request-termination 2) with two
 * exceptions. ip-restriction (990) and request-size-limiting (951) are checked by Envoy before
 * it asks authz, so a request refused by both gets their answer where Kong would give the auth
 * plugin's. grpc-gateway (998) runs after every filter that can refuse and after proxy-cache:
 * Kong answers a REST client's refusals in JSON (that client's request is not gRPC), while a
 * filter after Envoy's transcoder sees a gRPC request; and a cache before the transcoder stores
 * the JSON answer and serves it without transcoding it twice.
 */
const CHAIN: readonly ChainEntry[] = [
  fileLogFilter, // set_filter_state: the client's path kept for the log entry, before anything rewrites it
  postFunctionResponseFilter, // lua: post-function's header_filter, last on the response (Kong's post-function, -1000)
  preFunctionRequestFilter, // lua: pre-function's rewrite and access, first on the request (Kong's pre-function, 1000000)
  correlationIdFilter, // header_mutation: the request's id, echoed on the response
  correlationCounterFilter, // lua: Kong's "uuid#counter" ids (a per-worker UUID and counter)
  botDetectionFilter, // rbac on the User-Agent (Kong's bot-detection, 2500)
  corsOriginFilter, // header_to_metadata: the request's Origin normalised, for the answer's Access-Control-Allow-Origin
  corsHeadersFilter, // header_mutation: completes Envoy's CORS headers as Kong writes them (runs after cors on responses)
  corsFilter, // envoy.filters.http.cors: preflights answered, headers on actual responses
  corsActualHeadersFilter, // header_mutation: Kong's credentials and exposed headers on every response but a preflight answer
  ipRestrictionFilter, // rbac on the client address
  requestSizeBufferFilter, // composite + buffer: measures a body that has no Content-Length
  requestSizeGateFilter, // rbac on Content-Length
  identityStripFilter, // header_mutation: the client's own X-Consumer-* headers removed
  nativeTokenFilter, // lua: Kong's jwt token and key-auth key lookup, on the routes Envoy checks itself (native-auth.ts)
  nativeJwtAuthnFilter, // jwt_authn: jwt signatures, one provider per credential picked by iss
  nativeApiKeyFilter, // api_key_auth: key-auth keys
  nativeBasicFilter, // lua: Kong's basic-auth credential lookup (Proxy-Authorization, then Authorization)
  nativeBasicAuthFilter, // basic_auth: basic-auth passwords (htpasswd {SHA}, sensitive)
  nativeAcceptConsumerFilter, // composite + header_mutation: a verified credential's consumer headers, without Lua (native-accept.ts)
  nativeDecideFilter, // lua: Kong's jwt answers, anonymous, acl and the consumer headers (skipped once the consumer is set)
  nativeConsumerMetadata, // header_to_metadata: the consumer in the dynamic metadata the rate limits and logs read
  extAuthzFilter, // ext_authz: jwt, key-auth, basic-auth, acl on the other routes (the authz companion)
  localRateLimitFilter, // envoy.filters.http.local_ratelimit: rate-limiting policy local, where Envoy's bucket gives Kong's answer
  ...RATELIMIT_FILTERS, // envoy.filters.http.ratelimit, one per stage (the ratelimit companion)
  requestTransformerFilter, // header_mutation: the request-transformer's headers
  responseTransformerFilter, // header_mutation: the response-transformer's headers
  transformFilter, // ext_proc: bodies, query string, method (the transform companion)
  redirectFilter, // no filter: the route's direct_response with Kong's Location (Kong's redirect, 779)
  redirectResponder, // lua: the same answer where the ratelimit companion's limits must count first
  proxyCacheFilter, // lua: Kong's proxy-cache, hits served here (Kong's proxy-cache, 100)
  grpcGatewayOptionsFilter, // rbac on OPTIONS: grpc-gateway answers them itself (Kong's grpc-gateway, 998: see above)
  grpcGatewayFilter, // grpc_json_transcoder: REST/JSON to gRPC (Kong's grpc-gateway, 998: see above)
  grpcWebOptionsFilter, // rbac on OPTIONS: grpc-web answers them itself (Kong's grpc-web, 3)
  grpcWebFilter, // composite running envoy.filters.http.grpc_web: gRPC-Web to gRPC and back (Kong's grpc-web, 3)
  requestTerminationFilter, // rbac on x-consumer-id: consumer-scoped request-termination
  terminationResponder, // lua: a route's request-termination where the ratelimit companion's limits must count first
  adaptiveConcurrencyFilters, // adaptive_concurrency, one per service that asks for it (its latency is the backend's)
  postFunctionRequestFilter, // lua: post-function's rewrite and access, last on the request
  preFunctionResponseFilter, // lua: pre-function's header_filter, first on the response
  untypedReplyFilter, // header_mutation: Envoy's text/plain off the answers Kong sends without a Content-Type (first on the answer)
  routerFilter, // envoy.filters.http.router, always last
];

/**
 * Plugins that are settings of the HTTP connection manager rather than filters of the chain
 * (access loggers, the tracer): their entries add no filter, only their hooks' settings and
 * route patches; their order here does not matter.
 */
const CONNECTION_MANAGER_SETTINGS: readonly HttpFilter[] = [
  tracingFilter, // tracing: envoy.tracers.opentelemetry or envoy.tracers.zipkin, sampled per route
  httpLogFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (http-log)
  prometheusFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (prometheus: Kong's metrics)
  tcpLogFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (tcp-log; its companions hook serves udp-log's and syslog's sinks too)
  udpLogFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (udp-log)
  syslogFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (syslog)
  logglyFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (loggly)
  statsdFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (statsd)
  datadogFilter, // access_log: envoy.access_loggers.http_grpc to the log companion (datadog)
];

/**
 * The chain, with Kong's answers first: the custom_response filter that writes them (its place
 * does not matter, local replies pass every encoder filter), trying the filters' reply rules in
 * chain order, which is Kong's plugin priority for the plugins that have them (ip-restriction
 * 990, request-size-limiting 951, request-termination 2).
 */
export const HTTP_FILTERS: readonly ChainEntry[] = [kongRepliesFilter(plain(CHAIN), plain(CHAIN)), ...CHAIN, ...CONNECTION_MANAGER_SETTINGS];

function plain(chain: readonly ChainEntry[]): HttpFilter[] {
  return chain.filter((e): e is HttpFilter => !('expand' in e));
}
