/**
 * The ratelimit service's own reader and writer of RateLimitRequest / RateLimitResponse against
 * protobufjs loaded with Envoy's rls.proto: what Envoy encodes is read field for field (fields
 * the service does not use skipped), what the service writes decodes to the same message, and
 * a malformed message is an error, never a guess.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rlsTypes } from '../../src/ratelimit/rls-types.js';
import { decodeRateLimitRequest, encodeRateLimitResponse, WireError } from '../../src/ratelimit/rls-codec.js';

const enc = (m: Record<string, unknown>) => Buffer.from(rlsTypes().req.encode(rlsTypes().req.fromObject(m)).finish());
const dec = (b: Uint8Array) => rlsTypes().res.toObject(rlsTypes().res.decode(b), { enums: String, bytes: String, defaults: true }) as {
  overall_code: string; statuses: Array<{ code: string }>; response_headers_to_add: Array<{ key: string; value: string }>; raw_body: string;
};

describe('RateLimitRequest reader', () => {
  test('reads domain, every descriptor\'s entries in order, and hits_addend', () => {
    const long = 'v'.repeat(300); // a length of two varint bytes
    const r = decodeRateLimitRequest(enc({
      domain: 'frontdesk',
      descriptors: [
        { entries: [{ key: 'fd_route', value: 'r1' }, { key: 'fd_stage', value: '0' }, { key: 'remote_address', value: '10.0.0.1' }] },
        { entries: [{ key: 'x', value: long }, { key: 'ünï', value: 'cödé ☃' }] },
      ],
      hits_addend: 7,
    }));
    assert.deepEqual(r, {
      domain: 'frontdesk',
      descriptors: [{ fd_route: 'r1', fd_stage: '0', remote_address: '10.0.0.1' }, { x: long, 'ünï': 'cödé ☃' }],
      hitsAddend: 7,
    });
  });

  test('fields it does not use are skipped: a descriptor\'s limit override and its own hits_addend', () => {
    const r = decodeRateLimitRequest(enc({
      domain: 'd',
      descriptors: [{ entries: [{ key: 'k', value: 'v' }], limit: { requests_per_unit: 5, unit: 'MINUTE' }, hits_addend: { value: 3 } }],
    }));
    assert.deepEqual(r, { domain: 'd', descriptors: [{ k: 'v' }], hitsAddend: 0 });
  });

  test('an empty message is the default request; an entry without a key is dropped, one without a value is empty', () => {
    assert.deepEqual(decodeRateLimitRequest(new Uint8Array(0)), { domain: '', descriptors: [], hitsAddend: 0 });
    const r = decodeRateLimitRequest(enc({ descriptors: [{ entries: [{ value: 'orphan' }, { key: 'k' }] }] }));
    assert.deepEqual(r.descriptors, [{ k: '' }]);
  });

  test('a truncated or overrunning message is a WireError', () => {
    const good = enc({ domain: 'frontdesk', descriptors: [{ entries: [{ key: 'k', value: 'value' }] }] });
    // The domain field is 2 + 9 bytes: a cut right after it is a whole (shorter) message.
    assert.deepEqual(decodeRateLimitRequest(good.subarray(0, 11)), { domain: 'frontdesk', descriptors: [], hitsAddend: 0 });
    for (let cut = 1; cut < good.length; cut++) {
      if (cut !== 11) assert.throws(() => decodeRateLimitRequest(good.subarray(0, cut)), WireError, `cut at ${cut}`);
    }
    assert.throws(() => decodeRateLimitRequest(Buffer.from([0x0a, 0x05, 0x61])), WireError); // length past the end
    assert.throws(() => decodeRateLimitRequest(Buffer.from([0x0b])), WireError); // wire type 3 (group)
    assert.throws(() => decodeRateLimitRequest(Buffer.from([0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), WireError); // varint too long
  });
});

describe('RateLimitResponse writer', () => {
  test('an allowed answer: OK, a status per descriptor, the headers in order', () => {
    const headers: Array<[string, string]> = [['X-RateLimit-Limit-Minute', '5'], ['X-RateLimit-Remaining-Minute', '4'], ['RateLimit-Reset', '60'], ['x-long', 'h'.repeat(200)]];
    const m = dec(encodeRateLimitResponse({ kind: 'answer', overLimit: false, statuses: [false, false], responseHeaders: headers }));
    assert.equal(m.overall_code, 'OK');
    assert.deepEqual(m.statuses.map((s) => s.code), ['OK', 'OK']);
    assert.deepEqual(m.response_headers_to_add.map((h) => [h.key, h.value]), headers);
    assert.equal(m.raw_body, '');
  });

  test('a refusal: OVER_LIMIT overall and on the refusing descriptor, headers and the raw body', () => {
    const body = '{"message":"API rate limit exceeded ☃"}';
    const m = dec(encodeRateLimitResponse({ kind: 'answer', overLimit: true, statuses: [false, true], responseHeaders: [['Retry-After', '12'], ['content-type', 'application/json; charset=utf-8']], body }));
    assert.equal(m.overall_code, 'OVER_LIMIT');
    assert.deepEqual(m.statuses.map((s) => s.code), ['OK', 'OVER_LIMIT']);
    assert.deepEqual(m.response_headers_to_add.map((h) => [h.key, h.value]), [['Retry-After', '12'], ['content-type', 'application/json; charset=utf-8']]);
    assert.equal(Buffer.from(m.raw_body, 'base64').toString(), body);
  });

  test('a plain pass (no headers) decodes the same each time it is written', () => {
    for (let i = 0; i < 2; i++) {
      const m = dec(encodeRateLimitResponse({ kind: 'answer', overLimit: false, statuses: [false], responseHeaders: [] }));
      assert.equal(m.overall_code, 'OK');
      assert.deepEqual(m.statuses.map((s) => s.code), ['OK']);
      assert.deepEqual(m.response_headers_to_add, []);
    }
  });
});
