// Kong's grpc-web through a real Envoy: a browser's gRPC-Web call over HTTP/1.1 (binary
// application/grpc-web+proto and base64 application/grpc-web-text) reaches an HTTP/2 grpc-js
// upstream and gets its messages and trailers in the body (the gRPC-Web protocol: a frame of
// flag 0x80 holding "grpc-status:..." lines); server streaming; an upstream error in the
// trailers; OPTIONS answered by the plugin as Kong's handler does; allow_origin_header on the
// answers; pass_stripped_path picking which path the upstream gets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startGrpcEcho, type GrpcEcho } from '../support/grpc-echo.js';

/** One gRPC-Web frame: flag byte, 4-byte big-endian length, payload. */
function frame(flag: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flag, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/**
 * gRPC-Web text mode: each chunk the server writes is base64 on its own, padding included, so
 * the body is decoded one 4-character quantum at a time.
 */
function fromBase64Chunks(text: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length; i += 4) parts.push(Buffer.from(text.slice(i, i + 4), 'base64'));
  return Buffer.concat(parts);
}

interface Frames { messages: string[]; trailers: Record<string, string> }

function parseFrames(body: Buffer): Frames {
  const out: Frames = { messages: [], trailers: {} };
  let at = 0;
  while (at + 5 <= body.length) {
    const flag = body.readUInt8(at);
    const len = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + len).toString();
    at += 5 + len;
    if (flag & 0x80) {
      for (const line of payload.split('\r\n').filter(Boolean)) {
        const i = line.indexOf(':');
        out.trailers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
    } else out.messages.push(payload);
  }
  assert.equal(at, body.length, 'the body is whole frames');
  return out;
}

describe('grpc-web through Envoy', () => {
  let echo: GrpcEcho;
  let gw: Gateway;

  before(async () => {
    echo = await startGrpcEcho();
    gw = await startGateway(`
_format_version: "3.0"
services:
  - name: echo
    url: grpc://127.0.0.1:${echo.port}
    routes:
      - name: web
        paths: [/test.Echo/]
        protocols: [http]
        plugins:
          - name: grpc-web
            config: { allow_origin_header: https://app.example }
      - name: prefixed
        paths: [/web]
        protocols: [http]
        plugins:
          - name: grpc-web
      - name: stripped
        paths: [/stripped]
        protocols: [http]
        plugins:
          - name: grpc-web
            config: { pass_stripped_path: true }
`);
  });

  after(async () => {
    await gw?.stop();
    echo?.stop();
  });

  const call = async (path: string, message: string, mode: 'binary' | 'text') => {
    const body = frame(0, Buffer.from(message));
    const res = await fetch(`${gw.proxy}${path}`, {
      method: 'POST',
      headers: {
        'content-type': mode === 'binary' ? 'application/grpc-web+proto' : 'application/grpc-web-text',
        accept: mode === 'binary' ? 'application/grpc-web+proto' : 'application/grpc-web-text',
        'x-grpc-web': '1',
      },
      body: mode === 'binary' ? new Uint8Array(body) : body.toString('base64'),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    return { res, frames: parseFrames(mode === 'binary' ? raw : fromBase64Chunks(raw.toString())) };
  };

  test('binary mode: the message and grpc-status 0 in the body, Kong\'s Access-Control-Allow-Origin', async () => {
    const { res, frames } = await call('/test.Echo/Unary', 'hello', 'binary');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/grpc-web+proto');
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.deepEqual(frames.messages, ['echo:hello:/test.Echo/Unary']);
    assert.equal(frames.trailers['grpc-status'], '0');
  });

  test('text mode (base64): the same call, answered in base64', async () => {
    const { res, frames } = await call('/test.Echo/Unary', 'in text', 'text');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/grpc-web-text+proto');
    assert.deepEqual(frames.messages, ['echo:in text:/test.Echo/Unary']);
    assert.equal(frames.trailers['grpc-status'], '0');
  });

  test('server streaming: every message, then the trailers', async () => {
    const { frames } = await call('/test.Echo/Ticks', '3,10', 'binary');
    assert.deepEqual(frames.messages, ['tick 1', 'tick 2', 'tick 3']);
    assert.equal(frames.trailers['grpc-status'], '0');
  });

  test('an upstream error reaches the browser (a trailers-only answer: in the headers, as gRPC-Web allows)', async () => {
    const { res, frames } = await call('/test.Echo/Unary', 'fail', 'text');
    assert.equal(res.status, 200);
    assert.equal(frames.messages.length, 0);
    assert.equal(frames.trailers['grpc-status'] ?? res.headers.get('grpc-status'), '9');
    // grpc-message is percent-encoded on the wire (gRPC's PROTOCOL-HTTP2).
    assert.equal(decodeURIComponent(frames.trailers['grpc-message'] ?? res.headers.get('grpc-message') ?? ''), 'asked to fail');
  });

  test('OPTIONS is answered by the plugin: 200 "OK" with Kong\'s CORS headers', async () => {
    const res = await fetch(`${gw.proxy}/test.Echo/Unary`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type,x-grpc-web,x-user-agent');
    assert.equal(res.headers.get('content-type'), 'application/grpc-web-text+proto');
  });

  test('the upstream gets the request path unless pass_stripped_path', async () => {
    // /web/test.Echo/Unary reaches the upstream as is: no such method there (UNIMPLEMENTED, 12).
    const whole = await call('/web/test.Echo/Unary', 'x', 'binary');
    assert.equal(whole.frames.trailers['grpc-status'] ?? whole.res.headers.get('grpc-status'), '12');
    assert.equal(whole.res.headers.get('access-control-allow-origin'), '*');
    const stripped = await call('/stripped/test.Echo/Unary', 'x', 'binary');
    assert.deepEqual(stripped.frames.messages, ['echo:x:/test.Echo/Unary']);
  });
});
