import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's correlation-id: a header_mutation filter first in the chain gives a request that has
 * no such header a random UUID (Envoy's %UNIQUE_ID%), keeps the client's when it has one, and
 * with echo_downstream copies the request's value onto the response, local replies included.
 */

export const CORRELATION_ID_FILTER = 'frontdesk.correlation_id';

const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';
const HEADER_MUTATION_PER_ROUTE = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute';

function configOf(r: IrRoute): FeatureOf<'correlation-id'> | undefined {
  return r.service ? r.plugins['correlation-id']?.feature : undefined;
}

function used(l: IrListener): boolean {
  return l.routes.some((r) => configOf(r) !== undefined);
}

/** The header_mutation per-route config for one correlation-id config. */
export function correlationMutations(c: FeatureOf<'correlation-id'>): JsonObject {
  const name = c.header_name.toLowerCase();
  return {
    request_mutations: [{ append: { header: { key: name, value: '%UNIQUE_ID%' }, append_action: 'ADD_IF_ABSENT' } }],
    ...(c.echo_downstream
      ? { response_mutations: [{ append: { header: { key: name, value: `%REQ(${name})%` }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } }] }
      : {}),
  };
}

export const correlationIdFilter: HttpFilter = {
  name: CORRELATION_ID_FILTER,
  httpFilter(l) {
    return used(l) ? { name: CORRELATION_ID_FILTER, disabled: true, typed_config: anyMessage(HEADER_MUTATION, { mutations: {} }) } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    return c ? anyMessage(HEADER_MUTATION_PER_ROUTE, { mutations: correlationMutations(c) }) : undefined;
  },
  replyHeaders(r) {
    const c = configOf(r);
    if (!c?.echo_downstream) return [];
    const name = c.header_name.toLowerCase();
    return [{ headers: [{ header: { key: name, value: `%REQ(${name})%` }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] }];
  },
};
