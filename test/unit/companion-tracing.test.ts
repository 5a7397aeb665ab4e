/**
 * The trace context a companion reads from the headers of Envoy's gRPC call: W3C trace context
 * (traceparent: version-traceid-parentid-flags, sampled when flag bit 0 is set; an all-zero id
 * or version ff is invalid) and B3 (x-b3-* or the single b3 header; sampled "1" or debug "d";
 * a 64-bit trace id is left-padded to 128 bits), per the W3C Trace Context and B3 specifications.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callContext } from '../../src/companion-tracing.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

test('W3C traceparent: sampled calls give their context, unsampled and invalid ones none', () => {
  assert.deepEqual(callContext({ traceparent: `00-${T}-${S}-01` }), { traceId: T, parentSpanId: S });
  assert.deepEqual(callContext({ traceparent: `00-${T}-${S}-03` }), { traceId: T, parentSpanId: S }, 'other flag bits set');
  assert.equal(callContext({ traceparent: `00-${T}-${S}-00` }), undefined, 'not sampled');
  assert.equal(callContext({ traceparent: `00-${'0'.repeat(32)}-${S}-01` }), undefined);
  assert.equal(callContext({ traceparent: `00-${T}-${'0'.repeat(16)}-01` }), undefined);
  assert.equal(callContext({ traceparent: `ff-${T}-${S}-01` }), undefined);
  assert.equal(callContext({ traceparent: `00-${T.slice(2)}-${S}-01` }), undefined);
  assert.equal(callContext({}), undefined);
});

test('B3, multi and single header: sampled or debug calls give their context', () => {
  assert.deepEqual(callContext({ 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' }), { traceId: T, parentSpanId: S });
  assert.deepEqual(callContext({ 'x-b3-traceid': T.slice(16), 'x-b3-spanid': S, 'x-b3-flags': '1' }), { traceId: `${'0'.repeat(16)}${T.slice(16)}`, parentSpanId: S });
  assert.equal(callContext({ 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '0' }), undefined);
  assert.deepEqual(callContext({ b3: `${T}-${S}-1` }), { traceId: T, parentSpanId: S });
  assert.deepEqual(callContext({ b3: `${T}-${S}-d` }), { traceId: T, parentSpanId: S });
  assert.equal(callContext({ b3: `${T}-${S}-0` }), undefined);
  assert.equal(callContext({ b3: '0' }), undefined);
});
