import type { IrListener, IrRoute } from '../../ir/types.js';
import { splitColon } from '../../model/plugins/native-common.js';
import type { RequestTransformerConfig } from '../../model/plugins/request-transformer.js';
import type { ResponseTransformerConfig } from '../../model/plugins/response-transformer.js';
import { any, duration, type JsonObject } from '../builders.js';
import { companionCluster } from '../companion-cluster.js';
import type { CompanionResource, FilterContext, HttpFilter } from './registry.js';

/**
 * Kong's request-/response-transformer parts that Envoy cannot do itself — bodies (JSON and
 * form), the query string, the method, the response JSON — through the transform companion:
 * Envoy's ext_proc filter, off by default and switched on per route with the processing the
 * route needs (headers always; bodies buffered only when they are transformed) and the Kong
 * route's name as gRPC metadata. The companion's RouteTransform resources are built here too.
 */

export const TRANSFORM_CLUSTER = 'frontdesk:transform';
export const TRANSFORM_TYPE_URL = 'type.googleapis.com/frontdesk.transform.v1.RouteTransform';
const EXT_PROC = 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';
const EXT_PROC_PER_ROUTE = 'envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute';

type Ops = { remove: string[]; rename: { name: string; value: string }[]; replace: { name: string; value: string }[]; add: { name: string; value: string }[]; append: { name: string; value: string }[] };

const pairs = (entries: string[]) => entries.map((e) => { const p = splitColon(e)!; return { name: p.name.trim(), value: p.value.trim() }; });
const empty = (o: Ops) => !o.remove.length && !o.rename.length && !o.replace.length && !o.add.length && !o.append.length;

function ops(c: { remove: Record<string, string[]>; rename: Record<string, string[]>; replace: Record<string, unknown>; add: Record<string, unknown>; append: Record<string, unknown> }, part: string): Ops {
  const list = (x: Record<string, unknown>) => (x[part] as string[] | undefined) ?? [];
  return { remove: list(c.remove), rename: pairs(list(c.rename)), replace: pairs(list(c.replace)), add: pairs(list(c.add)), append: pairs(list(c.append)) };
}

/** Operations as proto3 JSON: empty lists left out. */
function compactOps(o: Record<string, unknown>): JsonObject {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => !Array.isArray(v) || v.length)) as JsonObject;
}

/** The RouteTransform of a route, or undefined when Envoy alone serves its transformers. */
export function routeTransform(r: IrRoute): JsonObject | undefined {
  if (!r.service) return undefined;
  const req = r.plugins['request-transformer']?.feature;
  const res = r.plugins['response-transformer']?.feature;
  const body = req ? ops(req as never, 'body') : undefined;
  const query = req ? ops(req as never, 'querystring') : undefined;
  const json = res ? ops(res as never, 'json') : undefined;
  const out: JsonObject = { name: r.routeName, route: r.routeName };
  if (body && !empty(body)) out.request_body = compactOps(body);
  if (query && !empty(query)) out.querystring = compactOps(query);
  if (req?.http_method) out.http_method = req.http_method;
  if (json && !empty(json) && res) {
    out.response_json = compactOps({ ...json, replace_types: res.replace.json_types, add_types: res.add.json_types, append_types: res.append.json_types });
  }
  return Object.keys(out).length > 2 ? out : undefined;
}

const transformed = (l: IrListener) => l.routes.some((r) => routeTransform(r) !== undefined);

export const transformFilter: HttpFilter = {
  name: 'envoy.filters.http.ext_proc',
  httpFilter(listener, ctx) {
    if (!transformed(listener)) return undefined;
    return {
      name: 'envoy.filters.http.ext_proc',
      disabled: true,
      typed_config: any(EXT_PROC, {
        grpc_service: { envoy_grpc: { cluster_name: TRANSFORM_CLUSTER }, timeout: duration(ctx.settings.transform.timeoutMs) },
        failure_mode_allow: false,
        message_timeout: duration(ctx.settings.transform.timeoutMs),
        processing_mode: { request_header_mode: 'SKIP', response_header_mode: 'SKIP', request_trailer_mode: 'SKIP', response_trailer_mode: 'SKIP' },
        // http_method rewrites :method, one of the routing headers Envoy guards by default.
        mutation_rules: { allow_all_routing: true },
      }),
    };
  },
  perRoute(route) {
    const t = routeTransform(route);
    if (!t) return undefined;
    return any(EXT_PROC_PER_ROUTE, {
      overrides: {
        processing_mode: {
          request_header_mode: 'SEND',
          request_body_mode: t.request_body ? 'BUFFERED' : 'NONE',
          response_header_mode: t.response_json ? 'SEND' : 'SKIP',
          response_body_mode: t.response_json ? 'BUFFERED' : 'NONE',
          request_trailer_mode: 'SKIP',
          response_trailer_mode: 'SKIP',
        },
        grpc_initial_metadata: [{ key: 'x-frontdesk-route', value: route.routeName }],
      },
    });
  },
  clusters(ctx: FilterContext) {
    return ctx.ir.listeners.some(transformed) ? [companionCluster(TRANSFORM_CLUSTER, ctx.settings.transform.host, ctx.settings.transform.port)] : [];
  },
  companions(ctx): CompanionResource[] {
    const out = new Map<string, JsonObject>();
    for (const r of ctx.ir.routes) {
      const t = routeTransform(r);
      if (t) out.set(r.routeName, t);
    }
    return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([name, body]) => ({ typeUrl: TRANSFORM_TYPE_URL, name, body }));
  },
};
