import type protobuf from 'protobufjs';
import type { Json } from '../json.js';
import { TYPE } from '../resources/type-urls.js';
import { encodeJson } from '../xds/proto-json.js';
import { messageType, typeForUrl } from '../xds/proto-registry.js';
import { putVarint, varintSize } from '../proto-wire.js';

type Obj = { [k: string]: Json };

/**
 * Encodes resources to protobuf bytes, reusing the bytes of every object it has encoded
 * before (by identity: translate with a memo hands back the same object for an unchanged
 * entity). A RouteConfiguration is spliced: each Route is encoded on its own and the bytes of
 * the unchanged ones are reused, so a one-route edit encodes one route and copies the rest.
 *
 * The bytes are the ones protobufjs writes for the whole message (fields in field-number
 * order, a repeated message field as one length-delimited record per item), so a spliced
 * resource has the version a full encode gives it.
 */
export class ResourceEncoder {
  private readonly known = new WeakMap<object, Uint8Array>();
  /** Messages encoded (not reused) since the last call to `take`, a figure for benchmarks. */
  encoded = 0;

  /** The bytes of `body`, a resource of `typeUrl` in proto3 JSON. */
  readonly encode = (typeUrl: string, body: Json): Uint8Array => {
    if (typeUrl === TYPE.route) return this.routeConfiguration(body as Obj);
    return this.cached(body, () => {
      const type = typeForUrl(typeUrl);
      if (!type) throw new Error(`no message type for ${typeUrl}`);
      return encodeJson(type, body);
    });
  };

  private cached(body: Json, make: () => Uint8Array): Uint8Array {
    if (body === null || typeof body !== 'object') return make();
    let b = this.known.get(body);
    if (!b) {
      b = make();
      this.encoded++;
      this.known.set(body, b);
    }
    return b;
  }

  private routeConfiguration(rc: Obj): Uint8Array {
    const rcType = messageType('envoy.config.route.v3.RouteConfiguration');
    const vhType = messageType('envoy.config.route.v3.VirtualHost');
    const routeType = messageType('envoy.config.route.v3.Route');
    const where = 'envoy.config.route.v3.RouteConfiguration';
    const vhs = (rc.virtual_hosts ?? []) as Obj[];
    return splice(rcType, rc, 'virtual_hosts', vhs.map((vh, i) => {
      const at = `${where}.virtual_hosts[${i}]`;
      const routes = (vh.routes ?? []) as Obj[];
      return splice(vhType, vh, 'routes', routes.map((r, j) => this.cached(r, () => encodeJson(routeType, r, `${at}.routes[${j}]`))), at);
    }), where);
  }
}

/**
 * The bytes of `body` (a message of `type`) with the repeated message field `field` given as
 * already encoded items: the fields numbered below it, then one record per item, then the
 * fields numbered above it, as protobufjs orders them.
 */
function splice(type: protobuf.Type, body: Obj, field: string, items: Uint8Array[], where: string): Uint8Array {
  const f = type.fields[field]!;
  const below: Obj = {};
  const above: Obj = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === field) continue;
    const other = type.fields[k] ?? type.fields[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
    if (!other) return encodeJson(type, body, where); // let the encoder name the unknown field
    (other.id < f.id ? below : above)[k] = v;
  }
  const head = encodeJson(type, below, where);
  const tail = encodeJson(type, above, where);
  const tag = (f.id << 3) | 2;
  let size = head.length + tail.length;
  for (const it of items) size += varintSize(tag) + varintSize(it.length) + it.length;
  const out = new Uint8Array(size);
  out.set(head, 0);
  let at = head.length;
  for (const it of items) {
    at = putVarint(out, at, tag);
    at = putVarint(out, at, it.length);
    out.set(it, at);
    at += it.length;
  }
  out.set(tail, at);
  return out;
}
