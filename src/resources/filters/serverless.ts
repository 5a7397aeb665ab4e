import { createHash } from 'node:crypto';
import type { IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import type { HttpFilter } from './registry.js';
import { serverlessScript, type ServerlessScript } from './serverless-lua.js';

/**
 * Kong's pre-function and post-function as Envoy Lua filters (the Lua: serverless-lua.ts). Kong
 * runs every phase in priority order, so pre-function (1,000,000) is first on the request and
 * first on the response, post-function (-1,000) last on both; Envoy passes a response through its
 * filters in reverse, so each plugin is two filters: its request side where the request meets it
 * and its response side at the mirrored place (filters/index.ts puts all four). Each distinct
 * script is one named source on the listener, compiled once per worker whichever routes share it
 * (a global or service plugin's); a route turns its own on by name, the filters being off
 * otherwise.
 */

const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';
const LUA_PER_ROUTE = 'envoy.extensions.filters.http.lua.v3.LuaPerRoute';

type Plugin = 'pre-function' | 'post-function';
type Side = 'request' | 'response';

type Feature = NonNullable<IrRoute['plugins']['pre-function']>['feature'];

function scriptOf(f: Feature, plugin: Plugin, side: Side): ServerlessScript | undefined {
  if (side === 'request') return f.rewrite.length || f.access.length ? { plugin, request: { rewrite: f.rewrite, access: f.access } } : undefined;
  if (!f.header_filter.length && !f.body_filter.length) return undefined;
  // The response side reads the request from what the stream kept of it, kept only when asked for.
  const keepRequest = [...f.header_filter, ...f.body_filter].some((c) => c.includes('kong.request'));
  return { plugin, response: { headerFilter: f.header_filter, bodyFilter: f.body_filter, keepRequest } };
}

type Source = { name: string; code: string } | undefined;
const sources = new WeakMap<Feature, Partial<Record<`${Plugin}:${Side}`, Source>>>();

/**
 * The route's script for one plugin and side, named by its content: computed once per plugin
 * feature (a global or service plugin's is one object on all its routes, and an unchanged one
 * stays the same object from build to build); a route without the plugin costs one lookup.
 */
function sourceOf(r: IrRoute, plugin: Plugin, side: Side): Source {
  const f = r.plugins[plugin]?.feature;
  if (!f) return undefined;
  let memo = sources.get(f);
  if (!memo) sources.set(f, (memo = {}));
  const key = `${plugin}:${side}` as const;
  if (key in memo) return memo[key];
  const s = scriptOf(f, plugin, side);
  const code = s && serverlessScript(s);
  return (memo[key] = code === undefined ? undefined : { name: `${plugin}.${side}.${createHash('sha256').update(code).digest('hex').slice(0, 16)}`, code });
}

function serverlessFilter(plugin: Plugin, side: Side): HttpFilter {
  const name = `frontdesk.${plugin.replace('-', '_')}.${side}`;
  return {
    name,
    httpFilter(l: IrListener) {
      const codes: JsonObject = {};
      for (const r of l.routes) {
        const s = sourceOf(r, plugin, side);
        if (s) codes[s.name] = { inline_string: s.code };
      }
      if (!Object.keys(codes).length) return undefined;
      return { name, disabled: true, typed_config: anyMessage(LUA, { source_codes: Object.fromEntries(Object.entries(codes).sort(([a], [b]) => a.localeCompare(b))) }) };
    },
    perRoute(r) {
      const s = sourceOf(r, plugin, side);
      return s ? anyMessage(LUA_PER_ROUTE, { name: s.name }) : undefined;
    },
  };
}

/** pre-function's rewrite and access: first on the request. */
export const preFunctionRequestFilter = serverlessFilter('pre-function', 'request');
/** pre-function's header_filter and body_filter: first on the response (placed just before the router). */
export const preFunctionResponseFilter = serverlessFilter('pre-function', 'response');
/** post-function's rewrite and access: last on the request (just before the router). */
export const postFunctionRequestFilter = serverlessFilter('post-function', 'request');
/** post-function's header_filter and body_filter: last on the response (placed first in the chain). */
export const postFunctionResponseFilter = serverlessFilter('post-function', 'response');
