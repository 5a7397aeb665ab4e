import { ROUTE_CONTEXT_KEY } from '../contracts/authz.js';
import { healthMethods } from '../grpc-health.js';
import { GRPC_STATUS, serveUnary } from '../grpc-raw.js';
import type { CompanionTracer } from '../companion-tracing.js';
import { envoysOnly } from '../tls.js';
import type { TlsSource } from '../tls.js';
import type protobuf from 'protobufjs';
import { messageType } from '../xds/proto-registry.js';
import type { AuthzDecision, AuthzLogger, AuthzRequest } from './types.js';

/**
 * The gRPC face of the authz engine: envoy.service.auth.v3.Authorization/Check, as Envoy's
 * ext_authz filter calls it. CheckRequest → AuthzRequest (method, path with query, lower-case
 * headers, body when Envoy sends it; the policy is named by the context extension `route`),
 * AuthzDecision → CheckResponse (OkHttpResponse or DeniedHttpResponse, dynamic metadata).
 * Messages are decoded and encoded with protobufjs types from the proto registry.
 */

export const CHECK_METHOD = '/envoy.service.auth.v3.Authorization/Check';

/** What the server needs of the engine. */
export interface Checker {
  check(routeId: string, req: AuthzRequest): Promise<AuthzDecision>;
}

export interface AuthzServerOptions {
  /** Each sampled call a child span of Envoy's (companion-tracing.ts). */
  tracer?: CompanionTracer;
  host: string;
  /** 0 picks a free port. */
  port: number;
  engine: Checker;
  logger: AuthzLogger;
  /** Largest CheckRequest accepted (headers plus up to 64 KiB of body). Default 1 MiB. */
  maxRequestBytes?: number;
  /** mTLS: only Envoys with a certificate of the CA are answered. */
  tls?: TlsSource;
  /** gRPC health (grpc.health.v1.Health/Check): SERVING while this is true. Default always. */
  ready?: () => boolean;
}

export interface AuthzServer {
  port: number;
  /** Counters for metrics and tests. */
  stats(): { checks: number; allowed: number; denied: number; malformed: number };
  stop(graceMs?: number): Promise<void>;
}

// google.rpc.Code
const RPC_OK = 0;
const RPC_PERMISSION_DENIED = 7;
const RPC_UNAUTHENTICATED = 16;
// envoy.config.core.v3.HeaderValueOption.HeaderAppendAction
const APPEND_IF_EXISTS_OR_ADD = 0;
const OVERWRITE_IF_EXISTS_OR_ADD = 2;

interface DecodedCheck {
  attributes?: {
    context_extensions?: Record<string, string>;
    source?: { address?: { socket_address?: { address?: string } } };
    request?: { http?: { method?: string; path?: string; protocol?: string; scheme?: string; headers?: Record<string, string>; header_map?: { headers?: Array<{ key?: string; raw_value?: Uint8Array }> }; body?: string; raw_body?: Uint8Array } };
  };
}

let types: { req: protobuf.Type; res: protobuf.Type } | undefined;

function checkTypes(): { req: protobuf.Type; res: protobuf.Type } {
  types ??= { req: messageType('envoy.service.auth.v3.CheckRequest'), res: messageType('envoy.service.auth.v3.CheckResponse') };
  return types;
}

/** CheckRequest bytes → the route's policy name and the engine's request. */
export function decodeCheckRequest(bytes: Uint8Array): { routeId: string; request: AuthzRequest } {
  const { req } = checkTypes();
  const m: DecodedCheck = req.toObject(req.decode(bytes));
  const http = m.attributes?.request?.http ?? {};
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(http.headers ?? {})) if (k[0] !== ':') headers[k.toLowerCase()] = v;
  // encode_raw_headers (listeners with hmac-auth): each header line apart, joined here as Envoy
  // joins them otherwise, and kept apart for the plugins that read a header's first value.
  let headerValues: Record<string, string[]> | undefined;
  for (const h of http.header_map?.headers ?? []) {
    const k = (h.key ?? '').toLowerCase();
    if (!k || k[0] === ':') continue;
    const v = Buffer.from(h.raw_value ?? []).toString('utf8');
    headerValues ??= {};
    (headerValues[k] ??= []).push(v);
    headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  }
  const request: AuthzRequest = { method: http.method ?? 'GET', path: http.path ?? '/', headers, ...(headerValues ? { headerValues } : {}) };
  if (http.protocol) request.protocol = http.protocol;
  if (http.scheme) request.scheme = http.scheme;
  const ip = m.attributes?.source?.address?.socket_address?.address;
  if (ip) request.clientIp = ip;
  if (http.raw_body && http.raw_body.length) {
    request.bodyBytes = Buffer.from(http.raw_body);
    request.body = request.bodyBytes.toString('utf8');
  } else if (http.body) {
    request.body = http.body;
    request.bodyBytes = Buffer.from(http.body, 'utf8');
  }
  return { routeId: m.attributes?.context_extensions?.[ROUTE_CONTEXT_KEY] ?? '', request };
}

const header = (key: string, value: string) => ({ header: { key, value }, append_action: OVERWRITE_IF_EXISTS_OR_ADD });
/** Set-Cookie headers, each added beside the others (one cookie a header, never comma-joined). */
const cookieHeaders = (values: readonly string[] | undefined) => (values ?? []).map((value) => ({ header: { key: 'set-cookie', value }, append_action: APPEND_IF_EXISTS_OR_ADD }));

/** A decision → the CheckResponse object (protobufjs plain-object form; Struct in its camelCase). */
export function checkResponseObject(d: AuthzDecision): Record<string, unknown> {
  if (d.allow) {
    const ok: Record<string, unknown> = {
      headers: Object.entries(d.headersToSet).map(([k, v]) => header(k, v)),
      headers_to_remove: d.headersToRemove,
    };
    if (d.queryParamsToRemove?.length) ok.query_parameters_to_remove = d.queryParamsToRemove;
    const toClient = [...Object.entries(d.responseHeaders ?? {}).map(([k, v]) => header(k, v)), ...cookieHeaders(d.setCookies)];
    if (toClient.length) ok.response_headers_to_add = toClient;
    const res: Record<string, unknown> = { status: { code: RPC_OK }, ok_response: ok };
    const meta = Object.entries(d.metadata);
    if (meta.length) res.dynamic_metadata = { fields: Object.fromEntries(meta.map(([k, v]) => [k, { stringValue: v }])) };
    return res;
  }
  return {
    status: { code: d.status === 401 ? RPC_UNAUTHENTICATED : RPC_PERMISSION_DENIED },
    denied_response: {
      status: { code: d.status },
      headers: [...Object.entries(d.headers).map(([k, v]) => header(k, v)), ...cookieHeaders(d.setCookies)],
      body: d.body ? JSON.stringify(d.body) : '',
    },
  };
}

/** A decision → CheckResponse bytes. */
export function encodeCheckResponse(d: AuthzDecision): Uint8Array {
  return checkTypes().res.encode(checkResponseObject(d)).finish();
}

/** Starts the Check server; resolves once it is bound. */
export async function startAuthzServer(opts: AuthzServerOptions): Promise<AuthzServer> {
  checkTypes();
  const counts = { checks: 0, allowed: 0, denied: 0, malformed: 0 };
  const check = async (request: Uint8Array): Promise<Uint8Array | { code: number; message: string }> => {
    counts.checks++;
    let parsed: ReturnType<typeof decodeCheckRequest>;
    try {
      parsed = decodeCheckRequest(request);
    } catch (e) {
      counts.malformed++;
      opts.logger.warn({ err: (e as Error).message }, 'authz: undecodable CheckRequest');
      return { code: GRPC_STATUS.INVALID_ARGUMENT, message: 'undecodable CheckRequest' };
    }
    // The engine never throws; a failure inside it is a 500 decision.
    const d = await opts.engine.check(parsed.routeId, parsed.request);
    if (d.allow) counts.allowed++;
    else counts.denied++;
    return encodeCheckResponse(d);
  };
  const server = await serveUnary(opts.host, opts.port, { [CHECK_METHOD]: opts.tracer ? opts.tracer.traced('envoy.service.auth.v3.Authorization/Check', check) : check, ...healthMethods(opts.ready ?? (() => true)) }, opts.maxRequestBytes ?? 1024 * 1024, opts.tls && envoysOnly(opts.tls, opts.logger));
  return { port: server.port, stats: () => ({ ...counts }), stop: (graceMs = 2000) => server.stop(graceMs) };
}
