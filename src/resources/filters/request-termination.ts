import { consumerId, hasAuthPlugin } from '../../contracts/authz.js';
import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, setHeader, type JsonObject } from '../builders.js';
import { when } from './kong-replies.js';
import { companionLimited, luaResponder, luaString } from './lua-responder.js';
import { redirectOf } from './redirect.js';
import type { FilterContext, HttpFilter, ReplyRule } from './registry.js';

/**
 * Kong's request-termination. On a route (or its service, or globally) it becomes the Envoy
 * route's direct_response: the filters before the router (authentication, IP and size checks,
 * local rate limits) still run first, as Kong runs every other plugin before this one (priority
 * 2). A route the ratelimit companion limits keeps its route action instead (Envoy's ratelimit
 * filter reads its actions from one, and a direct_response route has none), and a Lua filter
 * after the rate limits answers in its place (terminationResponder), so the limits count and
 * refuse first, as in Kong.
 * Scoped to a consumer, it needs the consumer authz identified: an RBAC filter after the rate
 * limits denies requests whose x-consumer-id (set by authz, never the client's) is such a
 * consumer's, and kong-replies turns the 403 into that consumer's termination answer. A
 * consumer plugin beats a route one in Kong's precedence, and so it does here.
 */

export const TERMINATION_CONSUMER_FILTER = 'frontdesk.request_termination';
/** The Lua filter that answers for a terminated route the ratelimit companion limits. */
export const TERMINATION_RESPONDER_FILTER = 'frontdesk.request_termination_responder';

const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
const RBAC_PER_ROUTE = 'envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

type Termination = FeatureOf<'request-termination'>;

function routeConfig(r: IrRoute): Termination | undefined {
  return r.plugins['request-termination']?.feature;
}

/** The consumers terminated on a route, as [x-consumer-id, config], sorted by id. */
function terminatedConsumers(r: IrRoute, ctx: FilterContext): Array<[string, Termination]> {
  if (!r.service || !hasAuthPlugin(r)) return [];
  const out: Array<[string, Termination]> = [];
  for (const c of ctx.ir.consumers) {
    const p = r.consumerPlugins[c.key]?.['request-termination'];
    if (p) out.push([consumerId(c), p.feature]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function used(l: IrListener, ctx: FilterContext): boolean {
  return l.routes.some((r) => !!r.service && hasAuthPlugin(r) && ctx.ir.consumers.some((c) => r.consumerPlugins[c.key]?.['request-termination'] !== undefined));
}

/** Whether the route's termination is answered by the responder: the ratelimit companion limits it (lua-responder.ts). */
function answeredAfterLimits(r: IrRoute, ctx: FilterContext): boolean {
  return !!routeConfig(r) && !redirectOf(r) && companionLimited(r, ctx);
}

/** The route's direct_response, and its headers, for a termination config. */
function directResponse(t: Termination): { direct_response: JsonObject; headers: JsonObject[] } {
  return {
    direct_response: { status: t.status, ...(t.body !== '' ? { body: { inline_string: t.body } } : {}) },
    headers: t.contentType ? [setHeader('content-type', t.contentType)] : [],
  };
}

export const requestTerminationFilter: HttpFilter = {
  name: TERMINATION_CONSUMER_FILTER,
  httpFilter(l, ctx) {
    return used(l, ctx) ? { name: TERMINATION_CONSUMER_FILTER, disabled: true, typed_config: anyMessage(RBAC, {}) } : undefined;
  },
  perRoute(r, ctx) {
    const ids = terminatedConsumers(r, ctx).map(([id]) => id);
    if (!ids.length) return undefined;
    return anyMessage(RBAC_PER_ROUTE, {
      rbac: {
        rules: {
          action: 'DENY',
          policies: {
            'request-termination': {
              permissions: [{ any: true }],
              principals: ids.map((id) => ({ header: { name: 'x-consumer-id', string_match: { exact: id } } })),
            },
          },
        },
      },
    });
  },
  patchRoute(r, envoyRoute, ctx) {
    const c = routeConfig(r);
    if (answeredAfterLimits(r, ctx)) return;
    // A route with a service, or one without (its 503 stands in for "no service"); Kong's
    // redirect (779) answers before request-termination (2) runs.
    if (!c || redirectOf(r) || (!envoyRoute.route && !envoyRoute.direct_response)) return;
    const { direct_response, headers } = directResponse(c);
    if (!envoyRoute.route) delete envoyRoute.response_headers_to_add; // the 503's content type
    delete envoyRoute.route;
    envoyRoute.direct_response = direct_response;
    if (headers.length) envoyRoute.response_headers_to_add = [...((envoyRoute.response_headers_to_add as JsonObject[] | undefined) ?? []), ...headers];
  },
  replies(r, ctx): ReplyRule[] {
    return terminatedConsumers(r, ctx).map(([id, t]) => {
      return {
        plugin: 'request-termination',
        when: when.and(when.status(403), when.header('x-consumer-id', id)),
        status: t.status,
        body: t.body,
        ...(t.contentType ? { contentType: t.contentType } : {}),
      };
    });
  },
};

/** A route-scoped termination the ratelimit companion's limits run before (see the top of this file). */
export const terminationResponder: HttpFilter = luaResponder(TERMINATION_RESPONDER_FILTER, answeredAfterLimits, (r) => {
  const t = routeConfig(r)!;
  return { status: t.status, headers: t.contentType ? [['content-type', luaString(t.contentType)]] : [], body: t.body };
});
