import { CLIENT_ADDRESS_ATTRIBUTE, ROUTE_METADATA_KEY, routeTransform, transformResources } from '../../contracts/transform.js';
import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, duration } from '../builders.js';
import { companionCluster } from '../companion-cluster.js';
import { derived, type FilterContext, type HttpFilter } from './registry.js';

/**
 * Kong's request-/response-transformer parts that Envoy cannot do itself — bodies (JSON and
 * form), the query string, the method, the response JSON — standard-webhooks' signature
 * over the body and response-ratelimiting's quotas spent by a response header, through the
 * transform companion:
 * Envoy's ext_proc filter, off by default and switched on per route with the processing the
 * route needs (headers always; bodies buffered only when they are transformed) and the Kong
 * route's RouteTransform name (its content hash) as gRPC metadata. The companion's RouteTransform resources come from
 * contracts/transform.ts.
 */

export const TRANSFORM_CLUSTER = 'frontdesk:transform';
const EXT_PROC = 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';
const EXT_PROC_PER_ROUTE = 'envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute';

/** Whether a listener has a route with a transform (whether a route has one, once per route while the translate context holds). */
const hasTransform = (r: IrRoute, consumers: GatewayIR['consumers']): boolean => routeTransform(r, consumers) !== undefined;
const transformed = (l: IrListener, ctx: FilterContext) => l.routes.some((r) => derived(ctx, 'envoy.filters.http.ext_proc', r, hasTransform, ctx.ir.consumers));

export const transformFilter: HttpFilter = {
  name: 'envoy.filters.http.ext_proc',
  httpFilter(listener, ctx) {
    if (!transformed(listener, ctx)) return undefined;
    return {
      name: 'envoy.filters.http.ext_proc',
      disabled: true,
      typed_config: anyMessage(EXT_PROC, {
        grpc_service: { envoy_grpc: { cluster_name: TRANSFORM_CLUSTER }, timeout: duration(ctx.settings.transform.timeoutMs) },
        failure_mode_allow: false,
        message_timeout: duration(ctx.settings.transform.timeoutMs),
        processing_mode: { request_header_mode: 'SKIP', response_header_mode: 'SKIP', request_trailer_mode: 'SKIP', response_trailer_mode: 'SKIP' },
        // http_method rewrites :method, one of the routing headers Envoy guards by default.
        mutation_rules: { allow_all_routing: true },
      }),
    };
  },
  perRoute(route, ctx) {
    const { message: t, resource } = routeTransform(route, ctx.ir.consumers) ?? {};
    if (!t || !resource) return undefined;
    // response-ratelimiting counts by the upstream's response headers, per client address when no consumer is known.
    const limited = !!(t.response_ratelimiting || t.response_ratelimiting_consumers);
    return anyMessage(EXT_PROC_PER_ROUTE, {
      overrides: {
        processing_mode: {
          request_header_mode: 'SEND',
          request_body_mode: t.request_body || t.standard_webhooks ? 'BUFFERED' : 'NONE',
          response_header_mode: t.response_json || limited ? 'SEND' : 'SKIP',
          response_body_mode: t.response_json ? 'BUFFERED' : 'NONE',
          request_trailer_mode: 'SKIP',
          response_trailer_mode: 'SKIP',
        },
        ...(limited ? { request_attributes: [CLIENT_ADDRESS_ATTRIBUTE] } : {}),
        grpc_initial_metadata: [{ key: ROUTE_METADATA_KEY, value: resource.name }],
      },
    });
  },
  clusters(ctx: FilterContext) {
    return ctx.ir.listeners.some((l) => transformed(l, ctx)) ? [companionCluster(TRANSFORM_CLUSTER, ctx.settings.transform.host, ctx.settings.transform.port, ctx.settings.tls && { sds: ctx.settings.tls, companion: 'transform' })] : [];
  },
  companions: (ctx) => transformResources(ctx.ir),
};
