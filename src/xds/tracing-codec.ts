import type { TraceExporter__Output } from '../contracts/generated/frontdesk/tracing/v1/TraceExporter.js';
import { WireError, WireReader } from '../proto-wire.js';

/**
 * frontdesk.tracing.v1.TraceExporter (proto/frontdesk/tracing/v1/tracing.proto) read by hand,
 * for a companion that loads no protobuf library: the shape protobufjs gives
 * (xds/proto-json.ts decodeMessage: every field present, the map as an object). Unknown fields
 * are skipped.
 */

/** A message of two string fields (1 and 2): a Header, or a map<string, string> entry. */
function pair(r: WireReader): [string, string] {
  let a = '';
  let b = '';
  while (r.more) {
    const tag = r.varint();
    if (tag === 0x0a) a = r.string();
    else if (tag === 0x12) b = r.string();
    else if (tag >>> 3 === 0) throw new WireError('field number 0');
    else r.skip(tag & 7);
  }
  return [a, b];
}

/** TraceExporter bytes → the message; throws WireError on malformed bytes. */
export function decodeTraceExporter(bytes: Uint8Array): TraceExporter__Output {
  const r = WireReader.of(bytes);
  const m: TraceExporter__Output = { name: '', endpoint: '', headers: [], service_name: '', resource_attributes: {}, timeout_ms: 0 };
  while (r.more) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a: m.name = r.string(); break;
      case 0x12: m.endpoint = r.string(); break;
      case 0x1a: { const [name, value] = pair(r.message()); m.headers.push({ name, value }); break; }
      case 0x22: m.service_name = r.string(); break;
      case 0x2a: { const [k, v] = pair(r.message()); m.resource_attributes[k] = v; break; }
      case 0x30: m.timeout_ms = r.varint() % 2 ** 32; break;
      default:
        if (tag >>> 3 === 0) throw new WireError('field number 0');
        r.skip(tag & 7);
    }
  }
  return m;
}
