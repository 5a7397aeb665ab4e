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
 * only. It is the last filter before the router, so on the answer it runs first: a
 * response-transformer `add` of a Content-Type (Kong's header_filter runs on exits too) still
 * applies after it.
 */

export const UNTYPED_REPLY_FILTER = 'frontdesk.untyped_reply';

const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_MUTATION_PER_ROUTE = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute';

/** Whether the route answers by itself with a body Kong sends without a Content-Type. */
export function answersUntyped(r: IrRoute): boolean {
  if (redirectOf(r)) return true;
  const t = r.plugins['request-termination']?.feature;
  return t !== undefined && t.body !== '' && t.contentType === undefined;
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
