/**
 * The ADS client's four messages on the protobuf wire format, by hand: it writes
 * envoy.service.discovery.v3.DiscoveryRequest / DeltaDiscoveryRequest and reads
 * DiscoveryResponse / DeltaDiscoveryResponse (envoy/service/discovery/v3/discovery.proto), so a
 * companion needs none of Envoy's API files loaded (with their imports, ~3.5 MiB of a
 * companion's RSS) to talk to the control plane: only its own resource messages.
 *
 * Only the fields the client uses are written (version_info, node {id, cluster,
 * user_agent_name}, resource_names, type_url, response_nonce, error_detail {code, message};
 * the delta request's subscribe/unsubscribe lists and initial_resource_versions) and read
 * (version_info, resources as Any {type_url, value}, type_url, nonce; the delta response's
 * system_version_info, resources {name, version, resource}, removed_resources); every other
 * field is skipped by its wire type.
 */
import { varintBytes, WireReader as Reader } from '../proto-wire.js';

export interface AdsNode {
  id: string;
  cluster: string;
  user_agent_name: string;
}

export interface AdsStatus {
  code: number;
  message: string;
}

export interface SotwRequestFields {
  version_info: string;
  node?: AdsNode | undefined;
  type_url: string;
  resource_names: readonly string[];
  response_nonce: string;
  error_detail?: AdsStatus | undefined;
}

export interface DeltaRequestFields {
  node?: AdsNode | undefined;
  type_url: string;
  resource_names_subscribe: readonly string[];
  resource_names_unsubscribe: readonly string[];
  initial_resource_versions?: Readonly<Record<string, string>> | undefined;
  response_nonce: string;
  error_detail?: AdsStatus | undefined;
}

export interface AnyFields {
  type_url: string;
  value: Uint8Array;
}

export interface SotwResponseFields {
  version_info: string;
  resources: AnyFields[];
  type_url: string;
  nonce: string;
}

export interface DeltaResponseFields {
  system_version_info: string;
  type_url: string;
  nonce: string;
  removed_resources: string[];
  resources: Array<{ name: string; version: string; resource?: AnyFields }>;
}

// ---- writing --------------------------------------------------------------------------------

/** A message being written: its fields' bytes in order (sizes known once it is complete). */
class Writer {
  private readonly parts: Buffer[] = [];
  private size = 0;

  private push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private key(field: number, wire: number): void {
    this.push(varintBytes(field * 8 + wire));
  }

  string(field: number, s: string | undefined): this {
    if (!s) return this; // proto3: an empty string is absent
    const b = Buffer.from(s, 'utf8');
    this.key(field, 2);
    this.push(varintBytes(b.length));
    this.push(b);
    return this;
  }

  /** A repeated string: every element, empty ones included. */
  strings(field: number, list: readonly string[]): this {
    for (const s of list) {
      const b = Buffer.from(s, 'utf8');
      this.key(field, 2);
      this.push(varintBytes(b.length));
      this.push(b);
    }
    return this;
  }

  int(field: number, n: number): this {
    if (!n) return this;
    this.key(field, 0);
    // int32: a negative value is its 64-bit two's complement (10 bytes).
    this.push(n < 0 ? varint64(BigInt.asUintN(64, BigInt(n))) : varintBytes(n));
    return this;
  }

  message(field: number, m: Writer | undefined): this {
    if (!m) return this;
    const b = m.finish();
    this.key(field, 2);
    this.push(varintBytes(b.length));
    this.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

function varint64(n: bigint): Buffer {
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return Buffer.from(out);
}

function node(n: AdsNode | undefined): Writer | undefined {
  return n && new Writer().string(1, n.id).string(2, n.cluster).string(6, n.user_agent_name);
}

function status(s: AdsStatus | undefined): Writer | undefined {
  return s && new Writer().int(1, s.code).string(2, s.message);
}

/** DiscoveryRequest bytes. */
export function encodeDiscoveryRequest(m: SotwRequestFields): Buffer {
  return new Writer()
    .string(1, m.version_info)
    .message(2, node(m.node))
    .strings(3, m.resource_names)
    .string(4, m.type_url)
    .string(5, m.response_nonce)
    .message(6, status(m.error_detail))
    .finish();
}

/** DeltaDiscoveryRequest bytes. */
export function encodeDeltaDiscoveryRequest(m: DeltaRequestFields): Buffer {
  const w = new Writer()
    .message(1, node(m.node))
    .string(2, m.type_url)
    .strings(3, m.resource_names_subscribe)
    .strings(4, m.resource_names_unsubscribe);
  // map<string, string>: one entry message (key = 1, value = 2) per pair.
  for (const [k, v] of Object.entries(m.initial_resource_versions ?? {})) w.message(5, new Writer().string(1, k).string(2, v));
  return w.string(6, m.response_nonce).message(7, status(m.error_detail)).finish();
}

// ---- reading --------------------------------------------------------------------------------

/** A malformed message. */
/** A malformed discovery message. */
export { WireError as AdsWireError } from '../proto-wire.js';

const reader = (bytes: Uint8Array): Reader => Reader.of(bytes);

function readAny(r: Reader): AnyFields {
  const out: AnyFields = { type_url: '', value: new Uint8Array() };
  while (r.more) {
    const tag = r.varint();
    if (tag === 0x0a) out.type_url = r.string();
    else if (tag === 0x12) out.value = r.bytes();
    else r.skip(tag & 7);
  }
  return out;
}

/** DiscoveryResponse bytes → the fields the client reads. */
export function decodeDiscoveryResponse(bytes: Uint8Array): SotwResponseFields {
  const r = reader(bytes);
  const out: SotwResponseFields = { version_info: '', resources: [], type_url: '', nonce: '' };
  while (r.more) {
    const tag = r.varint();
    if (tag === 0x0a) out.version_info = r.string();
    else if (tag === 0x12) out.resources.push(readAny(r.message()));
    else if (tag === 0x22) out.type_url = r.string();
    else if (tag === 0x2a) out.nonce = r.string();
    else r.skip(tag & 7);
  }
  return out;
}

/** DeltaDiscoveryResponse bytes → the fields the client reads. */
export function decodeDeltaDiscoveryResponse(bytes: Uint8Array): DeltaResponseFields {
  const r = reader(bytes);
  const out: DeltaResponseFields = { system_version_info: '', type_url: '', nonce: '', removed_resources: [], resources: [] };
  while (r.more) {
    const tag = r.varint();
    if (tag === 0x0a) out.system_version_info = r.string();
    else if (tag === 0x12) {
      const res = r.message();
      const one: DeltaResponseFields['resources'][number] = { name: '', version: '' };
      while (res.more) {
        const t = res.varint();
        if (t === 0x0a) one.version = res.string();
        else if (t === 0x12) one.resource = readAny(res.message());
        else if (t === 0x1a) one.name = res.string();
        else res.skip(t & 7);
      }
      out.resources.push(one);
    } else if (tag === 0x22) out.type_url = r.string();
    else if (tag === 0x2a) out.nonce = r.string();
    else if (tag === 0x32) out.removed_resources.push(r.string());
    else r.skip(tag & 7);
  }
  return out;
}
