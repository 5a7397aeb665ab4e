import type { IrRoute } from '../../ir/types.js';
import { anyMessage, setHeader, type JsonObject } from '../builders.js';
import { derived, type FilterContext, type HttpFilter, type Predicate, type ReplyHeaders, type ReplyRule } from './registry.js';

/**
 * Kong's answers for requests Envoy refuses itself. Envoy's RBAC filter refuses with
 * `403 RBAC: access denied` and its buffer with `413 Payload Too Large`; Kong answers
 * `{"message": "..."}` with the plugin's own status. One custom_response filter
 * (envoy.extensions.filters.http.custom_response.v3.CustomResponse) holds, per route, the
 * rules of every native plugin there: "a response with this status to a request like this
 * becomes that Kong answer". A rule's predicate always names something only the refusing
 * plugin's requests have (a denied source address, an oversized Content-Length, a consumer
 * that is terminated), so an upstream's own 403 or 413 passes unchanged. Local replies pass
 * through every encoder filter, so the filter's place in the chain does not matter. The answer
 * it writes, though, goes straight to the client (Envoy sends a reply made while encoding past
 * the other filters), so the response headers other native plugins add to every answer
 * (correlation-id's echo, CORS) are written into it here, from their `replyHeaders` hooks.
 */

export const KONG_REPLIES_FILTER = 'frontdesk.kong_replies';

const CUSTOM_RESPONSE = 'envoy.extensions.filters.http.custom_response.v3.CustomResponse';
const LOCAL_RESPONSE_POLICY = 'envoy.extensions.http.custom_response.local_response_policy.v3.LocalResponsePolicy';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

function typed(name: string, type: string, fields: JsonObject = {}): JsonObject {
  return { name, typed_config: anyMessage(type, fields) };
}

function re2(regex: string): JsonObject {
  return { safe_regex: { google_re2: {}, regex } };
}

function headerInput(name: string): JsonObject {
  return typed(name, 'envoy.type.matcher.v3.HttpRequestHeaderMatchInput', { header_name: name });
}

/** A CIDR as Envoy's CidrRange: `10.0.0.0/8` or a bare address (a /32 or /128). */
export function cidrRange(cidr: string): JsonObject {
  const [address, len] = cidr.split('/');
  const prefix = address ?? cidr;
  return { address_prefix: prefix, prefix_len: len !== undefined ? Number(len) : prefix.includes(':') ? 128 : 32 };
}

/** Predicates over a response and its request, for ReplyRule.when. */
export const when = {
  /** The response status is `code`. */
  status(code: number): Predicate {
    return {
      single_predicate: {
        input: typed('status', 'envoy.type.matcher.v3.HttpResponseStatusCodeMatchInput'),
        value_match: { exact: String(code) },
      },
    };
  },
  /** The request carries header `name` (any value). */
  hasHeader(name: string): Predicate {
    return { single_predicate: { input: headerInput(name), value_match: re2('.*') } };
  },
  /** The request lacks header `name`. */
  lacksHeader(name: string): Predicate {
    return { not_matcher: when.hasHeader(name) };
  },
  /** Header `name` is exactly `value`. */
  header(name: string, value: string): Predicate {
    return { single_predicate: { input: headerInput(name), value_match: { exact: value } } };
  },
  /** Header `name` fully matches the RE2 `regex`. */
  headerMatches(name: string, regex: string): Predicate {
    return { single_predicate: { input: headerInput(name), value_match: re2(regex) } };
  },
  /** The client address (Envoy's remote address, as RBAC's remote_ip sees it) is in one of `cidrs`. */
  sourceIpIn(cidrs: readonly string[], statPrefix: string): Predicate {
    return {
      single_predicate: {
        input: typed('source-ip', 'envoy.extensions.matching.common_inputs.network.v3.SourceIPInput'),
        custom_match: typed('ip', 'envoy.extensions.matching.input_matchers.ip.v3.Ip', { cidr_ranges: cidrs.map(cidrRange), stat_prefix: statPrefix }),
      },
    };
  },
  not(p: Predicate): Predicate {
    return { not_matcher: p };
  },
  /** All of `ps` (nested conjunctions flattened). */
  and(...ps: Predicate[]): Predicate {
    const flat = ps.flatMap((p) => ((p.and_matcher as { predicate?: Predicate[] } | undefined)?.predicate ?? [p]));
    const [only, ...more] = flat;
    return only && !more.length ? only : { and_matcher: { predicate: flat } };
  },
  or(...ps: Predicate[]): Predicate {
    const [only, ...more] = ps;
    return only && !more.length ? only : { or_matcher: { predicate: ps } };
  },
};

/**
 * A regex (RE2, whole value) for the decimal integers greater than `n` (a non-negative safe
 * integer), leading zeros allowed: how a Content-Length above a limit is recognised by a
 * matcher that compares strings only.
 */
export function decimalGreaterThan(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`decimalGreaterThan: ${n} is not a non-negative safe integer`);
  const s = String(n);
  const alternatives = [`[1-9][0-9]{${s.length},}`];
  for (let i = 0; i < s.length; i++) {
    const d = Number(s[i]);
    if (d === 9) continue;
    const rest = s.length - i - 1;
    const next = d + 1 === 9 ? '9' : `[${d + 1}-9]`;
    alternatives.push(`${s.slice(0, i)}${next}${rest ? `[0-9]{${rest}}` : ''}`);
  }
  return `0*(?:${alternatives.join('|')})`;
}

function policy(rule: ReplyRule, extra: JsonObject[]): JsonObject {
  const headers = [
    ...(rule.contentType ? [setHeader('content-type', rule.contentType)] : []),
    ...(rule.headers ?? []),
    ...extra,
  ];
  return typed(rule.plugin, LOCAL_RESPONSE_POLICY, {
    status_code: rule.status,
    ...(rule.bodyFormat !== undefined ? { body_format: { text_format_source: { inline_string: rule.bodyFormat } } } : { body: { inline_string: rule.body } }),
    ...(headers.length ? { response_headers_to_add: headers } : {}),
  });
}

/**
 * The matcher entries for one rule: the unconditional reply headers always, and a variant per
 * combination of the conditional ones (tried first, most conditions first).
 */
function entries(rule: ReplyRule, decorations: readonly ReplyHeaders[]): JsonObject[] {
  const always = decorations.filter((d) => !d.when).flatMap((d) => d.headers);
  const conditional = decorations.filter((d) => d.when);
  const out: JsonObject[] = [];
  for (let mask = (1 << conditional.length) - 1; mask >= 0; mask--) {
    const chosen = conditional.filter((_, i) => mask & (1 << i));
    const predicate = chosen.length ? when.and(rule.when, ...chosen.map((d) => d.when!)) : rule.when;
    out.push({ predicate, on_match: { action: policy(rule, [...always, ...chosen.flatMap((d) => d.headers)]) } });
  }
  return out;
}

/** kongRepliesFilter instances made (each keeps its routes' rules under its own tag). */
let instances = 0;
const NO_RULES: readonly ReplyRule[] = Object.freeze([]);

/**
 * The custom_response filter that gives Kong's answers for `plugins` (tried in the order
 * given: Kong's plugin priority), with the reply headers of `decorators`. Off unless a route
 * has rules.
 */
export function kongRepliesFilter(plugins: readonly HttpFilter[], decorators: readonly HttpFilter[]): HttpFilter {
  const ownRules = (route: IrRoute, ctx: FilterContext): readonly ReplyRule[] => {
    const rules = route.service ? plugins.flatMap((p) => p.replies?.(route, ctx) ?? []) : [];
    return rules.length ? rules : NO_RULES;
  };
  // A route's rules, once per route (a listener's scan reads them for every route, each build).
  const tag = `${KONG_REPLIES_FILTER}#${++instances}`;
  const rulesOf = (route: IrRoute, ctx: FilterContext): readonly ReplyRule[] => derived(ctx, tag, route, ownRules, ctx);
  const headersOf = (route: IrRoute, ctx: FilterContext): ReplyHeaders[] => decorators.flatMap((d) => d.replyHeaders?.(route, ctx) ?? []);
  return {
    name: KONG_REPLIES_FILTER,
    httpFilter(listener, ctx) {
      if (!listener.routes.some((r) => rulesOf(r, ctx).length)) return undefined;
      return { name: KONG_REPLIES_FILTER, disabled: true, typed_config: anyMessage(CUSTOM_RESPONSE, {}) };
    },
    perRoute(route, ctx) {
      const rules = rulesOf(route, ctx);
      if (!rules.length) return undefined;
      return anyMessage(CUSTOM_RESPONSE, {
        custom_response_matcher: {
          matcher_list: { matchers: rules.flatMap((r) => entries(r, headersOf(route, ctx))) },
        },
      });
    },
  };
}

/**
 * Kong's JSON error body as an Envoy format string: the literal `message` followed by the
 * formatter command `command` (which must expand to text that needs no JSON escaping, such
 * as an address).
 */
export function kongJsonFormat(message: string, command: string): string {
  return `{"message":${JSON.stringify(message).slice(0, -1).replace(/%/g, '%%')}${command}"}`;
}
