/**
 * The companions' ADS client after its stream ends (src/xds/ads-stream.ts). The back-off
 * starts again from `reconnectMs` once a stream has worked. A server that answers and then asks
 * the client to slow down (RST_STREAM ENHANCE_YOUR_CALM, which gRPC maps to RESOURCE_EXHAUSTED,
 * grpc/grpc PROTOCOL-HTTP2.md) must not get a new stream every `reconnectMs` for it: the client
 * waits `reconnectMaxMs` each time.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { AdsStreamClient } from '../../src/xds/ads-stream.js';
import { PREFACE, literal, rawFrame } from '../support/h2-frames.js';
import { waitFor } from '../support/wait.js';

// RFC 9113 §6 frame types and flags, §7 error codes.
const DATA = 0x0, HEADERS = 0x1, RST_STREAM = 0x3, SETTINGS = 0x4;
const END_HEADERS = 0x4, ACK = 0x1;
const CANCEL = 0x8, ENHANCE_YOUR_CALM = 0xb;

/**
 * A server that speaks HTTP/2 frame by frame (node:http2 sends END_STREAM before a reset, which
 * a gRPC client reads as a stream ended without status): its SETTINGS, an ACK of the client's,
 * and for each stream the client opens, the response headers, one empty message (a
 * DiscoveryResponse with no field: the stream worked, the back-off starts again) and
 * RST_STREAM with `code`.
 */
async function resettingServer(code: number): Promise<{ port: number; arrivals: number[]; close(): Promise<void> }> {
  const arrivals: number[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let prefaced = false;
    socket.write(rawFrame(SETTINGS, 0, 0));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!prefaced) {
        if (buf.length < PREFACE.length) return;
        buf = buf.subarray(PREFACE.length);
        prefaced = true;
      }
      while (buf.length >= 9) {
        const length = buf.readUIntBE(0, 3);
        if (buf.length < 9 + length) return;
        const type = buf[3]!;
        const flags = buf[4]!;
        const id = buf.readUInt32BE(5) & 0x7fffffff;
        buf = buf.subarray(9 + length);
        if (type === SETTINGS && !(flags & ACK)) socket.write(rawFrame(SETTINGS, ACK, 0));
        if (type === HEADERS) {
          arrivals.push(performance.now());
          socket.write(Buffer.concat([
            rawFrame(HEADERS, END_HEADERS, id, Buffer.concat([literal(':status', '200'), literal('content-type', 'application/grpc')])),
            rawFrame(DATA, 0, id, Buffer.from([0, 0, 0, 0, 0])),
            rawFrame(RST_STREAM, 0, id, Buffer.from([0, 0, 0, code])),
          ]));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port, arrivals,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function client(port: number): AdsStreamClient<number> {
  return new AdsStreamClient<number>({
    target: `127.0.0.1:${port}`, nodeId: 'backoff-test', types: ['type.googleapis.com/frontdesk.test'],
    decodeResource: (_t, bytes) => bytes.length, reconnectMs: 10, reconnectMaxMs: 400,
  });
}

test('a server that resets the stream with ENHANCE_YOUR_CALM is reconnected to only after reconnectMaxMs, each time', async () => {
  const srv = await resettingServer(ENHANCE_YOUR_CALM);
  const c = client(srv.port).start();
  try {
    await waitFor(() => srv.arrivals.length >= 3 || undefined, 'three streams', 10_000);
    const gaps = srv.arrivals.slice(1, 3).map((t, i) => t - srv.arrivals[i]!);
    for (const gap of gaps) assert.ok(gap >= 395, `streams ${gaps.map((g) => Math.round(g)).join(', ')} ms apart: at least reconnectMaxMs (400) expected`);
  } finally {
    c.close();
    await srv.close();
  }
});

test('a stream that worked and ended otherwise (CANCEL) is reconnected to from reconnectMs again: sooner than the slow-down wait', async () => {
  const srv = await resettingServer(CANCEL);
  const c = client(srv.port).start();
  try {
    // Five streams inside the time the slow-down wait would need for two of them.
    await waitFor(() => srv.arrivals.length >= 5 || undefined, 'five streams', 10_000);
    assert.ok(srv.arrivals[4]! - srv.arrivals[0]! < 4 * 400, `five streams over ${Math.round(srv.arrivals[4]! - srv.arrivals[0]!)} ms`);
  } finally {
    c.close();
    await srv.close();
  }
});
