/**
 * The ADS client's hand codec (src/xds/ads-codec.ts) against Envoy's own discovery.proto as
 * protobufjs reads it: what the codec writes decodes as the same DiscoveryRequest /
 * DeltaDiscoveryRequest, and what protobufjs writes for a DiscoveryResponse /
 * DeltaDiscoveryResponse (with fields the codec does not read) the codec reads the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeDeltaDiscoveryResponse, decodeDiscoveryResponse, encodeDeltaDiscoveryRequest, encodeDiscoveryRequest } from '../../src/xds/ads-codec.js';
import { messageType } from '../../src/xds/proto-registry.js';

const type = (name: string) => messageType(`envoy.service.discovery.v3.${name}`);
const asObject = (name: string, bytes: Uint8Array) => type(name).toObject(type(name).decode(bytes), { defaults: false, longs: Number }) as Record<string, unknown>;

test('DiscoveryRequest: node, names, nonce, NACK detail (a negative code too) as Envoy reads them', () => {
  const bytes = encodeDiscoveryRequest({
    version_info: 'v7', node: { id: 'ratelimit-1', cluster: 'frontdesk-ratelimit', user_agent_name: 'frontdesk-ads-client' },
    type_url: 'type.googleapis.com/frontdesk.ratelimit.v1.RouteRateLimit', resource_names: ['b', '', 'ä'], response_nonce: 'n-3',
    error_detail: { code: -3, message: 'bad policy: ünïcode' },
  });
  assert.deepEqual(asObject('DiscoveryRequest', bytes), {
    version_info: 'v7', node: { id: 'ratelimit-1', cluster: 'frontdesk-ratelimit', user_agent_name: 'frontdesk-ads-client' },
    type_url: 'type.googleapis.com/frontdesk.ratelimit.v1.RouteRateLimit', resource_names: ['b', '', 'ä'], response_nonce: 'n-3',
    error_detail: { code: -3, message: 'bad policy: ünïcode' },
  });
  // The first request of a stream: no version, nonce or node fields beyond what is set.
  assert.deepEqual(asObject('DiscoveryRequest', encodeDiscoveryRequest({ version_info: '', type_url: 't', resource_names: [], response_nonce: '' })), { type_url: 't' });
});

test('DeltaDiscoveryRequest: subscriptions and initial_resource_versions as Envoy reads them', () => {
  const bytes = encodeDeltaDiscoveryRequest({
    node: { id: 'n', cluster: '', user_agent_name: 'frontdesk-ads-client' }, type_url: 't',
    resource_names_subscribe: ['a', 'b'], resource_names_unsubscribe: ['c'], initial_resource_versions: { a: '1', 'b/ü': '2' },
    response_nonce: 'x', error_detail: { code: 3, message: 'no' },
  });
  assert.deepEqual(asObject('DeltaDiscoveryRequest', bytes), {
    node: { id: 'n', user_agent_name: 'frontdesk-ads-client' }, type_url: 't',
    resource_names_subscribe: ['a', 'b'], resource_names_unsubscribe: ['c'], initial_resource_versions: { a: '1', 'b/ü': '2' },
    response_nonce: 'x', error_detail: { code: 3, message: 'no' },
  });
});

test('DiscoveryResponse written by protobufjs, fields the client does not read skipped', () => {
  const t = type('DiscoveryResponse');
  const value = Buffer.alloc(300, 7); // a resource longer than one length byte
  const bytes = t.encode(t.fromObject({
    version_info: '42', type_url: 'type.googleapis.com/x.Y', nonce: '9', canary: true,
    control_plane: { identifier: 'cp-1' },
    resources: [{ type_url: 'type.googleapis.com/x.Y', value }, { type_url: 'type.googleapis.com/x.Y', value: Buffer.alloc(0) }],
  })).finish();
  const d = decodeDiscoveryResponse(bytes);
  assert.equal(d.version_info, '42');
  assert.equal(d.type_url, 'type.googleapis.com/x.Y');
  assert.equal(d.nonce, '9');
  assert.equal(d.resources.length, 2);
  assert.ok(Buffer.from(d.resources[0]!.value).equals(value));
  assert.equal(d.resources[1]!.value.length, 0);
});

test('DeltaDiscoveryResponse written by protobufjs: resources with and without a body, removals', () => {
  const t = type('DeltaDiscoveryResponse');
  const bytes = t.encode(t.fromObject({
    system_version_info: 's1', type_url: 'type.googleapis.com/x.Y', nonce: 'n',
    resources: [
      { name: 'a', version: 'v1', aliases: ['alias'], ttl: { seconds: 5 }, resource: { type_url: 'type.googleapis.com/x.Y', value: Buffer.from([1, 2, 3]) } },
      { name: 'b', version: 'v2' },
    ],
    removed_resources: ['gone', 'also-gone'],
  })).finish();
  const d = decodeDeltaDiscoveryResponse(bytes);
  assert.equal(d.system_version_info, 's1');
  assert.equal(d.nonce, 'n');
  assert.deepEqual(d.removed_resources, ['gone', 'also-gone']);
  assert.equal(d.resources.length, 2);
  assert.equal(d.resources[0]!.name, 'a');
  assert.equal(d.resources[0]!.version, 'v1');
  assert.deepEqual([...d.resources[0]!.resource!.value], [1, 2, 3]);
  assert.deepEqual({ name: d.resources[1]!.name, version: d.resources[1]!.version, resource: d.resources[1]!.resource }, { name: 'b', version: 'v2', resource: undefined });
});

test('a truncated response is an error, not a partial update', () => {
  const t = type('DiscoveryResponse');
  const bytes = t.encode(t.fromObject({ version_info: '1', resources: [{ type_url: 'u', value: Buffer.alloc(20) }] })).finish();
  assert.throws(() => decodeDiscoveryResponse(bytes.subarray(0, bytes.length - 3)), /truncated/);
});
