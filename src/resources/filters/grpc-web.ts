import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, setHeader, type JsonObject } from '../builders.js';
import { when } from './kong-replies.js';
import { optionsAnswerFilter } from './options-answer.js';
import type { HttpFilter } from './registry.js';

type GrpcWeb = FeatureOf<'grpc-web'>;

/**
 * Kong's grpc-web (kong/plugins/grpc-web/handler.lua), in Envoy:
 * - envoy.filters.http.grpc_web turns a gRPC-Web request (application/grpc-web, +proto, and the
 *   base64 text mode application/grpc-web-text) into gRPC for the HTTP/2 upstream, and the
 *   upstream's answer back, trailers as the last frame of the body;
 * - Kong answers every OPTIONS request itself: 200 "OK" with its fixed CORS headers. An RBAC
 *   filter refuses OPTIONS on the route, and kong-replies turns that 403 into Kong's answer;
 * - Kong names `allow_origin_header` in Access-Control-Allow-Origin on the upstream's answers
 *   (set in its access phase, so refusals by the plugins before it do not carry it): a
 *   response header of the Envoy route;
 * - the upstream gets the request's own path, as Kong's grpc_pass sends it, unless
 *   pass_stripped_path asks for the route's stripped one.
 */

export const GRPC_WEB_FILTER = 'frontdesk.grpc_web';
export const GRPC_WEB_OPTIONS_FILTER = 'frontdesk.grpc_web.options';

/** Kong's answer to OPTIONS (CORS_HEADERS in Kong's handler), Access-Control-Allow-Origin aside. */
export const GRPC_WEB_OPTIONS_HEADERS = {
  'content-type': 'application/grpc-web-text+proto',
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers': 'content-type,x-grpc-web,x-user-agent',
} as const;

const GRPC_WEB = 'envoy.extensions.filters.http.grpc_web.v3.GrpcWeb';
const WITH_MATCHER = 'envoy.extensions.common.matching.v3.ExtensionWithMatcher';
const WITH_MATCHER_PER_ROUTE = 'envoy.extensions.common.matching.v3.ExtensionWithMatcherPerRoute';
const COMPOSITE = 'envoy.extensions.filters.http.composite.v3.Composite';
const EXECUTE_FILTER = 'envoy.extensions.filters.http.composite.v3.ExecuteFilterAction';

function configOf(r: IrRoute): GrpcWeb | undefined {
  return r.service ? r.plugins['grpc-web']?.feature : undefined;
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => configOf(r) !== undefined);
}

/**
 * The grpc_web codec filter, on the routes that have the plugin: it has no per-route config,
 * so the composite filter runs it there, for gRPC-Web requests (the same way the
 * request-size-limiting buffer is run).
 */
export const grpcWebFilter: HttpFilter = {
  name: GRPC_WEB_FILTER,
  httpFilter(l) {
    if (!used(l)) return undefined;
    return {
      name: GRPC_WEB_FILTER,
      disabled: true,
      typed_config: anyMessage(WITH_MATCHER, { extension_config: { name: 'composite', typed_config: anyMessage(COMPOSITE, {}) } }),
    };
  },
  perRoute(r) {
    if (!configOf(r)) return undefined;
    return anyMessage(WITH_MATCHER_PER_ROUTE, {
      xds_matcher: {
        matcher_list: {
          matchers: [{
            predicate: when.headerMatches('content-type', 'application/grpc-web.*'),
            on_match: {
              action: {
                name: 'grpc-web',
                typed_config: anyMessage(EXECUTE_FILTER, { typed_config: { name: 'envoy.filters.http.grpc_web', typed_config: anyMessage(GRPC_WEB, {}) } }),
              },
            },
          }],
        },
      },
    });
  },
  patchRoute(r, envoyRoute) {
    const c = configOf(r);
    const action = envoyRoute.route as JsonObject | undefined;
    if (!c || !action) return;
    if (c.upstreamPath === 'request') delete action.regex_rewrite;
    const headers = (envoyRoute.response_headers_to_add as JsonObject[] | undefined) ?? [];
    envoyRoute.response_headers_to_add = [...headers, setHeader('access-control-allow-origin', c.allowOrigin)];
  },
};

/** The OPTIONS gate: Kong's grpc-web answers OPTIONS itself, never the upstream. */
export const grpcWebOptionsFilter: HttpFilter = optionsAnswerFilter(GRPC_WEB_OPTIONS_FILTER, 'grpc-web', (r) => {
  const c = configOf(r);
  return c ? { ...GRPC_WEB_OPTIONS_HEADERS, 'access-control-allow-origin': c.allowOrigin } : undefined;
});
