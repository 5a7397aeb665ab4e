import { consumerResources, hasAuthPlugin, IDENTITY_HEADERS, servedByAuthz, policyName, ROUTE_CONTEXT_KEY, routePolicyResources } from '../../contracts/authz.js';
import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, duration, type JsonObject } from '../builders.js';
import { companionCluster } from '../companion-cluster.js';
import { derived, type CompanionResource, type FilterContext, type HttpFilter } from './registry.js';

/**
 * Kong's jwt, key-auth, ldap-auth, basic-auth, hmac-auth, acl and session plugins, enforced by Envoy's ext_authz filter asking
 * the authz companion (gRPC, envoy.service.auth.v3.Authorization/Check) about every request on a
 * route that has one of them. See docs/authz.md, "The Envoy side".
 */

export const EXT_AUTHZ_FILTER = 'envoy.filters.http.ext_authz';
/** The cluster Envoy reaches the authz service through (no Kong service can be named so: theirs are `service:<name>`). */
export const AUTHZ_CLUSTER = 'frontdesk:authz';
/** Request body sent to authz on routes with key-auth key_in_body, hmac-auth validate_request_body or session read_body_for_logout; larger bodies get 413. */
export const AUTHZ_MAX_BODY_BYTES = 65_536;
/** What a client gets when authz cannot be asked (unreachable, timeout) and failing closed. */
export const AUTHZ_STATUS_ON_ERROR = 'ServiceUnavailable';
/** The fail-open companion filter that drops client-sent identity headers before ext_authz. */
export const IDENTITY_STRIP_FILTER = 'frontdesk.authz.strip_identity_headers';
/** Header Envoy adds upstream when it let a request through because authz could not be asked. */
export const FAILURE_MODE_ALLOWED_HEADER = 'x-envoy-auth-failure-mode-allowed';

const EXT_AUTHZ_TYPE = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
const EXT_AUTHZ_PER_ROUTE_TYPE = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';

const protectedIRs = new WeakMap<GatewayIR, boolean>();

/** Whether the authz companion checks the route's requests: once per route while the translate context holds (consumers are part of it). */
function served(r: IrRoute, ctx: FilterContext): boolean {
  return derived(ctx, EXT_AUTHZ_FILTER, r, servedByAuthz, ctx.ir.consumers);
}

/** Whether any route of the configuration has an auth plugin (once per IR, not per route). */
function anyProtected(ctx: FilterContext): boolean {
  const known = protectedIRs.get(ctx.ir);
  if (known !== undefined) return known;
  const v = ctx.ir.routes.some((r) => served(r, ctx));
  protectedIRs.set(ctx.ir, v);
  return v;
}

/** The listener's routes whose auth plugins the authz companion checks. */
function protectedRoutes(l: IrListener, ctx: FilterContext): IrRoute[] {
  return l.routes.filter((r) => r.service && served(r, ctx));
}

function needsBody(r: IrRoute): boolean {
  return r.plugins['key-auth']?.feature?.key_in_body === true || r.plugins['hmac-auth']?.feature?.validate_request_body === true
    || r.plugins.session?.feature?.read_body_for_logout === true;
}

/**
 * The request headers authz reads on this listener's routes, lower-case: the jwt header and
 * cookie names, key-auth's key names (also spelt with "-" for "_", as nginx finds them), basic
 * auth's and ldap-auth's two headers, the session's cookie, and content-type for key_in_body (and a session's logout body). Envoy sends authz only these. Undefined
 * (every header) where a route has hmac-auth: its signatures cover headers each client names.
 */
export function headersAuthzReads(routes: readonly IrRoute[]): string[] | undefined {
  if (routes.some((r) => r.plugins['hmac-auth'])) return undefined;
  const out = new Set<string>();
  const add = (name: string) => {
    const lower = name.toLowerCase();
    out.add(lower);
    if (lower.includes('_')) out.add(lower.replace(/_/g, '-'));
  };
  for (const r of routes) {
    const jwt = r.plugins.jwt?.feature;
    const keyAuth = r.plugins['key-auth']?.feature;
    const basic = r.plugins['basic-auth']?.feature;
    if (jwt) {
      for (const h of jwt.header_names) add(h);
      if (jwt.cookie_names.length) out.add('cookie');
    }
    if (keyAuth) {
      if (keyAuth.key_in_header) for (const k of keyAuth.key_names) add(k);
      if (keyAuth.key_in_body) out.add('content-type');
    }
    if (basic || r.plugins['ldap-auth']) { out.add('authorization'); out.add('proxy-authorization'); }
    const session = r.plugins.session?.feature;
    if (session) {
      out.add('cookie');
      if (session.read_body_for_logout) out.add('content-type');
      if (session.bind.includes('user-agent')) out.add('user-agent');
    }
  }
  return [...out].sort();
}

/** The authz cluster: HTTP/2 (gRPC) to settings.authz, a static address or a DNS name. */
export function authzCluster(ctx: FilterContext): JsonObject {
  return companionCluster(AUTHZ_CLUSTER, ctx.settings.authz.host, ctx.settings.authz.port, ctx.settings.tls && { sds: ctx.settings.tls, companion: 'authz' });
}

/** envoy.filters.http.ext_authz on listeners with a protected route; disabled unless a route enables it. */
export const extAuthzFilter: HttpFilter = {
  name: EXT_AUTHZ_FILTER,
  httpFilter(listener, ctx) {
    const routes = protectedRoutes(listener, ctx);
    if (!routes.length) return undefined;
    const { timeoutMs, failOpen } = ctx.settings.authz;
    const headers = headersAuthzReads(routes);
    return {
      name: EXT_AUTHZ_FILTER,
      // Off by default: only routes with an auth plugin turn it on (their per-route config),
      // so Kong's 404, redirects and unprotected routes never ask authz.
      disabled: true,
      typed_config: anyMessage(EXT_AUTHZ_TYPE, {
        grpc_service: { envoy_grpc: { cluster_name: AUTHZ_CLUSTER }, timeout: duration(timeoutMs) },
        transport_api_version: 'V3',
        // Fail closed unless the operator opened it (--authz-fail-open): proto3's false is absent.
        ...(failOpen ? { failure_mode_allow: true, failure_mode_allow_header_add: true } : {}),
        status_on_error: { code: AUTHZ_STATUS_ON_ERROR },
        ...(routes.some(needsBody) ? { with_request_body: { max_request_bytes: AUTHZ_MAX_BODY_BYTES, allow_partial_message: false, pack_as_bytes: true } } : {}),
        ...(headers?.length ? { allowed_headers: { patterns: headers.map((h) => ({ exact: h, ignore_case: true })) } } : {}),
        // hmac-auth signs a header's first value, as Kong reads one sent twice: Envoy sends them apart.
        ...(routes.some((r) => r.plugins['hmac-auth']) ? { encode_raw_headers: true } : {}),
        validate_mutations: true,
      }),
    };
  },
  perRoute(route, ctx) {
    if (!route.service) return undefined;
    if (!served(route, ctx)) {
      // Already off by default; said explicitly where the configuration uses authz at all.
      return anyProtected(ctx) ? anyMessage(EXT_AUTHZ_PER_ROUTE_TYPE, { disabled: true }) : undefined;
    }
    return anyMessage(EXT_AUTHZ_PER_ROUTE_TYPE, {
      check_settings: {
        context_extensions: { [ROUTE_CONTEXT_KEY]: policyName(route) },
        ...(needsBody(route) ? {} : { disable_request_body_buffering: true }),
      },
    });
  },
  // Kept while any route has an auth plugin, whoever checks it: an edit that moves a route
  // between Envoy and the companion leaves the cluster in place for the connections still
  // draining on the previous listener.
  clusters(ctx) {
    return ctx.ir.routes.some((r) => r.service && hasAuthPlugin(r)) ? [authzCluster(ctx)] : [];
  },
  companions(ctx): CompanionResource[] {
    return [...consumerResources(ctx.ir, ctx.settings.credentialSalt), ...routePolicyResources(ctx.ir)];
  },
};

const STRIPPED = [...IDENTITY_HEADERS, FAILURE_MODE_ALLOWED_HEADER];

/**
 * With authz failing open, a request let through because authz could not be asked carries
 * whatever identity headers the client sent: this filter drops them first, on protected routes
 * only (Kong passes them through elsewhere). With authz failing closed, authz itself removes
 * them from every request it allows, and this filter is not in the chain.
 */
export const identityStripFilter: HttpFilter = {
  name: IDENTITY_STRIP_FILTER,
  httpFilter(listener, ctx) {
    if (!ctx.settings.authz.failOpen || !protectedRoutes(listener, ctx).length) return undefined;
    return {
      name: IDENTITY_STRIP_FILTER,
      disabled: true,
      typed_config: anyMessage('envoy.extensions.filters.http.header_mutation.v3.HeaderMutation', { mutations: {} }),
    };
  },
  perRoute(route, ctx) {
    if (!ctx.settings.authz.failOpen || !route.service || !served(route, ctx)) return undefined;
    return anyMessage('envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute', {
      mutations: { request_mutations: STRIPPED.map((h) => ({ remove: h })) },
    });
  },
};

