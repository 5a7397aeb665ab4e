import type { FeatureOf, IrRoute } from '../../ir/types.js';
import { formatterLiteral, setHeaderFormat, type JsonObject } from '../builders.js';
import { companionLimited, luaResponder, luaString } from './lua-responder.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's redirect (priority 779). The plugin answers in its access phase with
 * `kong.response.exit(status_code, "redirecting", { Location = ... })`: every plugin of a higher
 * priority has run by then (the auth plugins, acl, the rate limits, the transformers), none of
 * a lower one proxies (proxy-cache, request-termination). In Envoy that is the route's
 * direct_response: the filters before the router still run first, and the route is never
 * proxied. No filter of its own, so its line in the filter-order table is where its route patch
 * runs; request-termination's and proxy-cache's leave a redirected route alone.
 *
 * The Location is the URL as written, or with keep_incoming_path the URL around the request's
 * path and query (`%REQ(:PATH)%`, the path as Envoy routed it, with its query), the rest of the
 * URL as model/plugins/redirect.ts split it.
 *
 * On a route the ratelimit companion limits, the route keeps its action and redirectResponder
 * answers the same way from a Lua filter after the rate limits (lua-responder.ts).
 */

export const REDIRECT_PATCH = 'frontdesk.redirect';
/** The Lua filter that answers for a redirected route the ratelimit companion limits. */
export const REDIRECT_RESPONDER = 'frontdesk.redirect_responder';

/** Kong's body for the answer (the string handler.lua gives kong.response.exit). */
export const REDIRECT_BODY = 'redirecting';

type Redirect = FeatureOf<'redirect'>;

/** The route's redirect, if a plugin of its scopes asks for one. */
export function redirectOf(r: IrRoute): Redirect | undefined {
  return r.plugins.redirect?.feature;
}

/** The Location header's format string: a literal, or the URL around the request's path and query. */
function locationFormat(f: Redirect): string {
  return 'location' in f ? formatterLiteral(f.location) : `${formatterLiteral(f.around.before)}%REQ(:PATH)%${formatterLiteral(f.around.after)}`;
}

export const redirectFilter: HttpFilter = {
  name: REDIRECT_PATCH,
  httpFilter: () => undefined,
  patchRoute(r, envoyRoute, ctx) {
    const f = redirectOf(r);
    if (answeredAfterLimits(r, ctx)) return;
    // A route with a service, or one without (Kong answers before its "no Service" 503).
    if (!f || (!envoyRoute.route && !envoyRoute.direct_response)) return;
    delete envoyRoute.route;
    envoyRoute.direct_response = { status: f.status, body: { inline_string: REDIRECT_BODY } };
    // Kong sets no Content-Type on its string body, only the Location: the no-service answer's
    // JSON one goes (Envoy gives a direct body its text/plain).
    const kept = ((envoyRoute.response_headers_to_add as JsonObject[] | undefined) ?? [])
      .filter((h) => (h.header as JsonObject).key !== 'content-type' && (h.header as JsonObject).key !== 'location');
    envoyRoute.response_headers_to_add = [...kept, setHeaderFormat('location', locationFormat(f))];
  },
};

function answeredAfterLimits(r: IrRoute, ctx: FilterContext): boolean {
  return redirectOf(r) !== undefined && companionLimited(r, ctx);
}

/** The Location as a Lua expression: the URL, or the URL around the request's :path (its query included). */
function locationExpression(f: Redirect): string {
  return 'location' in f ? luaString(f.location) : `${luaString(f.around.before)} .. (h:headers():get(":path") or "") .. ${luaString(f.around.after)}`;
}

/** A redirect the ratelimit companion's limits run before. */
export const redirectResponder: HttpFilter = luaResponder(REDIRECT_RESPONDER, answeredAfterLimits, (r) => {
  const f = redirectOf(r)!;
  return { status: f.status, headers: [['location', locationExpression(f)]], body: REDIRECT_BODY };
});
