import protobuf from 'protobufjs';
import { messageType } from './proto-registry.js';
import type { EncodedResource } from './snapshot.js';

/**
 * Hand-assembled DiscoveryResponse / DeltaDiscoveryResponse bytes: the pre-encoded resources
 * are spliced in as they are, so a push to many nodes never re-encodes a resource.
 *
 * A response is built in two parts: the body (every field but the nonce), the same for every
 * stream that is sent the same resources at the same version and so built once and shared, and
 * the nonce. Protobuf fields may come in any order and the nonce is encoded last, so a response
 * is the body followed by a nonce field: the shared body's own nonce (unique among shared
 * bodies, so unique within a stream that is sent a body once), or the stream's own.
 */

interface Fields { [name: string]: number }

let sotw: Fields | undefined;
let delta: Fields | undefined;
let resource: Fields | undefined;

function ids(typeName: string): Fields {
  const t = messageType(typeName);
  return Object.fromEntries(t.fieldsArray.map((f) => [f.name, f.id]));
}

const LEN = 2;

function tag(w: protobuf.Writer, id: number): protobuf.Writer {
  return w.uint32((id << 3) | LEN);
}

/**
 * A response body shared by every stream sent the same resources, kept as a whole gRPC message
 * (the 5-byte length prefix, every field, and a nonce of its own at the end): a transport can
 * write these very bytes to each stream, without a copy per stream.
 */
export interface SharedBody {
  /** gRPC length prefix + the response message with `nonce`. */
  framed: Buffer;
  /** Bytes of the message before the nonce field. */
  bodyLength: number;
  /** The nonce of the shared message, unique among shared bodies. */
  nonce: string;
}

/** One stream's response: a shared body, with the stream's own nonce when the shared one cannot be used. */
export interface Response {
  shared: SharedBody;
  /** The stream's own nonce field, replacing the shared nonce (see Session.send). */
  ownNonce?: Uint8Array;
}

let sharedSeq = 0;

/** Frames a body (every field but the nonce) as a shared message with a fresh shared nonce. */
export function sharedBody(mode: 'sotw' | 'delta', body: Uint8Array): SharedBody {
  const nonce = `s${(++sharedSeq).toString(36)}`;
  const nf = nonceField(mode, nonce);
  const framed = Buffer.allocUnsafeSlow(5 + body.length + nf.length);
  framed[0] = 0;
  framed.writeUInt32BE(body.length + nf.length, 1);
  framed.set(body, 5);
  framed.set(nf, 5 + body.length);
  return { framed, bodyLength: body.length, nonce };
}

/** The response message (no gRPC prefix): a view of the shared bytes, or a copy with the stream's own nonce. */
export function responseBytes(r: Response): Buffer {
  const { framed, bodyLength } = r.shared;
  if (!r.ownNonce) return framed.subarray(5);
  return Buffer.concat([framed.subarray(5, 5 + bodyLength), r.ownNonce], bodyLength + r.ownNonce.length);
}

/** The response as a gRPC message (length prefix included): the shared bytes themselves when the nonce is the shared one. */
export function framedResponse(r: Response): Buffer {
  if (!r.ownNonce) return r.shared.framed;
  const message = responseBytes(r);
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The nonce field of a DiscoveryResponse or DeltaDiscoveryResponse. */
export function nonceField(mode: 'sotw' | 'delta', nonce: string): Uint8Array {
  const f = mode === 'sotw' ? (sotw ??= ids('envoy.service.discovery.v3.DiscoveryResponse')) : (delta ??= ids('envoy.service.discovery.v3.DeltaDiscoveryResponse'));
  return tag(protobuf.Writer.create(), f.nonce!).string(nonce).finish();
}

/** envoy.service.discovery.v3.DiscoveryResponse bytes without the nonce. */
export function discoveryResponseBody(typeUrl: string, version: string, resources: Iterable<EncodedResource>): Uint8Array {
  sotw ??= ids('envoy.service.discovery.v3.DiscoveryResponse');
  const w = protobuf.Writer.create();
  tag(w, sotw.version_info!).string(version);
  for (const r of resources) tag(w, sotw.resources!).bytes(r.any);
  tag(w, sotw.type_url!).string(typeUrl);
  return w.finish();
}

/** envoy.service.discovery.v3.DiscoveryResponse bytes. */
export function encodeDiscoveryResponse(typeUrl: string, version: string, nonce: string, resources: Iterable<EncodedResource>): Uint8Array {
  return Buffer.concat([discoveryResponseBody(typeUrl, version, resources), nonceField('sotw', nonce)]);
}

/** An envoy.service.discovery.v3.Resource wrapping a resource, written in place (not kept: the body that holds it is). */
function writeDeltaResource(w: protobuf.Writer, id: number, r: EncodedResource): void {
  resource ??= ids('envoy.service.discovery.v3.Resource');
  tag(w, id).fork();
  tag(w, resource.name!).string(r.name);
  tag(w, resource.version!).string(r.version);
  tag(w, resource.resource!).bytes(r.any);
  w.ldelim();
}

/** envoy.service.discovery.v3.DeltaDiscoveryResponse bytes without the nonce. */
export function deltaResponseBody(typeUrl: string, systemVersion: string, resources: Iterable<EncodedResource>, removed: Iterable<string>): Uint8Array {
  delta ??= ids('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const w = protobuf.Writer.create();
  tag(w, delta.system_version_info!).string(systemVersion);
  for (const r of resources) writeDeltaResource(w, delta.resources!, r);
  tag(w, delta.type_url!).string(typeUrl);
  for (const name of removed) tag(w, delta.removed_resources!).string(name);
  return w.finish();
}

/** envoy.service.discovery.v3.DeltaDiscoveryResponse bytes. */
export function encodeDeltaResponse(typeUrl: string, systemVersion: string, nonce: string, resources: Iterable<EncodedResource>, removed: Iterable<string>): Uint8Array {
  return Buffer.concat([deltaResponseBody(typeUrl, systemVersion, resources, removed), nonceField('delta', nonce)]);
}
