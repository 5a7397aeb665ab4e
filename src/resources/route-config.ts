import type { IrListener, IrRoute } from '../ir/types.js';
import { compact, duration, kongMessage, setHeader, type JsonObject } from './builders.js';
import type { FilterContext, HttpFilter } from './filters/registry.js';
import { clusterName, routeConfigName } from './names.js';

const NO_ROUTE = kongMessage('no Route matched with those values');
const JSON_CONTENT = [setHeader('content-type', 'application/json; charset=utf-8')];

const PLAIN = new Set(['http', 'grpc', 'ws']);
const SECURE = new Set(['https', 'grpcs', 'wss']);

/**
 * Listener → envoy.config.route.v3.RouteConfiguration. One virtual host per distinct host
 * pattern (plus `*`); each holds the routes that can match that host — its own, the wildcard
 * ones that cover it, and the host-less ones — in Kong's priority order, then Kong's 404.
 */
export function buildRouteConfiguration(listener: IrListener, filters: readonly HttpFilter[], ctx: FilterContext): JsonObject {
  const served = listener.routes.filter((r) => servesOn(r, listener) !== 'skip');
  const patterns = [...new Set(served.flatMap((r) => r.hosts))].sort();
  const hostless = served.filter((r) => r.hosts.length === 0);
  const virtualHosts: JsonObject[] = patterns.map((pattern) => {
    const sample = pattern.replace(/^\*/, 'x').replace(/\*$/, 'x');
    const members = served.filter((r) => r.hosts.length === 0 || r.hosts.some((h) => h === pattern || (h.includes('*') && hostMatches(h, sample))));
    return virtualHost(pattern, [pattern], members, listener, filters, ctx);
  });
  virtualHosts.push(virtualHost('*', ['*'], hostless, listener, filters, ctx));
  return {
    name: routeConfigName(listener.name),
    virtual_hosts: virtualHosts,
    ignore_port_in_host_matching: true,
  };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return host.startsWith(pattern.slice(0, -1));
  return pattern === host;
}

function servesOn(r: IrRoute, l: IrListener): 'proxy' | 'redirect' | 'skip' {
  const own = l.protocol === 'https' ? SECURE : PLAIN;
  if (r.protocols.some((p) => own.has(p))) return 'proxy';
  if (l.protocol === 'http' && r.protocols.some((p) => SECURE.has(p))) return 'redirect';
  return 'skip';
}

function virtualHost(name: string, domains: string[], routes: IrRoute[], l: IrListener, filters: readonly HttpFilter[], ctx: FilterContext): JsonObject {
  const envoyRoutes = routes.flatMap((r) => buildRoutes(r, l, filters, ctx));
  envoyRoutes.push({
    name: 'no-route',
    match: { prefix: '/' },
    direct_response: { status: 404, body: { inline_string: NO_ROUTE } },
    response_headers_to_add: JSON_CONTENT,
  });
  return { name: name === '*' ? 'any' : name, domains, routes: envoyRoutes };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function headerMatchers(r: IrRoute): JsonObject[] {
  const out: JsonObject[] = [];
  if (r.methods?.length) {
    out.push(r.methods.length === 1
      ? { name: ':method', string_match: { exact: r.methods[0]! } }
      : { name: ':method', string_match: { safe_regex: { regex: `^(?:${r.methods.join('|')})$` } } });
  }
  for (const h of r.headers) {
    if (h.regex !== undefined) out.push({ name: h.name, string_match: { safe_regex: { regex: `(?i)${h.regex}` } } });
    else if (h.values.length === 1) out.push({ name: h.name, string_match: { exact: h.values[0]!, ignore_case: true } });
    else out.push({ name: h.name, string_match: { safe_regex: { regex: `(?i)^(?:${h.values.map(escapeRegex).join('|')})$` } } });
  }
  return out;
}

function pathMatch(r: IrRoute): JsonObject {
  if (!r.path) return { prefix: '/' };
  if (r.path.kind === 'prefix') return { prefix: r.path.value };
  const re = r.path.value.startsWith('^') ? r.path.value : `^${r.path.value}`;
  return { safe_regex: { regex: `(?:${re}).*` } };
}

/** One IR route → one Envoy route (two when strip_path needs an exact-path rewrite first). */
function buildRoutes(r: IrRoute, l: IrListener, filters: readonly HttpFilter[], ctx: FilterContext): JsonObject[] {
  const headers = headerMatchers(r);
  const match = compact({ ...pathMatch(r), headers: headers.length ? headers : undefined });
  const metadata = { filter_metadata: { frontdesk: compact({ route: r.routeName, service: r.service }) } };
  const mode = servesOn(r, l);
  if (mode === 'redirect') {
    const redirect: JsonObject = r.httpsRedirectStatus === 426
      ? { direct_response: { status: 426, body: { inline_string: kongMessage('Please use HTTPS protocol') } }, response_headers_to_add: JSON_CONTENT }
      : { redirect: { https_redirect: true, response_code: ({ 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' } as Record<number, string>)[r.httpsRedirectStatus]! } };
    return [{ name: r.id, match, metadata, ...redirect }];
  }
  if (!r.service) {
    return [{
      name: r.id, match, metadata,
      direct_response: { status: 503, body: { inline_string: kongMessage('no Service found with those values') } },
      response_headers_to_add: JSON_CONTENT,
    }];
  }
  const a = r.action;
  const baseAction = compact({
    cluster: clusterName(a.backend),
    timeout: duration(a.timeoutMs),
    idle_timeout: duration(a.idleTimeoutMs),
    host_rewrite_literal: a.hostRewrite,
    retry_policy: a.retries > 0 ? { retry_on: 'connect-failure,refused-stream,reset-before-request', num_retries: a.retries } : undefined,
    hash_policy: a.hashPolicies.length ? a.hashPolicies.map((h, i) => compact({
      ...(h.kind === 'header' ? { header: { header_name: h.name } }
        : h.kind === 'cookie' ? { cookie: { name: h.name, path: h.path, ttl: '0s' } }
          : h.kind === 'source_ip' ? { connection_properties: { source_ip: true } }
            : { query_parameter: { name: h.name } }),
      terminal: i === 0 && a.hashPolicies.length > 1 ? true : undefined,
    })) : undefined,
  });
  const perFilter: JsonObject = {};
  for (const f of filters) {
    const cfg = f.perRoute?.(r, ctx);
    if (cfg) perFilter[f.name] = cfg;
  }
  const make = (m: JsonObject, action: JsonObject, name: string): JsonObject => {
    const route: JsonObject = compact({ name, match: m, route: action, metadata, typed_per_filter_config: Object.keys(perFilter).length ? perFilter : undefined });
    for (const f of filters) f.patchRoute?.(r, route, ctx);
    return route;
  };
  const out: JsonObject[] = [];
  if (a.exactRewrite) {
    out.push(make(compact({ path: a.exactRewrite.path, headers: match.headers }), { ...baseAction, prefix_rewrite: a.exactRewrite.to }, `${r.id}:exact`));
  }
  out.push(make(match, compact({
    ...baseAction,
    regex_rewrite: a.rewrite ? { pattern: { regex: a.rewrite.pattern }, substitution: a.rewrite.substitution } : undefined,
  }), r.id));
  return out;
}
