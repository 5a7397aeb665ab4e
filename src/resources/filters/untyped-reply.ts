import { LOG_PHASE_PLUGINS } from '../../log-phase-plugins.js';
import type { IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import { redirectOf } from './redirect.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's answers whose body has no type: `kong.response.exit(status, "<text>")` without a
 * Content-Type (redirect's "redirecting", request-termination's `body` without
 * `content_type`) goes out with none, Kong's proxy location setting `default_type ''`. Envoy
 * gives a direct_response body its `text/plain` after the route's own headers, so the route's
 * response_headers_to_remove cannot take it off; this header_mutation does, on those routes
 * only, and only where no other plugin may answer (a header_mutation takes the header off every
 * answer of the route: a key-auth 401's JSON type too). It is the last filter before the router,
 * so on the answer it runs first: a
 * response-transformer `add` of a Content-Type (Kong's header_filter runs on exits too) still
 * applies after it.
 */

export const UNTYPED_REPLY_FILTER = 'frontdesk.untyped_reply';

const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_MUTATION_PER_ROUTE = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute';

/**
 * The plugins that never answer a request themselves: on a route with only these (and the
 * answering plugin), every answer is the route's own. Any other plugin may refuse (auth, acl,
 * the limits, ip-restriction...) or serve (proxy-cache) with a type of its own, which the
 * removal would take off too: it cannot tell one answer from another.
 */
const NEVER_ANSWER: ReadonlySet<string> = new Set([
  'redirect', 'request-termination', 'correlation-id', 'request-transformer', 'response-transformer', ...LOG_PHASE_PLUGINS,
]);

/**
 * Whether the route answers by itself with a body Kong sends without a Content-Type, and is a
 * route where that answer is the only one the gateway gives (no plugin that may answer, no
 * consumer's plugin).
 */
export function answersUntyped(r: IrRoute): boolean {
  const t = r.plugins['request-termination']?.feature;
  const untyped = redirectOf(r) !== undefined || (t !== undefined && t.body !== '' && t.contentType === undefined);
  return untyped && Object.keys(r.plugins).every((name) => NEVER_ANSWER.has(name)) && Object.keys(r.consumerPlugins).length === 0;
}

function used(l: IrListener): boolean {
  return l.routes.some(answersUntyped);
}

export const untypedReplyFilter: HttpFilter = {
  name: UNTYPED_REPLY_FILTER,
  httpFilter(l) {
    return used(l) ? { name: UNTYPED_REPLY_FILTER, disabled: true, typed_config: anyMessage(HEADER_MUTATION, { mutations: {} }) } : undefined;
  },
  // A route patch, not perRoute: a route without a service gets no per-route configs, and its
  // answer is the plugin's too (redirect's and request-termination's patches run before this one).
  patchRoute(r, envoyRoute) {
    if (!envoyRoute.direct_response || !answersUntyped(r)) return;
    envoyRoute.typed_per_filter_config = {
      ...((envoyRoute.typed_per_filter_config as JsonObject | undefined) ?? {}),
      [UNTYPED_REPLY_FILTER]: anyMessage(HEADER_MUTATION_PER_ROUTE, { mutations: { response_mutations: [{ remove: 'content-type' }] } }),
    };
  },
};
