/**
 * One Envoy access-log entry (envoy.data.accesslog.v3.HTTPAccessLogEntry, as als-decode.ts
 * reads it) → Kong's log entry (kong.log.serialize), the same shape file-log writes: request,
 * response, latencies, service, route, consumer, client_ip, started_at, upstream_uri, tries.
 * Pure. Envoy sends only the allow-listed headers, and the path is written without its query.
 * Empty parts are left out, as file-log's omit_empty_values does.
 */
import { UNLOGGED_TAG } from '../contracts/log.js';
import type { AccessLogEntry } from './als-decode.js';

type Obj = { [k: string]: unknown };

function withoutQuery(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

const hasKeys = (o: object) => { for (const _ in o) return true; return false; };

/** The Kong entry of one HTTPAccessLogEntry; `tags` names Kong's service and route (custom tags kong.service, kong.route). */
export function kongEntry(e: AccessLogEntry): Obj {
  const reqHeaders = { ...e.requestHeaders };
  // Headers Envoy sends in fields of their own that a key-auth plugin reads a key from: never logged.
  const unlogged = e.tags[UNLOGGED_TAG];
  if (unlogged) for (const h of unlogged.split(',')) delete reqHeaders[h];
  const forwardedPath = reqHeaders['x-forwarded-path'];
  const forwardedHost = reqHeaders['x-forwarded-host'];
  delete reqHeaders['x-forwarded-path'];
  delete reqHeaders['x-forwarded-host'];
  if (forwardedHost) reqHeaders.host = forwardedHost;
  else if (e.authority) reqHeaders.host = e.authority;
  const uri = forwardedPath ?? withoutQuery(e.path);
  const scheme = reqHeaders['x-forwarded-proto'] ?? e.scheme ?? 'http';

  const out: Obj = {};
  const request: Obj = {};
  if (e.method) request.method = e.method;
  if (uri !== undefined) { request.uri = uri; request.url = `${scheme}://${reqHeaders.host ?? ''}${uri}`; }
  request.size = e.requestBodyBytes;
  if (hasKeys(reqHeaders)) request.headers = reqHeaders;
  out.request = request;
  const response: Obj = { status: e.status, size: e.responseBodyBytes };
  if (hasKeys(e.responseHeaders)) response.headers = { ...e.responseHeaders };
  out.response = response;
  const latencies: Obj = {};
  if (e.totalMs !== undefined) latencies.request = e.totalMs;
  // Kong's serializer: proxy is the upstream's wait, -1 when no upstream answered; kong is the
  // time before the request went upstream, or for an answer of Kong's own its response latency.
  latencies.proxy = e.upstreamTxMs !== undefined && e.upstreamRxMs !== undefined ? e.upstreamRxMs - e.upstreamTxMs : -1;
  const kong = e.upstreamTxMs ?? e.downstreamTxMs ?? e.totalMs;
  if (kong !== undefined) latencies.kong = kong;
  if (hasKeys(latencies)) out.latencies = latencies;
  const service = e.tags['kong.service'];
  const route = e.tags['kong.route'];
  const serviceId = e.tags['kong.service_id'];
  const serviceHost = e.tags['kong.service_host'];
  if (service) out.service = { name: service, ...(serviceId ? { id: serviceId } : {}), ...(serviceHost ? { host: serviceHost } : {}) };
  const routeId = e.tags['kong.route_id'];
  if (route) out.route = routeId ? { id: routeId, name: route } : { name: route };
  if (e.consumerId || e.consumerUsername) {
    const consumer: Obj = {};
    if (e.consumerId) consumer.id = e.consumerId;
    if (e.consumerCustomId) consumer.custom_id = e.consumerCustomId;
    if (e.consumerUsername) consumer.username = e.consumerUsername;
    out.consumer = consumer;
  }
  if (e.clientIp) out.client_ip = e.clientIp;
  if (e.startedAt !== undefined) out.started_at = e.startedAt;
  if (e.upstreamHost) {
    const up = withoutQuery(e.path);
    if (up !== undefined) out.upstream_uri = up;
    out.upstream_host = e.upstreamHost;
    out.tries = e.attempts ?? 1;
  }
  return out;
}
