/**
 * The transform companion's contract (proto/frontdesk/transform/v1/transform.proto): its type
 * URL, its messages (types generated from the .proto), and the IR → `RouteTransform` resources:
 * the parts of Kong's request-/response-transformer that Envoy cannot do itself (bodies, the
 * query string, the method, the response JSON), Kong's standard-webhooks check of a
 * webhook's signature over its body, and Kong's response-ratelimiting (quotas the upstream
 * spends by a response header). Pure: no I/O, no clock, no logger.
 */
import type { GatewayIR, IrRoute } from '../ir/types.js';
import { hasTemplate } from '../kong-template.js';
import { splitColon } from '../kong-pairs.js';
import { consumerId, hasAuthPlugin } from './authz.js';
import { byName, contentAddressedResource, type CompanionResource } from './companion.js';
import { redisMessage, scopeKey } from './ratelimit.js';
import type { Operations, Operations__Output } from './generated/frontdesk/transform/v1/Operations.js';
import type { Pair } from './generated/frontdesk/transform/v1/Pair.js';
import type { ResponseRateLimiting, ResponseRateLimiting__Output } from './generated/frontdesk/transform/v1/ResponseRateLimiting.js';
import type { RouteTransform, RouteTransform__Output } from './generated/frontdesk/transform/v1/RouteTransform.js';

export type { Operations, Operations__Output, ResponseRateLimiting__Output, RouteTransform, RouteTransform__Output };
export type { Pair__Output } from './generated/frontdesk/transform/v1/Pair.js';

export const TRANSFORM_TYPE_URL = 'type.googleapis.com/frontdesk.transform.v1.RouteTransform';

/** The transform type URL's message, as the companion decodes it. */
export interface TransformMessages {
  [TRANSFORM_TYPE_URL]: RouteTransform__Output;
}

/** gRPC metadata Envoy sends with each ext_proc stream (per-route override): the route's RouteTransform, by its content hash. */
export const ROUTE_METADATA_KEY = 'x-frontdesk-route';

/**
 * The request attribute Envoy sends with a response-ratelimiting route's first message: the
 * client's address (ip:port, the one Envoy's use_remote_address settled on), Kong's
 * get_forwarded_ip, the identifier when no consumer or credential is known.
 */
export const CLIENT_ADDRESS_ATTRIBUTE = 'source.address';

/** Kong's operations of one part, each keyed by the part (`body`, `querystring`, `json`). */
interface PartOperations<Part extends string> {
  remove: Record<Part, string[]>;
  rename: Record<Part, string[]>;
  replace: Record<Part, string[]>;
  add: Record<Part, string[]>;
  append: Record<Part, string[]>;
}

/** Kong's "name:value", both sides trimmed. */
function pair(entry: string): Pair {
  const p = splitColon(entry);
  return { name: p?.name.trim() ?? entry.trim(), value: p?.value.trim() ?? '' };
}

function operations<Part extends string>(c: PartOperations<Part>, part: Part): Operations | undefined {
  const o = {
    remove: c.remove[part], rename: c.rename[part].map(pair), replace: c.replace[part].map(pair), add: c.add[part].map(pair), append: c.append[part].map(pair),
  };
  return o.remove.length || o.rename.length || o.replace.length || o.add.length || o.append.length ? o : undefined;
}

/**
 * key-auth's hide_credentials with key_in_body: the key names, removed from the body of every
 * request the route accepts (ext_authz cannot edit a body; the key was checked by then). Kong's
 * key-auth (priority 1250) strips them before request-transformer (801) runs: they go first.
 */
function hiddenBodyKeys(r: IrRoute): string[] {
  const k = r.plugins['key-auth']?.feature;
  return k && k.key_in_body && k.hide_credentials ? k.key_names : [];
}

/** The request body's operations: key-auth's strip of the key, then request-transformer's. */
function requestBodyOperations(r: IrRoute): Operations | undefined {
  const req = r.plugins['request-transformer']?.feature;
  const own = req && operations(req, 'body');
  const keys = hiddenBodyKeys(r);
  if (!keys.length) return own;
  const remove = [...new Set([...keys, ...(own?.remove ?? [])])];
  return own ? { ...own, remove } : { remove, rename: [], replace: [], add: [], append: [] };
}

/**
 * A templated config's header operations, for the companion (Envoy's header_mutation cannot
 * render them, and the templates must read the headers as they arrived): names lower case, as
 * Envoy's mutations write them; the Host header stays the route's host rewrite.
 */
function templatedHeaderOperations(c: NonNullable<IrRoute['plugins']['request-transformer']>['feature']): Operations {
  const lower = (p: Pair): Pair => ({ name: p.name!.toLowerCase(), value: p.value });
  const notHost = (p: Pair) => p.name !== 'host';
  // As Envoy's own mutations (resources/filters/request-transformer.ts): an entry without a
  // value adds nothing, and a replace without one removes the header.
  const values = (list: string[]) => list.map(pair).map(lower).filter((p) => notHost(p) && p.value !== '');
  const cleared = c.replace.headers.map(pair).map(lower).filter((p) => notHost(p) && p.value === '').map((p) => p.name!);
  return {
    remove: [...c.remove.headers.map((n) => n.trim().toLowerCase()).filter((n) => n !== 'host'), ...cleared],
    rename: c.rename.headers.map(pair).map((p) => ({ name: p.name!.toLowerCase(), value: p.value!.toLowerCase() })).filter(notHost),
    replace: values(c.replace.headers),
    add: values(c.add.headers),
    append: values(c.append.headers),
  };
}

type ResponseRateLimitingPlugin = NonNullable<IrRoute['plugins']['response-ratelimiting']>;

/** One response-ratelimiting plugin of a route as the companion counts it. */
function responseRateLimiting(r: IrRoute, p: ResponseRateLimitingPlugin): ResponseRateLimiting {
  const c = p.feature;
  return {
    scope: scopeKey(r, p.scope), limit_by: c.limit_by, policy: c.policy, fault_tolerant: c.fault_tolerant,
    block_on_first_violation: c.block_on_first_violation, hide_client_headers: c.hide_client_headers, header_name: c.header_name,
    limits: c.limits.map((l) => ({ name: l.name, windows: l.windows.map((w) => ({ unit: w.unit, limit: w.limit })) })),
    ...(c.policy === 'redis' && c.redis.host ? { redis: redisMessage(c.redis) } : {}),
    identity_headers: hasAuthPlugin(r),
  };
}

/** The consumers' own response-ratelimiting on a route, by consumer id (sorted). */
function consumerResponseRateLimiting(r: IrRoute, consumers: GatewayIR['consumers']): Record<string, ResponseRateLimiting> | undefined {
  const out: Array<[string, ResponseRateLimiting]> = [];
  for (const c of consumers) {
    const p = r.consumerPlugins[c.key]?.['response-ratelimiting'];
    if (p) out.push([consumerId(c), responseRateLimiting(r, p)]);
  }
  return out.length ? Object.fromEntries(out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : undefined;
}

/** Whether a consumer of the route has a response-ratelimiting of its own there (the route's transform then depends on the consumers). */
function hasConsumerResponseLimits(r: IrRoute): boolean {
  for (const plugins of Object.values(r.consumerPlugins)) if (plugins['response-ratelimiting']) return true;
  return false;
}

/** The RouteTransform message of a route, or undefined when Envoy alone serves its transformers and it has no standard-webhooks or response-ratelimiting. */
function routeTransformMessage(r: IrRoute, consumers: GatewayIR['consumers']): RouteTransform | undefined {
  if (!r.service) return undefined;
  const req = r.plugins['request-transformer']?.feature;
  const res = r.plugins['response-transformer']?.feature;
  const requestBody = requestBodyOperations(r);
  const querystring = req && operations(req, 'querystring');
  const json = res && operations(res, 'json');
  const responseJson = res && json && { ...json, replace_types: res.replace.json_types, add_types: res.add.json_types, append_types: res.append.json_types };
  const templated = req?.templated === true;
  const webhooks = r.plugins['standard-webhooks']?.feature;
  const own = r.plugins['response-ratelimiting'];
  const responseLimits = own && responseRateLimiting(r, own);
  const consumerLimits = hasConsumerResponseLimits(r) ? consumerResponseRateLimiting(r, consumers) : undefined;
  if (!requestBody && !querystring && !req?.http_method && !responseJson && !templated && !webhooks && !responseLimits && !consumerLimits) return undefined;
  return {
    route: r.routeName, request_body: requestBody, querystring, http_method: req?.http_method, response_json: responseJson,
    ...(webhooks ? { standard_webhooks: { secret_v1: webhooks.secret_v1, tolerance_second: webhooks.tolerance_second } } : {}),
    ...(responseLimits ? { response_ratelimiting: responseLimits } : {}),
    ...(consumerLimits ? { response_ratelimiting_consumers: consumerLimits } : {}),
    ...(templated ? {
      request_headers: templatedHeaderOperations(req),
      ...(req.replace.uri !== undefined && hasTemplate(req.replace.uri) ? { uri: req.replace.uri } : {}),
      ...(r.path?.kind === 'regex' ? { path_regex: r.path.value } : {}),
    } : {}),
  };
}

const transforms = new WeakMap<IrRoute, { value: { message: RouteTransform; resource: CompanionResource } | null; consumers: GatewayIR['consumers'] }>();

/**
 * The RouteTransform of a route with its resource, named by its content (computed once per IR
 * route), or undefined when Envoy alone serves its transformers. Envoy sends the name as
 * ROUTE_METADATA_KEY; `route` in the message is the Kong route's name, for logs.
 */
export function routeTransform(r: IrRoute, consumers: GatewayIR['consumers']): { message: RouteTransform; resource: CompanionResource } | undefined {
  let t = transforms.get(r);
  // A consumer's own response-ratelimiting names the consumer by id: its transform follows the consumers.
  if (t === undefined || (t.consumers !== consumers && hasConsumerResponseLimits(r))) {
    const message = routeTransformMessage(r, consumers);
    t = { value: message ? { message, resource: contentAddressedResource(TRANSFORM_TYPE_URL, message) } : null, consumers };
    transforms.set(r, t);
  }
  return t.value ?? undefined;
}

/** One RouteTransform resource per distinct transform of the routes that need the companion. */
export function transformResources(ir: Pick<GatewayIR, 'routes' | 'consumers'>): CompanionResource[] {
  const out = new Map<string, CompanionResource>();
  for (const r of ir.routes) {
    const t = routeTransform(r, ir.consumers)?.resource;
    if (t && !out.has(t.name)) out.set(t.name, t);
  }
  return byName([...out.values()]);
}
