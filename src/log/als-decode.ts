/**
 * A lean decoder of Envoy's StreamAccessLogsMessage (envoy.service.accesslog.v3): it reads the
 * protobuf wire format directly and keeps only the fields Kong's log entry (entry.ts) and Kong's
 * metrics (kong-metrics.ts) use, skipping every other field unread (the node, TLS properties,
 * local addresses, the other timings, filter state). A full protobufjs decode to objects built
 * each entry's every field, then a second object tree; this builds one flat object per entry.
 * Field numbers are those of envoy/data/accesslog/v3/accesslog.proto and the types it uses
 * (config.core.v3 Address, Metadata; google.protobuf Struct, Duration, Timestamp, UInt32Value).
 * Pure. Malformed input throws.
 */
import { WireError, WireReader } from '../proto-wire.js';

/** One HTTPAccessLogEntry, the fields the log companion reads. Durations in whole milliseconds. */
export interface AccessLogEntry {
  method?: string;
  scheme?: string;
  authority?: string;
  path?: string;
  /** The headers Envoy was asked to log (additional_request_headers_to_log), lower-cased names, and user-agent, x-forwarded-for and x-request-id from their own fields. */
  requestHeaders: Record<string, string>;
  requestHeadersBytes: number;
  requestBodyBytes: number;
  status: number;
  responseHeaders: Record<string, string>;
  responseHeadersBytes: number;
  responseBodyBytes: number;
  clientIp?: string;
  /** The upstream's address:port, when the request went upstream. */
  upstreamHost?: string;
  /** Epoch milliseconds. */
  startedAt?: number;
  totalMs?: number;
  upstreamTxMs?: number;
  upstreamRxMs?: number;
  /** Until the first byte of the answer went to the client (what Kong's response latency measures for an answer of its own). */
  downstreamTxMs?: number;
  attempts?: number;
  rateLimited: boolean;
  /** AccessLogCommon.custom_tags. */
  tags: Record<string, string>;
  /** The consumer authz identified (ext_authz dynamic metadata). */
  consumerId?: string;
  consumerUsername?: string;
  consumerCustomId?: string;
}

export interface AccessLogsMessage {
  /** The stream's log_name: only the first message of a stream carries it. */
  logName?: string;
  entries: AccessLogEntry[];
}

/** config.core.v3.RequestMethod by number. */
const METHODS = ['', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const EXT_AUTHZ = 'envoy.filters.http.ext_authz';

/** A cursor over one message's bytes, reading a nested message's fields in place. */
class Wire extends WireReader {
  /** Calls `field` for each field up to `end` (it must consume the value or return false to skip it). */
  fields(end: number, field: (no: number, wireType: number) => boolean): void {
    const outer = this.end;
    this.end = end;
    while (this.pos < end) {
      const tag = this.varint();
      const no = tag >>> 3;
      const wt = tag & 7;
      if (!field(no, wt)) this.skip(wt);
    }
    this.end = outer;
    if (this.pos !== end) throw new WireError('field overran its message');
  }
}

/** A map<string, string> entry (key 1, value 2). */
function mapEntry(w: Wire, into: Record<string, string>, lower: boolean): void {
  let key = '';
  let value = '';
  w.fields(w.delimited(), (no, wt) => {
    if (wt !== 2) return false;
    if (no === 1) key = w.string();
    else if (no === 2) value = w.string();
    else return false;
    return true;
  });
  if (value !== '') into[lower ? key.toLowerCase() : key] = value;
}

/** google.protobuf.Duration or Timestamp as milliseconds (seconds 1, nanos 2). */
function millis(w: Wire, round: boolean): number {
  let s = 0;
  let n = 0;
  w.fields(w.delimited(), (no, wt) => {
    if (wt !== 0) return false;
    if (no === 1) s = w.varint();
    else if (no === 2) n = w.varint();
    else return false;
    return true;
  });
  return round ? Math.round(s * 1000 + n / 1e6) : s * 1000 + Math.floor(n / 1e6);
}

/** config.core.v3.Address → its socket address (1) as [address (2), port_value (3)]. */
function address(w: Wire): [string, number] | undefined {
  let out: [string, number] | undefined;
  w.fields(w.delimited(), (no, wt) => {
    if (no !== 1 || wt !== 2) return false;
    let a = '';
    let p = 0;
    w.fields(w.delimited(), (sno, swt) => {
      if (sno === 2 && swt === 2) a = w.string();
      else if (sno === 3 && swt === 0) p = w.varint();
      else return false;
      return true;
    });
    out = [a, p];
    return true;
  });
  return out;
}

/** google.protobuf.UInt32Value's value (1). */
function uint32Value(w: Wire): number {
  let v = 0;
  w.fields(w.delimited(), (no, wt) => {
    if (no !== 1 || wt !== 0) return false;
    v = w.varint();
    return true;
  });
  return v;
}

/** A google.protobuf.Struct's string fields (fields 1: map<string, Value>; Value.string_value 3). */
function structStrings(w: Wire, end: number, into: Record<string, string>): void {
  w.fields(end, (no, wt) => {
    if (no !== 1 || wt !== 2) return false;
    let key = '';
    let value: string | undefined;
    w.fields(w.delimited(), (eno, ewt) => {
      if (eno === 1 && ewt === 2) key = w.string();
      else if (eno === 2 && ewt === 2) {
        w.fields(w.delimited(), (vno, vwt) => {
          if (vno !== 3 || vwt !== 2) return false;
          value = w.string();
          return true;
        });
      } else return false;
      return true;
    });
    if (value !== undefined) into[key] = value;
    return true;
  });
}

/** config.core.v3.Metadata: the ext_authz namespace of filter_metadata (1: map<string, Struct>). */
function authzMetadata(w: Wire, e: AccessLogEntry): void {
  w.fields(w.delimited(), (no, wt) => {
    if (no !== 1 || wt !== 2) return false;
    const end = w.delimited();
    let key = '';
    const values: Record<string, string> = {};
    w.fields(end, (eno, ewt) => {
      if (eno === 1 && ewt === 2) { key = w.string(); return true; }
      // Map entries put the key first; a value for another namespace is skipped unread.
      if (eno === 2 && ewt === 2 && key === EXT_AUTHZ) { structStrings(w, w.delimited(), values); return true; }
      return false;
    });
    if (key === EXT_AUTHZ) {
      if (values.consumer_id) e.consumerId = values.consumer_id;
      if (values.consumer_username) e.consumerUsername = values.consumer_username;
      if (values.consumer_custom_id) e.consumerCustomId = values.consumer_custom_id;
    }
    return true;
  });
}

function common(w: Wire, e: AccessLogEntry): void {
  w.fields(w.delimited(), (no, wt) => {
    if (wt === 2) {
      switch (no) {
        case 2: { const a = address(w); if (a?.[0]) e.clientIp = a[0]; return true; }
        case 5: e.startedAt = millis(w, false); return true;
        case 7: e.upstreamTxMs = millis(w, true); return true;
        case 9: e.upstreamRxMs = millis(w, true); return true;
        case 11: e.downstreamTxMs = millis(w, true); return true;
        case 12: e.totalMs = millis(w, true); return true;
        case 13: { const a = address(w); if (a?.[0]) e.upstreamHost = `${a[0]}:${a[1]}`; return true; }
        case 16:
          w.fields(w.delimited(), (fno, fwt) => {
            if (fno !== 12 || fwt !== 0) return false;
            e.rateLimited = w.varint() !== 0;
            return true;
          });
          return true;
        case 17: authzMetadata(w, e); return true;
        case 22: mapEntry(w, e.tags, false); return true;
        default: return false;
      }
    }
    if (wt === 0 && no === 24) { e.attempts = w.varint(); return true; }
    return false;
  });
}

function request(w: Wire, e: AccessLogEntry): void {
  w.fields(w.delimited(), (no, wt) => {
    if (wt === 0) {
      if (no === 1) e.method = METHODS[w.varint()] || undefined;
      else if (no === 11) e.requestHeadersBytes = w.varint();
      else if (no === 12) e.requestBodyBytes = w.varint();
      else return false;
      return true;
    }
    if (wt !== 2) return false;
    switch (no) {
      case 2: e.scheme = w.string() || undefined; return true;
      case 3: e.authority = w.string() || undefined; return true;
      case 5: e.path = w.string() || undefined; return true;
      // Envoy fills these from the request's User-Agent, X-Forwarded-For and X-Request-Id for
      // every entry: read as those headers, so they need not be logged twice (companion-log.ts).
      case 6: { const v = w.string(); if (v) e.requestHeaders['user-agent'] = v; return true; }
      case 8: { const v = w.string(); if (v) e.requestHeaders['x-forwarded-for'] = v; return true; }
      case 9: { const v = w.string(); if (v) e.requestHeaders['x-request-id'] = v; return true; }
      case 13: mapEntry(w, e.requestHeaders, true); return true;
      default: return false;
    }
  });
}

function response(w: Wire, e: AccessLogEntry): void {
  w.fields(w.delimited(), (no, wt) => {
    if (wt === 2 && no === 1) { e.status = uint32Value(w); return true; }
    if (wt === 2 && no === 4) { mapEntry(w, e.responseHeaders, true); return true; }
    if (wt === 0 && no === 2) { e.responseHeadersBytes = w.varint(); return true; }
    if (wt === 0 && no === 3) { e.responseBodyBytes = w.varint(); return true; }
    return false;
  });
}

function entry(w: Wire): AccessLogEntry {
  const e: AccessLogEntry = {
    requestHeaders: {}, requestHeadersBytes: 0, requestBodyBytes: 0, status: 0, responseHeaders: {}, responseHeadersBytes: 0, responseBodyBytes: 0, rateLimited: false, tags: {},
  };
  w.fields(w.delimited(), (no, wt) => {
    if (wt !== 2) return false;
    if (no === 1) common(w, e);
    else if (no === 3) request(w, e);
    else if (no === 4) response(w, e);
    else return false;
    return true;
  });
  return e;
}

/** Decodes one StreamAccessLogsMessage: identifier (1) → log_name (2); http_logs (2) → log_entry (1). TCP entries are skipped. */
export function decodeAccessLogs(bytes: Uint8Array): AccessLogsMessage {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = new Wire(buf, 0, buf.length);
  const out: AccessLogsMessage = { entries: [] };
  w.fields(buf.length, (no, wt) => {
    if (wt !== 2) return false;
    if (no === 1) {
      w.fields(w.delimited(), (ino, iwt) => {
        if (ino !== 2 || iwt !== 2) return false;
        out.logName = w.string();
        return true;
      });
      return true;
    }
    if (no === 2) {
      w.fields(w.delimited(), (hno, hwt) => {
        if (hno !== 1 || hwt !== 2) return false;
        out.entries.push(entry(w));
        return true;
      });
      return true;
    }
    return false;
  });
  return out;
}
