import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { splitColon } from '../../kong-pairs.js';
import { hasTemplate } from '../../kong-template.js';
import { anyMessage, formatterLiteral, type JsonObject } from '../builders.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's request-transformer, header operations and replace.uri: a header_mutation filter after
 * authentication and rate limits (Kong's priority 801 runs after them) applies, in Kong's order,
 * remove, rename, replace (only a header that is there), add (only one that is not) and append,
 * each seeing the result of the ones before, as Kong's handler does. The Host header is Kong's
 * special case: only replace touches it, and it becomes the route's host rewrite; replace.uri
 * becomes the route's path rewrite (the query string is kept, as Kong's set_path keeps it).
 * A config holding a `$(...)` template is the transform companion's, headers and path too.
 */

export const REQUEST_TRANSFORMER_FILTER = 'frontdesk.request_transformer';

const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_MUTATION_PER_ROUTE = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute';

function configOf(r: IrRoute): FeatureOf<'request-transformer'> | undefined {
  return r.service ? r.plugins['request-transformer']?.feature : undefined;
}

/** The header mutations Envoy applies for a route: none when its config holds a template (the transform companion then does every part). */
function envoyMutations(r: IrRoute): JsonObject[] {
  const c = configOf(r);
  return c && !c.templated ? requestHeaderMutations(c) : [];
}

/** `name:value` → the lower-case name and the value without surrounding whitespace (what a receiver reads). */
export function pair(entry: string): { name: string; value: string } {
  const p = splitColon(entry)!;
  return { name: p.name.trim().toLowerCase(), value: p.value.trim() };
}

function mutate(key: string, value: string, action: string): JsonObject {
  return { append: { header: { key, value }, append_action: action } };
}

const isHost = (name: string) => name === 'host';

/** The request mutations, in Kong's order. */
export function requestHeaderMutations(c: FeatureOf<'request-transformer'>): JsonObject[] {
  const out: JsonObject[] = [];
  for (const n of c.remove.headers) {
    const name = n.toLowerCase();
    if (!isHost(name)) out.push({ remove: name });
  }
  for (const e of c.rename.headers) {
    const { name: from, value: to } = pair(e);
    if (isHost(from)) continue; // Kong's handler never sees Host among the headers it renames
    if (to.toLowerCase() === from) continue; // a rename to the same name (any case) keeps the header, as Kong's does
    out.push(mutate(to.toLowerCase(), `%REQ(${from})%`, 'OVERWRITE_IF_EXISTS_OR_ADD'), { remove: from });
  }
  for (const e of c.replace.headers) {
    const { name, value } = pair(e);
    if (isHost(name)) continue; // the route's host rewrite
    // Kong's replace with an empty value sets the header to nil: it is removed if there.
    out.push(value === '' ? { remove: name } : mutate(name, formatterLiteral(value), 'OVERWRITE_IF_EXISTS'));
  }
  for (const e of c.add.headers) {
    const { name, value } = pair(e);
    if (!isHost(name) && value !== '') out.push(mutate(name, formatterLiteral(value), 'ADD_IF_ABSENT'));
  }
  for (const e of c.append.headers) {
    const { name, value } = pair(e);
    if (!isHost(name) && value !== '') out.push(mutate(name, formatterLiteral(value), 'APPEND_IF_EXISTS_OR_ADD'));
  }
  return out;
}

/** replace.headers "host:<value>": the last one wins, as in Kong's loop. */
function hostReplacement(c: FeatureOf<'request-transformer'>): string | undefined {
  let host: string | undefined;
  for (const e of c.replace.headers) {
    const { name, value } = pair(e);
    if (isHost(name) && value !== '') host = value;
  }
  return host;
}

/** An RE2 substitution that writes `s` literally. */
function literalSubstitution(s: string): string {
  return s.replace(/\\/g, '\\\\');
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => envoyMutations(r).length > 0);
}

export const requestTransformerFilter: HttpFilter = {
  name: REQUEST_TRANSFORMER_FILTER,
  httpFilter(l) {
    return used(l) ? { name: REQUEST_TRANSFORMER_FILTER, disabled: true, typed_config: anyMessage(HEADER_MUTATION, { mutations: {} }) } : undefined;
  },
  perRoute(r) {
    const mutations = envoyMutations(r);
    return mutations.length ? anyMessage(HEADER_MUTATION_PER_ROUTE, { mutations: { request_mutations: mutations } }) : undefined;
  },
  patchRoute(r, envoyRoute) {
    const c = configOf(r);
    const action = envoyRoute.route as JsonObject | undefined;
    if (!c || !action) return;
    const host = hostReplacement(c);
    if (host !== undefined) {
      delete action.auto_host_rewrite;
      action.host_rewrite_literal = host;
    }
    if (c.replace.uri !== undefined && hasTemplate(c.replace.uri)) {
      // The companion sets the rendered path; no rewrite of Envoy's may touch it after.
      delete action.prefix_rewrite;
      delete action.regex_rewrite;
    } else if (c.replace.uri !== undefined) {
      delete action.prefix_rewrite;
      action.regex_rewrite = { pattern: { regex: '^.*$' }, substitution: literalSubstitution(c.replace.uri) };
    }
  },
};
