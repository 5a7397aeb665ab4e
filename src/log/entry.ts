/**
 * One Envoy access-log entry (envoy.data.accesslog.v3.HTTPAccessLogEntry, as protobufjs decodes
 * it) → Kong's log entry (kong.log.serialize), the same shape file-log writes: request,
 * response, latencies, service, route, consumer, client_ip, started_at, upstream_uri, tries.
 * Pure. Envoy sends only the allow-listed headers, and the path is written without its query.
 */

type Obj = { [k: string]: unknown };

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function ms(d: unknown): number | undefined {
  const o = obj(d);
  if (o.seconds === undefined && o.nanos === undefined) return undefined;
  return Math.round(Number(o.seconds ?? 0) * 1000 + Number(o.nanos ?? 0) / 1e6);
}

function withoutQuery(path: string | undefined): string | undefined {
  return path?.split('?')[0];
}

/** A google.protobuf.Struct's string field, as protobufjs decodes it. */
function structString(s: unknown, key: string): string | undefined {
  const v = obj(obj(obj(s).fields)[key]);
  return str(v.string_value ?? v.stringValue);
}

function headers(h: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(h)).filter(([, v]) => typeof v === 'string' && v !== '').map(([k, v]) => [k.toLowerCase(), v as string]));
}

function compact(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)));
}

/** The Kong entry of one HTTPAccessLogEntry. */
export function kongEntry(e: Obj): Obj {
  const c = obj(e.common_properties);
  const req = obj(e.request);
  const res = obj(e.response);
  const reqHeaders = headers(req.request_headers);
  const forwardedPath = reqHeaders['x-forwarded-path'];
  const forwardedHost = reqHeaders['x-forwarded-host'];
  delete reqHeaders['x-forwarded-path'];
  delete reqHeaders['x-forwarded-host'];
  if (forwardedHost) reqHeaders.host = forwardedHost;
  else if (str(req.authority)) reqHeaders.host = req.authority as string;
  const uri = forwardedPath ?? withoutQuery(str(req.path));
  const scheme = reqHeaders['x-forwarded-proto'] ?? str(req.scheme) ?? 'http';
  const authz = obj(obj(obj(c.metadata).filter_metadata)['envoy.filters.http.ext_authz']);
  const tags = obj(c.custom_tags);
  const start = obj(c.start_time);
  const startedAt = start.seconds !== undefined ? Number(start.seconds) * 1000 + Math.floor(Number(start.nanos ?? 0) / 1e6) : undefined;
  const total = ms(c.time_to_last_downstream_tx_byte);
  const upTx = ms(c.time_to_first_upstream_tx_byte);
  const upRx = ms(c.time_to_first_upstream_rx_byte);
  const remote = obj(obj(c.downstream_remote_address).socket_address);
  const upstream = obj(obj(c.upstream_remote_address).socket_address);
  const upstreamHost = str(upstream.address) ? `${upstream.address as string}:${String(upstream.port_value)}` : undefined;
  return compact({
    request: compact({
      method: str(req.request_method),
      uri,
      url: uri !== undefined ? `${scheme}://${reqHeaders.host ?? ''}${uri}` : undefined,
      size: Number(req.request_body_bytes ?? 0),
      headers: reqHeaders,
    }),
    response: compact({
      status: Number(obj(res.response_code).value ?? 0),
      size: Number(res.response_body_bytes ?? 0),
      headers: headers(res.response_headers),
    }),
    latencies: compact({
      request: total,
      proxy: upTx !== undefined && upRx !== undefined ? upRx - upTx : undefined,
      kong: upTx,
    }),
    service: compact({ name: str(tags['kong.service']) }),
    route: compact({ name: str(tags['kong.route']) }),
    consumer: compact({ id: structString(authz, 'consumer_id'), username: structString(authz, 'consumer_username') }),
    client_ip: str(remote.address),
    started_at: startedAt,
    upstream_uri: upstreamHost ? withoutQuery(str(req.path)) : undefined,
    upstream_host: upstreamHost,
    tries: upstreamHost ? Number(c.upstream_request_attempt_count ?? 1) : undefined,
  });
}
