import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, compact, type JsonObject } from '../builders.js';
import { when } from './kong-replies.js';
import type { HttpFilter, Predicate, ReplyHeaders } from './registry.js';

/**
 * Kong's cors plugin: Envoy's CORS filter with the route's CorsPolicy
 * (envoy.extensions.filters.http.cors.v3.CorsPolicy in typed_per_filter_config; the route-level
 * `cors` field is deprecated) answers preflights itself (200, no body, also for an origin that
 * does not match, as Kong does) and adds the headers to actual responses. A header_mutation
 * filter just before it in the chain (so after it on the way back) adds what Envoy's filter
 * does not do as Kong does: `Access-Control-Allow-Origin: *` (Envoy echoes the origin), Kong's
 * single literal origin sent as written, `Vary: Origin`, and the requested headers echoed as
 * Access-Control-Allow-Headers when `headers` is not set.
 */

export const CORS_FILTER = 'envoy.filters.http.cors';
export const CORS_HEADERS_FILTER = 'frontdesk.cors.headers';
export const CORS_ACTUAL_HEADERS_FILTER = 'frontdesk.cors.actual_headers';
export const CORS_ORIGIN_FILTER = 'frontdesk.cors.origin';

/** Where the request's Origin, normalised as Kong's normalize_origin writes it, is kept for the response. */
const ORIGIN_METADATA = { namespace: 'frontdesk.cors', key: 'origin' } as const;
/**
 * Kong's normalize_origin as an RE2 rewrite of the whole Origin: the scheme's default port
 * dropped (http :80, https :443); any other value is left as it is.
 */
const DEFAULT_PORT_ORIGIN = { pattern: { regex: '^(http://[^/]*?)(?::80)?$|^(https://[^/]*?)(?::443)?$' }, substitution: '\\1\\2' };

type CorsConfig = FeatureOf<'cors'>;
type CorsOrigin = CorsConfig['origins'][number];

const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_MUTATION_PER_ROUTE = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute';
const HEADER_TO_METADATA = 'envoy.extensions.filters.http.header_to_metadata.v3.Config';

function configOf(r: IrRoute): CorsConfig | undefined {
  return r.service ? r.plugins.cors?.feature : undefined;
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => configOf(r) !== undefined);
}

/** Kong's normalize_origin for a literal: scheme://host[:port], the scheme's default port dropped. */
export function normalizeOrigin(origin: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/:?#]+)(?::(\d+))?/.exec(origin);
  if (!m) return origin;
  const [, scheme = '', host, port] = m;
  const dropPort = (scheme.toLowerCase() === 'http' && port === '80') || (scheme.toLowerCase() === 'https' && port === '443');
  return `${scheme}://${host}${port && !dropPort ? `:${port}` : ''}`;
}

/**
 * One of Kong's origins as an Envoy StringMatcher on the Origin header. A literal is compared
 * normalised; a regex is anchored at both ends, and one without ":" is matched by Kong against
 * the origin's host only, so here the scheme and port around it are allowed.
 */
export function originMatcher(origin: CorsOrigin): JsonObject {
  if (origin.kind === 'literal') {
    // Kong compares the request's origin normalised too: http://a.test matches http://a.test:80.
    const literal = normalizeOrigin(origin.value);
    const scheme = /^(https?):\/\/[^:]+$/i.exec(literal)?.[1]?.toLowerCase();
    if (!scheme) return { exact: literal };
    return { safe_regex: { regex: `${literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?::${scheme === 'http' ? 80 : 443})?` } };
  }
  if (origin.kind === 'any') return { safe_regex: { regex: '.*' } };
  const regex = origin.hostOnly ? `(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:${origin.body})(?::[0-9]+)?` : origin.body;
  return { safe_regex: { regex } };
}

/** How the route's origins behave in Kong's configure_origin. */
function originMode(c: CorsConfig): 'all' | 'literal' | 'match' {
  if (c.origins.length === 0 || c.origins.some((o) => o.kind === 'any')) return 'all';
  return c.origins.length === 1 && c.origins[0]?.kind === 'literal' ? 'literal' : 'match';
}

/** The request's Origin normalised, as the origin filter kept it. */
const NORMALISED_ORIGIN = `%DYNAMIC_METADATA(${ORIGIN_METADATA.namespace}:${ORIGIN_METADATA.key})%`;

/** The single literal origin, as written (Kong sends it unchanged as Access-Control-Allow-Origin), for the 'literal' mode. */
function literalOrigin(c: CorsConfig): string {
  const o = c.origins[0];
  return o?.kind === 'literal' ? o.value.replace(/%/g, '%%') : '';
}

/** The route's envoy.extensions.filters.http.cors.v3.CorsPolicy. */
export function corsPolicy(c: CorsConfig): JsonObject {
  const mode = originMode(c);
  return anyMessage('envoy.extensions.filters.http.cors.v3.CorsPolicy', compact({
    allow_origin_string_match: mode === 'all' ? [{ safe_regex: { regex: '.*' } }] : c.origins.map(originMatcher),
    allow_methods: c.methods.length ? c.methods.join(',') : undefined,
    allow_headers: c.headers?.length ? c.headers.join(',') : undefined,
    expose_headers: c.exposed_headers?.length ? c.exposed_headers.join(',') : undefined,
    max_age: c.max_age !== undefined ? String(c.max_age) : undefined,
    allow_credentials: c.credentials ? true : undefined,
    allow_private_network_access: c.private_network ? true : undefined,
    // Kong answers every preflight itself, without Access-Control-Allow-Origin when the origin does not match.
    forward_not_matching_preflights: false,
  }));
}

function set(key: string, value: string, action: string): JsonObject {
  return { append: { header: { key, value }, append_action: action } };
}

/** The response mutations that make Envoy's CORS answers Kong's (see the file comment). */
export function corsResponseMutations(c: CorsConfig): JsonObject[] {
  const out: JsonObject[] = [];
  const mode = originMode(c);
  // With allow_origin_absent, Kong sets these even on responses to requests without Origin.
  const always = c.allow_origin_absent ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS';
  if (mode === 'all' && !c.credentials) out.push(set('access-control-allow-origin', '*', always));
  else if (mode === 'all' && c.allow_origin_absent) out.push(set('access-control-allow-origin', '*', 'ADD_IF_ABSENT'));
  else if (mode === 'literal') out.push(set('access-control-allow-origin', literalOrigin(c), always));
  // A matched origin is sent back normalised (Kong's configure_origin returns normalize_origin's value).
  else if (mode === 'match') out.push(set('access-control-allow-origin', NORMALISED_ORIGIN, 'OVERWRITE_IF_EXISTS'));
  if (mode !== 'all' || c.credentials) out.push(set('vary', 'Origin', 'APPEND_IF_EXISTS_OR_ADD'));
  if (!c.headers?.length) out.push(set('access-control-allow-headers', '%REQ(access-control-request-headers)%', 'ADD_IF_ABSENT'));
  return out;
}

/**
 * What Kong's header_filter adds to every response but a preflight answer, whatever the
 * request's Origin (Envoy's CORS filter adds them only for an origin it matches): with origins
 * given, Access-Control-Allow-Credentials (configure_credentials; with "*" it needs an Origin
 * to echo, which Envoy's filter does), and Access-Control-Expose-Headers.
 */
export function corsActualResponseMutations(c: CorsConfig): JsonObject[] {
  const out: JsonObject[] = [];
  const always = c.allow_origin_absent ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS';
  if (c.credentials && originMode(c) !== 'all') out.push(set('access-control-allow-credentials', 'true', always));
  if (c.exposed_headers?.length) out.push(set('access-control-expose-headers', c.exposed_headers.join(',').replace(/%/g, '%%'), always));
  return out;
}

function header(key: string, value: string, action = 'OVERWRITE_IF_EXISTS_OR_ADD'): JsonObject {
  return { header: { key, value }, append_action: action };
}

/** The request's Origin is one the route allows (as the CORS filter decides it). */
function originAllowed(c: CorsConfig): Predicate {
  return when.or(...c.origins.map((o) => {
    const m = originMatcher(o);
    return m.exact !== undefined ? when.header('origin', m.exact as string) : when.headerMatches('origin', (m.safe_regex as { regex: string }).regex);
  }));
}

/**
 * The CORS headers Kong's header_filter puts on its own answers (a 403 from ip-restriction, a
 * 413 from request-size-limiting...), so that a browser can read them.
 */
export function corsReplyHeaders(c: CorsConfig): ReplyHeaders[] {
  const mode = originMode(c);
  const common: JsonObject[] = [];
  if (mode === 'all' && c.credentials) {
    common.push(header('access-control-allow-origin', '%REQ(origin)%'));
    if (c.allow_origin_absent) common.push(header('access-control-allow-origin', '*', 'ADD_IF_ABSENT'));
  } else if (mode === 'all') common.push(header('access-control-allow-origin', '*'));
  else if (mode === 'literal') common.push(header('access-control-allow-origin', literalOrigin(c)));
  if (mode !== 'all' || c.credentials) common.push(header('vary', 'Origin', 'APPEND_IF_EXISTS_OR_ADD'));
  if (c.credentials) common.push(header('access-control-allow-credentials', 'true'));
  if (c.exposed_headers?.length) common.push(header('access-control-expose-headers', c.exposed_headers.join(',').replace(/%/g, '%%')));
  const out: ReplyHeaders[] = [{ headers: common }];
  if (mode === 'match') out.push({ when: originAllowed(c), headers: [header('access-control-allow-origin', NORMALISED_ORIGIN)] });
  return out;
}

/** envoy.filters.http.cors: the CORS filter, on routes with the cors plugin. */
export const corsFilter: HttpFilter = {
  name: CORS_FILTER,
  httpFilter(l) {
    return used(l) ? { name: CORS_FILTER, disabled: true, typed_config: anyMessage('envoy.extensions.filters.http.cors.v3.Cors', {}) } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    return c ? corsPolicy(c) : undefined;
  },
  replyHeaders(r) {
    const c = configOf(r);
    return c ? corsReplyHeaders(c) : [];
  },
};

/**
 * Kong's credentials and exposed headers for responses Envoy's CORS filter leaves alone (no
 * Origin, or one it does not match), as the route's response_headers_to_add: those apply to
 * the upstream's responses, not to the preflight answers Envoy's filter makes, as Kong's
 * header_filter skips its own preflight answers. No filter of its own in the chain.
 */
export const corsActualHeadersFilter: HttpFilter = {
  name: CORS_ACTUAL_HEADERS_FILTER,
  httpFilter() {
    return undefined;
  },
  patchRoute(r, envoyRoute) {
    const c = configOf(r);
    const headers = c ? corsActualResponseMutations(c).map((m) => m.append as JsonObject) : [];
    if (headers.length && envoyRoute.route) {
      envoyRoute.response_headers_to_add = [...((envoyRoute.response_headers_to_add as JsonObject[] | undefined) ?? []), ...headers];
    }
    // With a list of origins, Kong removes the upstream's own Access-Control-Allow-Origin when the
    // request's origin is not one of them (Envoy's CORS filter adds it back for one that is).
    if (c && originMode(c) === 'match' && envoyRoute.route) {
      envoyRoute.response_headers_to_remove = [...((envoyRoute.response_headers_to_remove as string[] | undefined) ?? []), 'access-control-allow-origin'];
    }
  },
};

/** The header_mutation filter that completes Envoy's CORS headers as Kong writes them. */
export const corsHeadersFilter: HttpFilter = {
  name: CORS_HEADERS_FILTER,
  httpFilter(l) {
    return used(l) ? { name: CORS_HEADERS_FILTER, disabled: true, typed_config: anyMessage(HEADER_MUTATION, { mutations: {} }) } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    const mutations = c ? corsResponseMutations(c) : [];
    return mutations.length ? anyMessage(HEADER_MUTATION_PER_ROUTE, { mutations: { response_mutations: mutations } }) : undefined;
  },
};


/**
 * envoy.filters.http.header_to_metadata: the request's Origin, normalised, kept as dynamic
 * metadata for the answer, on routes whose origins are a list to match (Envoy's CORS filter
 * echoes the Origin as sent; Kong sends it normalised).
 */
export const corsOriginFilter: HttpFilter = {
  name: CORS_ORIGIN_FILTER,
  httpFilter(l) {
    if (!l.routes.some((r) => { const c = configOf(r); return c !== undefined && originMode(c) === 'match'; })) return undefined;
    return { name: CORS_ORIGIN_FILTER, disabled: true, typed_config: anyMessage(HEADER_TO_METADATA, {}) };
  },
  perRoute(r) {
    const c = configOf(r);
    if (!c || originMode(c) !== 'match') return undefined;
    return anyMessage(HEADER_TO_METADATA, {
      request_rules: [{
        header: 'origin',
        on_header_present: { metadata_namespace: ORIGIN_METADATA.namespace, key: ORIGIN_METADATA.key, type: 'STRING', regex_value_rewrite: DEFAULT_PORT_ORIGIN },
        remove: false,
      }],
    });
  },
};
