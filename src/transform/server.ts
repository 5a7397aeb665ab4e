import type protobuf from 'protobufjs';
import type { CompanionTracer } from '../companion-tracing.js';
import { ROUTE_METADATA_KEY, type RouteTransform__Output as RouteTransform } from '../contracts/transform.js';
import { healthMethods } from '../grpc-health.js';
import { GRPC_STATUS, serveGrpc, type BidiHandler } from '../grpc-raw.js';
import { envoysOnly, type TlsSource } from '../tls.js';
import type { Logger } from '../logger.js';
import { messageType } from '../xds/proto-registry.js';
import { kongMessage } from '../kong-message.js';
import { isEmpty, transformBody, transformQuery, type Operations } from './operations.js';
import { headerChanges, headerTable, queryArguments, render, renderOperations, uriCaptures } from './templates.js';
import { webhookFresh, webhookHeaders, webhookSigned, type WebhookHeaders } from './webhooks.js';
import type { CounterKey, WindowUse } from './response-limits.js';
import { additions, addressOnly, atRequest, atResponse, counterKeys, identifierOf, spentUnits, windowUses } from './response-limits.js';
import type { CounterStore, CounterStores } from './counters.js';
import { CLIENT_ADDRESS_ATTRIBUTE, type ResponseRateLimiting__Output } from '../contracts/transform.js';

export const PROCESS_METHOD = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';

interface HeaderValue { key: string; value?: string; raw_value?: Uint8Array }
interface ProcessingRequest {
  /** The request attributes Envoy sends with the first message, by filter name (google.protobuf.Struct). */
  attributes?: Record<string, { fields?: Record<string, { string_value?: string }> }>;
  request_headers?: { headers?: { headers?: HeaderValue[] }; end_of_stream?: boolean };
  response_headers?: { headers?: { headers?: HeaderValue[] }; end_of_stream?: boolean };
  request_body?: { body?: Uint8Array; end_of_stream?: boolean };
  response_body?: { body?: Uint8Array; end_of_stream?: boolean };
}

let types: { req: protobuf.Type; res: protobuf.Type } | undefined;
function processingTypes() {
  types ??= { req: messageType('envoy.service.ext_proc.v3.ProcessingRequest'), res: messageType('envoy.service.ext_proc.v3.ProcessingResponse') };
  return types;
}

/** A header's value: Envoy sends it as raw_value bytes (value for older senders). */
function valueOf(h: HeaderValue): string | undefined {
  return h.raw_value?.length ? Buffer.from(h.raw_value).toString('utf8') : h.value;
}

function header(list: HeaderValue[] | undefined, name: string): string | undefined {
  const h = list?.find((x) => x.key.toLowerCase() === name);
  return h && valueOf(h);
}

const set = (key: string, value: string) => ({ header: { key, raw_value: Buffer.from(value) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });

/** What a stream keeps between its messages. */
export interface StreamState {
  requestType?: string;
  responseType?: string;
  /** The request body's operations, their templates rendered at the request's headers. */
  requestBody?: Operations;
  /** standard-webhooks: the webhook's headers, checked against the body when it arrives. */
  webhook?: WebhookHeaders;
  /** response-ratelimiting: the request's quotas as read at its headers (unset: none, or not read). */
  limits?: { config: ResponseRateLimiting__Output; keys: CounterKey[]; uses: WindowUse[]; store: CounterStore };
}

/** Kong's answer of a plugin that ends the request (kong.response.error: a JSON message); `details` is for Envoy's log. */
function kongAnswer(code: number, message: string, details: string) {
  return {
    immediate_response: {
      status: { code },
      headers: { set_headers: [set('content-type', 'application/json; charset=utf-8')] },
      body: Buffer.from(kongMessage(message)),
      details,
    },
  };
}

/** Kong's 500 for a plugin's error (its handler's error): a template that fails to render, counters that cannot be read. */
const unexpectedError = (details: string) => kongAnswer(500, 'An unexpected error occurred', details);

const RENDER_FAILED = unexpectedError('request-transformer template failed to render');

/** Kong's `kong.response.error(400)`: every standard-webhooks refusal (kong/plugins/standard-webhooks/internal.lua). */
const badWebhook = (details: string) => kongAnswer(400, 'Bad request', `standard-webhooks: ${details}`);

/**
 * A templated route's operations rendered against the request as it arrived (Kong renders
 * every template before any part is changed): its header changes, path, query string and body
 * operations; or undefined when a render fails.
 */
function renderedRequest(t: RouteTransform, hs: HeaderValue[]): { setHeaders: unknown[]; removeHeaders: string[]; path?: string; query?: Operations; body?: Operations } | undefined {
  const list = hs.map((h) => ({ key: h.key, value: valueOf(h) ?? '' }));
  const path = header(hs, ':path') ?? '/';
  const headers = headerTable(list);
  const env = { headers, query: queryArguments(path), captures: uriCaptures(t.path_regex, path) };
  const ops = (o: Operations | null | undefined) => (o && !isEmpty(o) ? renderOperations(o, env) : undefined);
  const hops = ops(t.request_headers);
  const query = ops(t.querystring);
  const body = ops(t.request_body);
  if ((hops && 'error' in hops) || (query && 'error' in query) || (body && 'error' in body)) return undefined;
  let newPath: string | undefined;
  if (t.uri) {
    const uri = render(t.uri, env);
    if ('error' in uri) return undefined;
    const q = path.indexOf('?');
    newPath = uri.value + (q < 0 ? '' : path.slice(q));
  }
  const setHeaders: unknown[] = [];
  const removeHeaders: string[] = [];
  if (hops) {
    const changes = headerChanges(headers, hops as Operations);
    removeHeaders.push(...changes.remove);
    for (const [name, values] of changes.set) {
      values.forEach((v, i) => setHeaders.push({ header: { key: name, raw_value: Buffer.from(v) }, append_action: i === 0 ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'APPEND_IF_EXISTS_OR_ADD' }));
    }
  }
  return { setHeaders, removeHeaders, path: newPath, query: query as Operations | undefined, body: body as Operations | undefined };
}

/**
 * The ext_proc stream for one request: the query string and method at the request headers,
 * the body when it arrives (buffered by Envoy), the response JSON likewise. A body that
 * changes loses its Content-Length at the headers, so the new length is what goes out. A route
 * whose request-transformer holds templates has them rendered at the headers, against the
 * request as it arrived; its header operations are done here too. A route with standard-webhooks
 * has the webhook's headers and age checked at the headers and its signature at the body,
 * before the body's own operations (`nowMs` is the clock the age is read with).
 */
export function processStream(t: RouteTransform | undefined, req: ProcessingRequest, state: StreamState, nowMs = Date.now()): Record<string, unknown> {
  if (req.request_headers) {
    const hs = req.request_headers.headers?.headers ?? [];
    if (t?.standard_webhooks) {
      const webhook = webhookHeaders((name) => header(hs, name));
      if (!webhook) return badWebhook('missing required headers');
      if (!webhookFresh(t.standard_webhooks, webhook, nowMs)) return badWebhook('timestamp tolerance exceeded');
      if (req.request_headers.end_of_stream) return badWebhook('missing required body');
      state.webhook = webhook;
    }
    state.requestType = header(hs, 'content-type');
    const templated = t?.request_headers ? renderedRequest(t, hs) : undefined;
    if (t?.request_headers && !templated) return RENDER_FAILED;
    const setHeaders: unknown[] = templated?.setHeaders ?? [];
    const removeHeaders: string[] = templated?.removeHeaders ?? [];
    const query = templated ? templated.query : t?.querystring;
    state.requestBody = templated ? templated.body : t?.request_body ?? undefined;
    const path = header(hs, ':path') ?? '/';
    const target = templated?.path ?? path;
    const next = query && !isEmpty(query) ? transformQuery(target, query) : target;
    if (next !== path) setHeaders.push(set(':path', next));
    if (t?.http_method) setHeaders.push(set(':method', t.http_method));
    const bodyOps = state.requestBody;
    if (bodyOps && !isEmpty(bodyOps) && !req.request_headers.end_of_stream) removeHeaders.push('content-length');
    // No body at all: Kong's add and append still write one (to an empty JSON object or form),
    // which only a headers response can give: CONTINUE_AND_REPLACE with the new body.
    const created = req.request_headers.end_of_stream && bodyOps && (bodyOps.add.length || bodyOps.append.length)
      ? transformBody(Buffer.alloc(0), state.requestType, bodyOps, true) : undefined;
    if (created) {
      setHeaders.push(set('content-length', String(created.length)));
      return { request_headers: { response: { status: 'CONTINUE_AND_REPLACE', header_mutation: { set_headers: setHeaders, remove_headers: removeHeaders }, body_mutation: { body: created } } } };
    }
    return { request_headers: { response: { status: 'CONTINUE', header_mutation: { set_headers: setHeaders, remove_headers: removeHeaders } } } };
  }
  if (req.request_body) {
    if (state.webhook && !webhookSigned(t?.standard_webhooks ?? {}, state.webhook, req.request_body.body ?? new Uint8Array())) {
      return badWebhook(req.request_body.body?.length ? 'signature not matched' : 'missing required body');
    }
    const ops = state.requestBody;
    const out = ops && !isEmpty(ops) ? transformBody(Buffer.from(req.request_body.body ?? []), state.requestType, ops, true) : undefined;
    return { request_body: { response: out ? { body_mutation: { body: out } } : {} } };
  }
  if (req.response_headers) {
    const hs = req.response_headers.headers?.headers;
    state.responseType = header(hs, 'content-type');
    const json = (state.responseType ?? '').toLowerCase().includes('json');
    const remove = t && !isEmpty(t.response_json) && json && !req.response_headers.end_of_stream ? ['content-length'] : [];
    return { response_headers: { response: { header_mutation: { remove_headers: remove } } } };
  }
  if (req.response_body) {
    const ops = t?.response_json;
    const out = ops && !isEmpty(ops) ? transformBody(Buffer.from(req.response_body.body ?? []), state.responseType, ops, false) : undefined;
    return { response_body: { response: out ? { body_mutation: { body: out } } : {} } };
  }
  return {};
}

/** Kong's 429 of block_on_first_violation. */
const quotaRefused = (name: string) => kongAnswer(429, `API rate limit exceeded for '${name}'`, `response-ratelimiting: ${name} used up`);

/** The response-ratelimiting config a request falls under: its consumer's own on the route, else the route's. */
function limitsFor(t: RouteTransform | undefined, hs: HeaderValue[]): ResponseRateLimiting__Output | undefined {
  if (!t) return undefined;
  const consumers = t.response_ratelimiting_consumers;
  if (consumers && Object.keys(consumers).length) {
    const own = Object.values(consumers)[0]!;
    const id = own.identity_headers ? header(hs, 'x-consumer-id') : undefined;
    if (id && consumers[id]) return consumers[id];
  }
  return t.response_ratelimiting ?? undefined;
}

/** What response-ratelimiting needs besides the stream: the counters, the clock, a logger. */
export interface LimitDeps { counters: CounterStores; now: () => number; logger: Logger }

/**
 * processStream with Kong's response-ratelimiting around it (it runs first, at priority 900,
 * before the transformers and standard-webhooks): at the request headers the quotas are read
 * and either refuse the request or add the upstream's X-RateLimit-Remaining-<name>; at the
 * response headers the upstream's spending is read, answered in the client's headers (or by a
 * 429), and counted. A store that fails is Kong's fault_tolerant: the request goes on unlimited,
 * or gets Kong's 500.
 */
export async function processWithLimits(t: RouteTransform | undefined, req: ProcessingRequest, state: StreamState, deps: LimitDeps, route: string): Promise<Record<string, unknown>> {
  if (req.request_headers) {
    const hs = req.request_headers.headers?.headers ?? [];
    const config = limitsFor(t, hs);
    let upstream: Array<[string, string]> = [];
    if (config) {
      const address = req.attributes?.['envoy.filters.http.ext_proc']?.fields?.[CLIENT_ADDRESS_ATTRIBUTE]?.string_value ?? '';
      const keys = counterKeys(config, identifierOf(config, (n) => header(hs, n), addressOnly(address)), deps.now());
      const store = deps.counters.of(config.redis);
      let counts: number[] | undefined;
      try {
        counts = await store.read(keys);
      } catch (e) {
        deps.logger.error({ err: (e as Error).message, route }, 'response-ratelimiting: failed to get usage');
        if (!config.fault_tolerant) return unexpectedError('response-ratelimiting: counters unavailable');
      }
      if (counts) {
        const uses = windowUses(config, counts);
        const at = atRequest(config, uses);
        if ('refusedBy' in at) return quotaRefused(at.refusedBy);
        upstream = at.upstream;
        state.limits = { config, keys, uses, store };
      }
    }
    const out = processStream(t, req, state, deps.now());
    const mutation = (out.request_headers as { response?: { header_mutation?: { set_headers?: unknown[] } } } | undefined)?.response?.header_mutation;
    if (mutation && upstream.length) mutation.set_headers = [...upstream.map(([k, v]) => set(k, v)), ...(mutation.set_headers ?? [])];
    return out;
  }
  if (req.response_headers && state.limits) {
    const { config, keys, uses, store } = state.limits;
    const hs = req.response_headers.headers?.headers ?? [];
    const values = hs.filter((h) => h.key.toLowerCase() === config.header_name).map((h) => valueOf(h) ?? '');
    const spent = spentUnits(config, values);
    const { headers, refused } = atResponse(config, uses, spent);
    const setHeaders = headers.map(([k, v]) => set(k, v));
    if (refused) {
      return { immediate_response: { status: { code: 429 }, headers: { set_headers: setHeaders }, body: Buffer.alloc(0), details: 'response-ratelimiting: a used-up quota spent' } };
    }
    const add = additions(config, keys, spent);
    if (add.length) store.add(add).catch((e: Error) => deps.logger.error({ err: e.message, route }, 'response-ratelimiting: failed to count'));
    const out = processStream(t, req, state, deps.now());
    const mutation = (out.response_headers as { response: { header_mutation: { set_headers?: unknown[]; remove_headers?: string[] } } }).response.header_mutation;
    mutation.set_headers = [...(mutation.set_headers ?? []), ...setHeaders];
    mutation.remove_headers = [...(mutation.remove_headers ?? []), config.header_name];
    return out;
  }
  return processStream(t, req, state, deps.now());
}

export interface TransformServer { port: number; stop(): Promise<void> }

/** The span name of a Process stream (a child of the span Envoy's gRPC client opens for it). */
export const PROCESS_SPAN = 'envoy.service.ext_proc.v3.ExternalProcessor/Process';

/** The largest ProcessingRequest read: a body Envoy buffered for the transform (its buffer limit) with its headers. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * Starts the ExternalProcessor server; `lookup` gives the current transform of a route. With a
 * tracer, each Process stream whose trace Envoy sampled is a server span, from its first
 * message to its end (error when the companion ends it with an error). Served on the
 * project's own HTTP/2 framing (grpc-raw.ts), as authz and ratelimit are: a stream costs its
 * frames, not grpc-js's stream objects. With TLS, only an Envoy's certificate may connect.
 */
export async function startTransformServer(o: { host: string; port: number; lookup: (route: string) => RouteTransform | undefined; logger: Logger; counters: CounterStores; now?: () => number; tls?: TlsSource; ready?: () => boolean; tracer?: CompanionTracer }): Promise<TransformServer> {
  const deps: LimitDeps = { counters: o.counters, now: o.now ?? Date.now, logger: o.logger };
  const { req: reqType, res: resType } = processingTypes();
  const process: BidiHandler = (call) => {
    const route = call.headers[ROUTE_METADATA_KEY] ?? '';
    const t = o.lookup(route);
    const endSpan = o.tracer?.begin(PROCESS_SPAN, call.headers);
    let over = false;
    const fail = (code: number, message: string) => {
      if (over) return;
      over = true;
      endSpan?.(true);
      call.end(code, message);
    };
    const state: StreamState = {};
    const limited = !!(t?.response_ratelimiting || (t?.response_ratelimiting_consumers && Object.keys(t.response_ratelimiting_consumers).length));
    // A stream's messages are answered in order; only response-ratelimiting waits for its counters.
    let previous: Promise<void> = Promise.resolve();
    const answer = (out: Record<string, unknown>): void => { if (!over) call.write(resType.encode(resType.fromObject(out)).finish()); };
    // A bug here must not hang the request: end the stream, Envoy fails it closed.
    const failed = (e: unknown) => {
      o.logger.error({ err: (e as Error).message, route }, 'transform: processing failed');
      fail(GRPC_STATUS.INTERNAL, 'processing failed');
    };
    return {
      message(b) {
        if (over) return;
        let msg: ProcessingRequest;
        try {
          msg = reqType.toObject(reqType.decode(b), { enums: String });
        } catch (e) {
          o.logger.warn({ err: (e as Error).message, route }, 'transform: undecodable ProcessingRequest');
          fail(GRPC_STATUS.INVALID_ARGUMENT, 'undecodable request');
          return;
        }
        if (!limited) {
          let out: Record<string, unknown>;
          try {
            out = processStream(t, msg, state);
          } catch (e) {
            failed(e);
            return;
          }
          answer(out);
          return;
        }
        previous = previous.then(() => processWithLimits(t, msg, state, deps, route)).then(answer, failed);
      },
      // Envoy half-closes once it has what it needs: the status follows the answers still being made.
      end() {
        previous.then(() => {
          if (over) return;
          over = true;
          endSpan?.(false);
          call.end();
        }, () => undefined);
      },
      // Envoy reset the stream (the request ended or was reset), or the server refused what it sent.
      cancel(refused) {
        if (over) return;
        over = true;
        if (refused) o.logger.warn({ route }, 'transform: a ProcessingRequest refused (over the size limit, or compressed)');
        endSpan?.(refused === true);
      },
    };
  };
  const server = await serveGrpc(o.host, o.port, {
    bidi: { [PROCESS_METHOD]: process },
    unary: healthMethods(o.ready ?? (() => true)),
    maxStreamMessageBytes: MAX_MESSAGE_BYTES,
    tls: o.tls && envoysOnly(o.tls, o.logger),
  });
  return { port: server.port, stop: () => server.stop() };
}
