import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, type JsonObject } from '../builders.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's correlation-id: a header_mutation filter first in the chain gives a request that has
 * no such header a random UUID (Envoy's %UNIQUE_ID%; with Kong's default "uuid#counter", the
 * counter script after it writes "<worker uuid>#<n>"), keeps the client's when it has one, and
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

/** Where the header_mutation hands the counter script a fresh random UUID (removed by the script). */
export const WORKER_UUID_HEADER = 'x-frontdesk-correlation-uuid';
export const CORRELATION_COUNTER_FILTER = 'frontdesk.correlation_id.counter';

const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';
const LUA_PER_ROUTE = 'envoy.extensions.filters.http.lua.v3.LuaPerRoute';
const COUNTER_SOURCE = 'correlation-id-counter';

/**
 * Kong's "uuid#counter" generator (kong/plugins/correlation-id/handler.lua): a UUID made once
 * per worker and a counter of the worker's requests, "<uuid>#<n>". Envoy's Lua keeps one state
 * per worker thread, so the script's locals are that worker's: the UUID is the first request's
 * fresh one (%UNIQUE_ID%, handed over in a header the script removes), the counter counts on.
 * A request that brings its own id keeps it, as Kong keeps it.
 */
const COUNTER_SCRIPT = `
local worker_uuid = nil
local counter = 0
function envoy_on_request(handle)
  local headers = handle:headers()
  local fresh = headers:get("${WORKER_UUID_HEADER}")
  headers:remove("${WORKER_UUID_HEADER}")
  local name = handle:metadata():get("header")
  if name == nil or headers:get(name) ~= nil then return end
  if worker_uuid == nil then worker_uuid = fresh end
  counter = counter + 1
  headers:replace(name, worker_uuid .. "#" .. counter)
end
`;

function counts(c: FeatureOf<'correlation-id'>): boolean {
  return c.generator === 'uuid#counter';
}

/** The header_mutation per-route config for one correlation-id config. */
export function correlationMutations(c: FeatureOf<'correlation-id'>): JsonObject {
  const name = c.header_name.toLowerCase();
  return {
    request_mutations: [counts(c)
      ? { append: { header: { key: WORKER_UUID_HEADER, value: '%UNIQUE_ID%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } }
      : { append: { header: { key: name, value: '%UNIQUE_ID%' }, append_action: 'ADD_IF_ABSENT' } }],
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

/** envoy.filters.http.lua: Kong's "uuid#counter" ids, on the routes whose correlation-id asks for them. */
export const correlationCounterFilter: HttpFilter = {
  name: CORRELATION_COUNTER_FILTER,
  httpFilter(l) {
    if (!l.routes.some((r) => { const c = configOf(r); return c !== undefined && counts(c); })) return undefined;
    return { name: CORRELATION_COUNTER_FILTER, disabled: true, typed_config: anyMessage(LUA, { source_codes: { [COUNTER_SOURCE]: { inline_string: COUNTER_SCRIPT } } }) };
  },
  perRoute(r) {
    const c = configOf(r);
    return c && counts(c) ? anyMessage(LUA_PER_ROUTE, { name: COUNTER_SOURCE }) : undefined;
  },
  patchRoute(r, envoyRoute) {
    const c = configOf(r);
    if (!c || !counts(c)) return;
    const metadata = (envoyRoute.metadata ?? {}) as JsonObject;
    const filterMetadata = (metadata.filter_metadata ?? {}) as JsonObject;
    envoyRoute.metadata = { ...metadata, filter_metadata: { ...filterMetadata, [CORRELATION_COUNTER_FILTER]: { header: c.header_name.toLowerCase() } } };
  },
};
