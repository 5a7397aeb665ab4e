import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, formatterLiteral, type JsonObject } from '../builders.js';
import type { HttpFilter } from './registry.js';
import { pair } from './request-transformer.js';

/**
 * Kong's response-transformer, header operations: a header_mutation filter applies to every
 * response, in Kong's order, remove, rename, replace (only a header that is there), add (only
 * one that is not) and append. Kong decides replace and add on the headers as the upstream sent
 * them; here each operation sees the ones before (they differ only for a header named in two
 * operations). Local replies pass through it too.
 */

export const RESPONSE_TRANSFORMER_FILTER = 'frontdesk.response_transformer';

const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_MUTATION_PER_ROUTE = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute';

function configOf(r: IrRoute): FeatureOf<'response-transformer'> | undefined {
  return r.service ? r.plugins['response-transformer']?.feature : undefined;
}

function mutate(key: string, value: string, action: string): JsonObject {
  return { append: { header: { key, value }, append_action: action } };
}

/** The response mutations, in Kong's order. */
export function responseHeaderMutations(c: FeatureOf<'response-transformer'>): JsonObject[] {
  const out: JsonObject[] = [];
  for (const n of c.remove.headers) out.push({ remove: n.toLowerCase() });
  for (const e of c.rename.headers) {
    const { name: from, value: to } = pair(e);
    if (to.toLowerCase() === from) continue; // a rename to the same name (any case) keeps the header
    out.push(mutate(to.toLowerCase(), `%RESP(${from})%`, 'OVERWRITE_IF_EXISTS_OR_ADD'), { remove: from });
  }
  // Kong skips an entry whose value is empty.
  for (const e of c.replace.headers) { const { name, value } = pair(e); if (value !== '') out.push(mutate(name, formatterLiteral(value), 'OVERWRITE_IF_EXISTS')); }
  for (const e of c.add.headers) { const { name, value } = pair(e); if (value !== '') out.push(mutate(name, formatterLiteral(value), 'ADD_IF_ABSENT')); }
  for (const e of c.append.headers) { const { name, value } = pair(e); if (value !== '') out.push(mutate(name, formatterLiteral(value), 'APPEND_IF_EXISTS_OR_ADD')); }
  return out;
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => { const c = configOf(r); return c !== undefined && responseHeaderMutations(c).length > 0; });
}

export const responseTransformerFilter: HttpFilter = {
  name: RESPONSE_TRANSFORMER_FILTER,
  httpFilter(l) {
    return used(l) ? { name: RESPONSE_TRANSFORMER_FILTER, disabled: true, typed_config: anyMessage(HEADER_MUTATION, { mutations: {} }) } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    const mutations = c ? responseHeaderMutations(c) : [];
    return mutations.length ? anyMessage(HEADER_MUTATION_PER_ROUTE, { mutations: { response_mutations: mutations } }) : undefined;
  },
};
