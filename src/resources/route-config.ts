import type { Backend, GatewayIR, IrAcme, IrListener, IrRoute } from '../ir/types.js';
import { kongMessage } from '../kong-message.js';
import { compact, duration, setHeader, setHeaderFormat, type JsonObject } from './builders.js';
import type { FilterContext, HttpFilter } from './filters/registry.js';
import { clusterName } from './names.js';
import { escapeRegex } from '../regex.js';
import { routeKind, type TranslateMemo } from './translate-memo.js';
import { namesServicesByIdOrHost, STREAM_LOG_PLUGINS } from '../contracts/log.js';

const NO_ROUTE = kongMessage('no Route matched with those values');
const JSON_CONTENT = [setHeader('content-type', 'application/json; charset=utf-8')];

/** Kong's 404 when no route matches: the last route of every configuration, one object for all (never changed after). */
const NO_ROUTE_MATCHED: JsonObject = {
  name: 'no-route',
  match: { prefix: '/' },
  direct_response: { status: 404, body: { inline_string: NO_ROUTE } },
  response_headers_to_add: JSON_CONTENT,
};

const PLAIN = new Set(['http', 'grpc', 'ws']);
const SECURE = new Set(['https', 'grpcs', 'wss']);

/**
 * The headers Kong adds to every proxied request that Envoy does not write itself (trusted_ips
 * empty: Kong's own values replace a client's). X-Forwarded-For, -Proto and -Port are the
 * connection manager's (use_remote_address, append_x_forwarded_port: with no trusted hop Envoy
 * overwrites a client's -Proto and -Port as Kong does); these are formatters, evaluated per request.
 */
const FORWARDED = [
  setHeaderFormat('x-real-ip', '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%'),
  setHeaderFormat('x-forwarded-host', '%REQ(:AUTHORITY)%'),
  setHeaderFormat('x-forwarded-path', '%PATH(NQ)%'),
];

/**
 * The header the listener writes with the connection's TLS server name (an early header
 * mutation, before routing, overwriting any client's copy) so that routes with Kong's `snis`
 * can match on it; removed before the request goes upstream.
 */
export const SNI_HEADER = 'x-frontdesk-sni';

/** An RE2 pattern for the server names one of Kong's SNIs matches (a wildcard stands for one label). */
function sniRegex(sni: string): string {
  if (sni.startsWith('*')) return `[^.]+${escapeRegex(sni.slice(1))}`;
  if (sni.endsWith('*')) return `${escapeRegex(sni.slice(0, -1))}[^.]+`;
  return escapeRegex(sni);
}

/** A Kong host pattern: exact, `*.suffix` or `prefix.*`, with an optional port. */
interface HostPattern { host: string; port?: string; kind: 'exact' | 'suffix' | 'prefix' }

function pattern(raw: string): HostPattern {
  const [, host = raw, port] = /^(.*?)(?::(\d+))?$/.exec(raw) ?? [];
  const kind = host.startsWith('*') ? 'suffix' : host.endsWith('*') ? 'prefix' : 'exact';
  return { host, ...(port ? { port } : {}), kind };
}

/** An RE2 pattern for the :authority values a host pattern matches (a port only if it names one). */
function authorityRegex(p: HostPattern): string {
  const port = p.port ? `:${p.port}` : '(?::\\d+)?';
  if (p.kind === 'exact') return `${escapeRegex(p.host)}${port}`;
  if (p.kind === 'suffix') return `[^:]+${escapeRegex(p.host.slice(1))}${port}`;
  return `${escapeRegex(p.host.slice(0, -1))}[^:]+${port}`;
}

/** The :authority matcher of a route with hosts; undefined for a route that takes any host. */
function authorityMatcher(r: IrRoute): string | undefined {
  if (r.hosts.length === 0) return undefined;
  return `(?i)(?:${r.hosts.map((h) => authorityRegex(pattern(h))).join('|')})`;
}

/** Kong's acme plugin's path (handler.lua: `^/\.well-known/acme-challenge/(.+)`). */
const ACME_PATH = '/.well-known/acme-challenge/';

/**
 * The acme plugin's answers on a plain-HTTP listener, ahead of every route (Kong runs it at
 * priority 1705, before any auth plugin, and only on http): for a host it takes, a token the
 * ACME client is being asked for gets its key authorization as text, any other token Kong's
 * 404 (lua-resty-acme's http-01 serve_challenge). No filter is switched on for them, so no
 * auth or limit stands in the CA's way. Kong answers only where a route matches the path;
 * these answer without one.
 */
function acmeRoutes(acme: IrAcme): JsonObject[] {
  const hosts = [...acme.domains.exact.map(escapeRegex), ...acme.domains.suffixes.map((s) => `.*${escapeRegex(s)}`)];
  if (!acme.domains.any && hosts.length === 0) return [];
  const headers = acme.domains.any ? undefined : [{ name: ':authority', string_match: { safe_regex: { regex: `(?i)(?:${hosts.join('|')})(?::\\d+)?` } } }];
  return [
    ...acme.challenges.map((c) => compact({
      name: `acme:${c.token}`,
      match: compact({ path: `${ACME_PATH}${c.token}`, headers }),
      direct_response: { status: 200, body: { inline_string: `${c.keyAuthorization}\n` } }, // lua-resty-acme's ngx.say
      response_headers_to_add: [setHeader('content-type', 'text/plain')],
    })),
    compact({
      name: 'acme:unknown-token',
      match: compact({ safe_regex: { regex: `${escapeRegex(ACME_PATH)}.+` }, headers }),
      direct_response: { status: 404, body: { inline_string: kongMessage('Not found') } },
      response_headers_to_add: JSON_CONTENT,
    }),
  ];
}

/**
 * Listener → envoy.config.route.v3.RouteConfiguration: one virtual host holding every route
 * in Kong's priority order, each route with hosts checking :authority itself, then Kong's
 * 404. Kong ranks host and host-less routes together, so one ordered list is exactly its
 * router, and every route appears (and is encoded) once.
 */
export function buildRouteConfiguration(listener: IrListener, filters: readonly HttpFilter[], ctx: FilterContext, memo: TranslateMemo | undefined, name: string): JsonObject {
  const build = (r: IrRoute) => buildRoutes(r, authorityMatcher(r), listener, filters, ctx);
  const kind = routeKind(listener);
  const envoyRoutes = listener.routes
    .filter((r) => servesOn(r, listener) !== 'skip')
    .flatMap((r) => (memo ? memo.get(kind, r.id, r, () => build(r)) : build(r)));
  envoyRoutes.push(NO_ROUTE_MATCHED);
  if (listener.protocol === 'http' && ctx.ir.acme) envoyRoutes.unshift(...acmeRoutes(ctx.ir.acme));
  return {
    name,
    virtual_hosts: [{ name: 'any', domains: ['*'], routes: envoyRoutes, request_headers_to_add: FORWARDED }],
    ...(listener.protocol === 'https' && listener.routes.some((r) => r.snis) ? { request_headers_to_remove: [SNI_HEADER] } : {}),
  };
}

function servesOn(r: IrRoute, l: IrListener): 'proxy' | 'redirect' | 'skip' {
  // A plain connection has no server name: Kong's router never matches a route with snis there.
  if (r.snis && l.protocol !== 'https') return 'skip';
  const own = l.protocol === 'https' ? SECURE : PLAIN;
  if (r.protocols.some((p) => own.has(p))) return 'proxy';
  if (l.protocol === 'http' && r.protocols.some((p) => SECURE.has(p))) return 'redirect';
  return 'skip';
}

function headerMatchers(r: IrRoute, authority: string | undefined): JsonObject[] {
  const out: JsonObject[] = [];
  if (authority) out.push({ name: ':authority', string_match: { safe_regex: { regex: authority } } });
  const [method, ...moreMethods] = r.methods ?? [];
  if (method !== undefined) {
    out.push(moreMethods.length
      ? { name: ':method', string_match: { safe_regex: { regex: `^(?:${[method, ...moreMethods].join('|')})$` } } }
      : { name: ':method', string_match: { exact: method } });
  }
  if (r.snis) out.push({ name: SNI_HEADER, string_match: { safe_regex: { regex: `(?i)${r.snis.map(sniRegex).join('|')}` } } });
  for (const h of r.headers) {
    const [only, ...more] = h.values;
    if (h.regexes.length === 0 && only !== undefined && !more.length) {
      out.push({ name: h.name, string_match: { exact: only, ignore_case: true } });
      continue;
    }
    // Envoy matches the whole value: plain values exactly, Kong's ~* regexes anywhere in it.
    const alternatives = [
      ...(h.values.length ? [`(?:${h.values.map(escapeRegex).join('|')})`] : []),
      ...h.regexes.map((re) => `.*(?:${re}).*`),
    ];
    out.push({ name: h.name, string_match: { safe_regex: { regex: `(?i)${alternatives.join('|')}` } } });
  }
  return out;
}

function pathMatch(r: IrRoute): JsonObject {
  if (!r.path) return { prefix: '/' };
  if (r.path.kind === 'prefix') return { prefix: r.path.value };
  const re = r.path.value.startsWith('^') ? r.path.value.slice(1) : r.path.value;
  return { safe_regex: { regex: `(?:${re}).*` } };
}

/**
 * The plugins whose log entries name Kong's route and service from the route's metadata
 * (`frontdesk.route`, `frontdesk.service`): file-log's format and the log companion's custom
 * tags kong.route and kong.service. Envoy has no per-request value that is either (its route
 * name carries the path index, its cluster a prefix).
 */
const NAMING_PLUGINS = ['file-log', 'http-log', 'prometheus', ...STREAM_LOG_PLUGINS] as const;

/**
 * The route's Kong names for the log entries, only on a route whose requests a logging plugin
 * may log (its own, a consumer's, or the global one): the rest carry no metadata of their own,
 * a third of the route configuration's bytes and of Envoy's work per route.
 */
function routeMetadata(r: IrRoute, ctx: FilterContext): JsonObject | undefined {
  const logged = NAMING_PLUGINS.some((p) => r.plugins[p] || ctx.ir.globalPlugins[p] || Object.values(r.consumerPlugins).some((c) => c[p]));
  if (!logged) return undefined;
  const statsd = r.plugins.statsd ?? ctx.ir.globalPlugins.statsd;
  // statsd's service_id and service_host name the service by what Kong's entry holds of it.
  const backend = statsd && r.service && namesServicesByIdOrHost(statsd.feature) ? backendsByName(ctx.ir).get(r.service) : undefined;
  return {
    filter_metadata: {
      frontdesk: compact({
        route: r.routeName, service: r.service, ...(statsd ? { route_id: r.routeId } : {}),
        ...(backend ? { service_id: backend.serviceId, service_host: backend.serviceHost } : {}),
      }),
    },
  };
}

const backendMaps = new WeakMap<GatewayIR, Map<string, Backend>>();

/** The IR's backends by name (its services), once per IR. */
function backendsByName(ir: GatewayIR): Map<string, Backend> {
  let m = backendMaps.get(ir);
  if (!m) backendMaps.set(ir, (m = new Map(ir.backends.map((b) => [b.name, b]))));
  return m;
}

const REDIRECT_CODES: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

/** One IR route → one Envoy route (two when path_handling v0 sends one exact request apart: IrRoute action.exactRewrite). */
function buildRoutes(r: IrRoute, authority: string | undefined, l: IrListener, filters: readonly HttpFilter[], ctx: FilterContext): JsonObject[] {
  const headers = headerMatchers(r, authority);
  const match = compact({ ...pathMatch(r), headers: headers.length ? headers : undefined });
  const meta = routeMetadata(r, ctx);
  const metadata: JsonObject = meta ? { metadata: meta } : {};
  const mode = servesOn(r, l);
  if (mode === 'redirect') {
    const redirect: JsonObject = r.httpsRedirectStatus === 426
      ? {
        direct_response: { status: 426, body: { inline_string: kongMessage('Please use HTTPS protocol') } },
        response_headers_to_add: [...JSON_CONTENT, setHeader('upgrade', 'TLS/1.2, HTTP/1.1'), setHeader('connection', 'Upgrade')],
      }
      : { redirect: { https_redirect: true, response_code: REDIRECT_CODES[r.httpsRedirectStatus]! } };
    // Kong's Location is "https://" .. $host .. request_uri: the host without its port. Envoy
    // drops the request's port only when it is :80 or when port_redirect names another, so a
    // Host with another port is sent to :443 (the same URL as Kong's), the rest get Kong's text.
    if (!redirect.redirect) return [{ name: r.id, match, ...metadata, ...redirect }];
    const hasPort = { name: ':authority', string_match: { safe_regex: { regex: '.*:(?:[0-79][0-9]*|8(?:[1-9][0-9]*)?|80[0-9]+)' } } };
    return [
      { name: `${r.id}:port`, match: { ...match, headers: [...headers, hasPort] }, ...metadata, redirect: { ...(redirect.redirect as JsonObject), port_redirect: 443 } },
      { name: r.id, match, ...metadata, ...redirect },
    ];
  }
  if (!r.service) {
    // No service: Kong's 503, unless a plugin answers first (request-termination).
    const route: JsonObject = {
      name: r.id, match, ...metadata,
      direct_response: { status: 503, body: { inline_string: kongMessage('no Service found with those values') } },
      response_headers_to_add: JSON_CONTENT,
    };
    for (const f of filters) f.patchRoute?.(r, route, ctx);
    return [route];
  }
  const a = r.action;
  const baseAction = compact({
    cluster: clusterName(a.backend),
    // Kong's read_timeout is the longest wait between two reads, not a deadline for the
    // whole response: per-try idle timeout (504 when it fires), no total deadline.
    timeout: '0s',
    idle_timeout: duration(a.idleTimeoutMs),
    host_rewrite_literal: a.hostRewrite,
    auto_host_rewrite: a.autoHostRewrite,
    retry_policy: compact({
      retry_on: a.retries > 0 ? 'connect-failure,refused-stream,reset-before-request' : undefined,
      num_retries: a.retries > 0 ? a.retries : undefined,
      per_try_idle_timeout: duration(a.readTimeoutMs),
    }),
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
  // Kong's X-Forwarded-Prefix is the prefix strip_path cut off, unless that is "/"; with none,
  // nginx's proxy_set_header of an empty value sends no header at all: a client's copy is dropped.
  const requestHeaders = a.strippedPrefix && a.strippedPrefix !== '/' ? [setHeader('x-forwarded-prefix', a.strippedPrefix)] : undefined;
  const make = (m: JsonObject, action: JsonObject, name: string): JsonObject => {
    const route: JsonObject = compact({
      name, match: m, route: action, ...metadata,
      request_headers_to_add: requestHeaders,
      request_headers_to_remove: requestHeaders ? undefined : ['x-forwarded-prefix'],
      typed_per_filter_config: Object.keys(perFilter).length ? perFilter : undefined,
    });
    for (const f of filters) f.patchRoute?.(r, route, ctx);
    return route;
  };
  const out: JsonObject[] = [];
  if (a.exactRewrite) {
    out.push(make(compact({ safe_regex: { regex: a.exactRewrite.regex }, headers: match.headers }), { ...baseAction, regex_rewrite: { pattern: { regex: '^.*$' }, substitution: a.exactRewrite.to } }, `${r.id}:exact`));
  }
  out.push(make(match, compact({
    ...baseAction,
    regex_rewrite: a.rewrite ? { pattern: { regex: a.rewrite.pattern }, substitution: a.rewrite.substitution } : undefined,
  }), r.id));
  return out;
}
