import protobuf from 'protobufjs';
import { messageType } from './proto-registry.js';
import type { EncodedResource } from './snapshot.js';

/**
 * Hand-assembled DiscoveryResponse / DeltaDiscoveryResponse bytes: the pre-encoded resources
 * are spliced in as they are, so a push to many nodes never re-encodes a resource.
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

/** envoy.service.discovery.v3.DiscoveryResponse bytes. */
export function encodeDiscoveryResponse(typeUrl: string, version: string, nonce: string, resources: Iterable<EncodedResource>): Uint8Array {
  sotw ??= ids('envoy.service.discovery.v3.DiscoveryResponse');
  const w = protobuf.Writer.create();
  tag(w, sotw.version_info!).string(version);
  for (const r of resources) tag(w, sotw.resources!).bytes(r.any);
  tag(w, sotw.type_url!).string(typeUrl);
  tag(w, sotw.nonce!).string(nonce);
  return w.finish();
}

function deltaResourceBytes(r: EncodedResource): Uint8Array {
  if (r.deltaBytes) return r.deltaBytes;
  resource ??= ids('envoy.service.discovery.v3.Resource');
  const w = protobuf.Writer.create();
  tag(w, resource.name!).string(r.name);
  tag(w, resource.version!).string(r.version);
  tag(w, resource.resource!).bytes(r.any);
  r.deltaBytes = w.finish();
  return r.deltaBytes;
}

/** envoy.service.discovery.v3.DeltaDiscoveryResponse bytes. */
export function encodeDeltaResponse(typeUrl: string, systemVersion: string, nonce: string, resources: Iterable<EncodedResource>, removed: Iterable<string>): Uint8Array {
  delta ??= ids('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const w = protobuf.Writer.create();
  tag(w, delta.system_version_info!).string(systemVersion);
  for (const r of resources) tag(w, delta.resources!).bytes(deltaResourceBytes(r));
  tag(w, delta.type_url!).string(typeUrl);
  for (const name of removed) tag(w, delta.removed_resources!).string(name);
  tag(w, delta.nonce!).string(nonce);
  return w.finish();
}
