import type { IrRoute } from '../../ir/types.js';
import { anyMessage } from '../builders.js';
import { ratelimitPlan } from './ratelimit.js';
import type { FilterContext, HttpFilter } from './registry.js';

/**
 * A plugin's answer given by a Lua filter instead of the route's direct_response, on the routes
 * the ratelimit companion limits: Envoy's ratelimit filter reads a route's limits from its route
 * action, which a direct_response route has not, so such a route keeps its action and the
 * responder, placed after the rate limits in the filter chain, answers with the plugin's status,
 * headers and body. Kong runs rate-limiting (910) before redirect (779) and request-termination
 * (2): the limit counts each request, and refuses with its 429 once spent. One inline script per
 * route (LuaPerRoute), the filter itself off unless a route turns it on.
 */

const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';
const LUA_PER_ROUTE = 'envoy.extensions.filters.http.lua.v3.LuaPerRoute';

/** A Lua string literal of any bytes: printable ASCII as it is, every other byte (and quotes, backslashes) as a three-digit decimal escape. */
export function luaString(text: string): string {
  let out = '"';
  for (const b of Buffer.from(text, 'utf8')) out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`;
  return `${out}"`;
}

/** Whether the ratelimit companion limits the route (its limits need the route's action). */
export function companionLimited(r: IrRoute, ctx: FilterContext): boolean {
  return !!r.service && ratelimitPlan(ctx).routes.has(r.routeName);
}

/** One answer: the status, the headers as Lua expressions (a literal via luaString, or code reading the request `h`), the body. */
export interface LuaAnswer { status: number; headers: ReadonlyArray<[string, string]>; body: string }

function script(a: LuaAnswer): string {
  const headers = [`[":status"] = ${luaString(String(a.status))}`, ...a.headers.map(([k, v]) => `[${luaString(k)}] = ${v}`)];
  return `function envoy_on_request(h) h:respond({ ${headers.join(', ')} }, ${luaString(a.body)}) end\n`;
}

/** A responder filter named `name`, answering `answer(r)` on the routes `applies` picks. */
export function luaResponder(name: string, applies: (r: IrRoute, ctx: FilterContext) => boolean, answer: (r: IrRoute) => LuaAnswer): HttpFilter {
  return {
    name,
    httpFilter(l, ctx) {
      if (!l.routes.some((r) => applies(r, ctx))) return undefined;
      return { name, disabled: true, typed_config: anyMessage(LUA, { default_source_code: { inline_string: 'function envoy_on_request(h) end\n' } }) };
    },
    perRoute(r, ctx) {
      return applies(r, ctx) ? anyMessage(LUA_PER_ROUTE, { source_code: { inline_string: script(answer(r)) } }) : undefined;
    },
  };
}
