import protobuf from 'protobufjs';
import { messageType } from './proto-registry.js';
import type { EncodedResource } from './snapshot.js';

/**
 * Hand-assembled DiscoveryResponse / DeltaDiscoveryResponse bytes: the pre-encoded resources
 * are spliced in as they are, so a push to many nodes never re-encodes a resource.
 *
 * A response is built in two parts: the body (every field but the nonce), the same for every
 * stream that is sent the same resources at the same version and so built once and shared, and
 * the nonce, the one field that is the stream's own. Protobuf fields may come in any order and
 * the nonce is encoded last, so the bytes of a response are the body followed by the nonce.
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

/** One stream's response: the shared body and the nonce field that makes it this stream's. */
export interface Response {
  /** Every field but the nonce; shared by every stream sent the same thing. */
  body: Uint8Array;
  /** The encoded nonce field (a few bytes). */
  nonce: Uint8Array;
}

/** The bytes of a response, as one message (a copy of its own). */
export function responseBytes(r: Response): Buffer {
  return Buffer.concat([r.body, r.nonce], r.body.length + r.nonce.length);
}

/** Room left after each shared body for a nonce field. */
const NONCE_ROOM = 64;
/** Bodies built here, with NONCE_ROOM bytes of their own after them. */
const roomy = new WeakSet<Uint8Array>();

/** A body in a buffer of its own with room for the nonce after it. */
function withRoom(bytes: Uint8Array): Uint8Array {
  const buf = new Uint8Array(bytes.length + NONCE_ROOM);
  buf.set(bytes);
  const body = buf.subarray(0, bytes.length);
  roomy.add(body);
  return body;
}

/**
 * The bytes of a response for a transport that copies them at once (grpc-js frames every
 * message into a buffer of its own as it serializes it): the nonce is written into the room
 * after the shared body and a view of both is returned, so no per-stream copy is made here.
 * The view is valid only until the next call for the same body: never keep it.
 */
export function responseBytesToCopy(r: Response): Buffer {
  if (!roomy.has(r.body) || r.nonce.length > NONCE_ROOM) return responseBytes(r);
  const full = new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.length + r.nonce.length);
  full.set(r.nonce, r.body.length);
  return Buffer.from(full.buffer, full.byteOffset, full.length);
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
  return withRoom(w.finish());
}

/** envoy.service.discovery.v3.DiscoveryResponse bytes. */
export function encodeDiscoveryResponse(typeUrl: string, version: string, nonce: string, resources: Iterable<EncodedResource>): Uint8Array {
  return responseBytes({ body: discoveryResponseBody(typeUrl, version, resources), nonce: nonceField('sotw', nonce) });
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
  return withRoom(w.finish());
}

/** envoy.service.discovery.v3.DeltaDiscoveryResponse bytes. */
export function encodeDeltaResponse(typeUrl: string, systemVersion: string, nonce: string, resources: Iterable<EncodedResource>, removed: Iterable<string>): Uint8Array {
  return responseBytes({ body: deltaResponseBody(typeUrl, systemVersion, resources, removed), nonce: nonceField('delta', nonce) });
}
