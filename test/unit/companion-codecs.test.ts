/**
 * The ratelimit companion's hand readers of its two resources (src/ratelimit/policy-codec.ts
 * RouteRateLimit, src/xds/tracing-codec.ts TraceExporter) against protobufjs loaded with the
 * same .proto files: bytes protobufjs encodes read to the message protobufjs decodes (every
 * field, defaults where absent, enums by name), unknown fields skipped, malformed bytes an error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RATELIMIT_TYPE_URL } from '../../src/contracts/ratelimit.js';
import { TRACING_TYPE_URL } from '../../src/contracts/tracing.js';
import { WireError } from '../../src/proto-wire.js';
import { decodeRouteRateLimit } from '../../src/ratelimit/policy-codec.js';
import { decodeMessage } from '../../src/xds/proto-json.js';
import { typeForUrl } from '../../src/xds/proto-registry.js';
import { decodeTraceExporter } from '../../src/xds/tracing-codec.js';

const type = (url: string) => typeForUrl(url)!;
const encode = (url: string, m: Record<string, unknown>) => type(url).encode(type(url).fromObject(m)).finish();
const reference = (url: string, bytes: Uint8Array) => decodeMessage(type(url), bytes);

const POLICY = {
  scope: 'route:r1', limit_by: 'HEADER', header_name: 'x-client', path: '/p',
  windows: [{ unit: 'SECOND', limit: 5 }, { unit: 'MINUTE', limit: 0.5 }, { unit: 'YEAR', limit: 1e12 }],
  algorithm: 'SLIDING_WINDOW', policy: 'REDIS',
  redis: { host: 'redis.internal', port: 6380, username: 'u', password: 'p✓', database: 3, ssl: true, ssl_verify: true, server_name: 'sni.example', connect_timeout_ms: 250, read_timeout_ms: 4_294_967_295 },
  fault_tolerant: true, hide_client_headers: true, error_code: 503, error_message: 'slow down ☃', stage: 2,
};

describe('RouteRateLimit', () => {
  test('every field as protobufjs reads it', () => {
    const bytes = encode(RATELIMIT_TYPE_URL, {
      name: 'r1', service: 's1', policy: POLICY,
      consumers: [{ consumer_id: 'c1', policy: { ...POLICY, limit_by: 'CONSUMER', algorithm: 'TOKEN_BUCKET', policy: 'LOCAL', redis: null } }, { consumer_id: 'c2' }],
    });
    const got = decodeRouteRateLimit(bytes);
    assert.deepEqual(got, reference(RATELIMIT_TYPE_URL, bytes));
    assert.equal(got.policy?.windows[1]?.limit, 0.5, 'a double');
    assert.equal(got.consumers[1]?.policy, null, 'an absent message is null');
  });

  test('an empty message: proto3 defaults, enums by the name of 0', () => {
    const bytes = encode(RATELIMIT_TYPE_URL, { name: 'r', policy: {} });
    assert.deepEqual(decodeRouteRateLimit(bytes), reference(RATELIMIT_TYPE_URL, bytes));
    assert.equal(decodeRouteRateLimit(bytes).policy?.algorithm, 'ALGORITHM_UNSPECIFIED');
    assert.deepEqual(decodeRouteRateLimit(new Uint8Array()), reference(RATELIMIT_TYPE_URL, new Uint8Array()));
  });

  test('unknown fields of every wire type are skipped', () => {
    const known = encode(RATELIMIT_TYPE_URL, { name: 'r1', policy: { scope: 'global', windows: [{ unit: 'HOUR', limit: 9 }] } });
    // field 15 varint, field 16 fixed64, field 17 length-delimited, field 18 fixed32, then the known fields
    const unknown = Buffer.from([0x78, 0x96, 0x01, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x8a, 0x01, 2, 0x61, 0x62, 0x95, 0x01, 1, 2, 3, 4]);
    const bytes = Buffer.concat([unknown, known]);
    assert.deepEqual(decodeRouteRateLimit(bytes), reference(RATELIMIT_TYPE_URL, bytes));
  });

  test('truncated bytes are an error, not a guess', () => {
    const bytes = encode(RATELIMIT_TYPE_URL, { name: 'r1', policy: POLICY });
    assert.throws(() => decodeRouteRateLimit(bytes.subarray(0, bytes.length - 3)), WireError);
  });
});

describe('TraceExporter', () => {
  test('every field, the headers in order and the map as an object, as protobufjs reads them', () => {
    const bytes = encode(TRACING_TYPE_URL, {
      name: 'collector', endpoint: 'http://127.0.0.1:4318/v1/traces', headers: [{ name: 'authorization', value: 'Bearer x' }, { name: 'x-two', value: '' }],
      service_name: 'kong', resource_attributes: { 'deployment.environment': 'prod', 'host.name': 'gw-1' }, timeout_ms: 5000,
    });
    assert.deepEqual(decodeTraceExporter(bytes), reference(TRACING_TYPE_URL, bytes));
  });

  test('an empty message: the defaults protobufjs gives', () => {
    assert.deepEqual(decodeTraceExporter(new Uint8Array()), reference(TRACING_TYPE_URL, new Uint8Array()));
  });

  test('truncated bytes are an error', () => {
    const bytes = encode(TRACING_TYPE_URL, { name: 'collector', endpoint: 'http://x' });
    assert.throws(() => decodeTraceExporter(bytes.subarray(0, bytes.length - 2)), WireError);
  });
});
