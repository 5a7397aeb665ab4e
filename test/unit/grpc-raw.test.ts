/**
 * The unary gRPC server on node:http2 (src/grpc-raw.ts) the per-request companions serve on,
 * called by grpc-js as any gRPC client: a message over several HTTP/2 DATA frames arrives
 * whole, a message over the size limit is RESOURCE_EXHAUSTED, an unknown method UNIMPLEMENTED,
 * a handler's error status reaches the client with its message.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { grpcMessage, serveUnary, type UnaryServer } from '../../src/grpc-raw.js';

let server: UnaryServer;
let client: grpc.Client;
const LIMIT = 64 * 1024;

before(async () => {
  server = await serveUnary('127.0.0.1', 0, {
    '/test.Echo/Echo': async (req) => Buffer.from(req).reverse(),
    '/test.Echo/Fail': async () => ({ code: grpc.status.UNAVAILABLE, message: 'counters unavailable (redis: timeout)' }),
  }, LIMIT);
  client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});
after(async () => {
  client.close();
  await server.stop();
});

function call(method: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, body, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

test('a message larger than one HTTP/2 DATA frame (16 KiB) arrives whole', async () => {
  const body = Buffer.alloc(50_000);
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  const res = await call('/test.Echo/Echo', body);
  assert.ok(res.equals(Buffer.from(body).reverse()));
});

test('a message over the size limit is refused with RESOURCE_EXHAUSTED', async () => {
  await assert.rejects(call('/test.Echo/Echo', Buffer.alloc(LIMIT + 1)), (e: grpc.ServiceError) => e.code === grpc.status.RESOURCE_EXHAUSTED);
  assert.equal((await call('/test.Echo/Echo', Buffer.from('ab'))).toString(), 'ba', 'the server goes on');
});

test('an unknown method is UNIMPLEMENTED; a handler status reaches the client with its message', async () => {
  await assert.rejects(call('/test.Echo/Nope', Buffer.from('x')), (e: grpc.ServiceError) => e.code === grpc.status.UNIMPLEMENTED);
  await assert.rejects(call('/test.Echo/Fail', Buffer.from('x')), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && e.details === 'counters unavailable (redis: timeout)');
});

test('an empty message is one valid call', async () => {
  assert.equal((await call('/test.Echo/Echo', Buffer.alloc(0))).length, 0);
});

test('grpc-message is percent-encoded as gRPC specifies: printable ASCII but % as is, other bytes %XX', () => {
  assert.equal(grpcMessage('redis: timeout (50%)'), 'redis: timeout (50%25)');
  assert.equal(grpcMessage('zählt\nnicht'), 'z%C3%A4hlt%0Anicht');
});
