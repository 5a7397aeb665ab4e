// gRPC through Envoy to an HTTP/2 upstream (service protocol grpc): unary and server
// streaming, metadata both ways, status codes, and read_timeout as Kong means it (time
// between reads, so a stream that keeps talking outlives it; a silent upstream does not).
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { rawBytes as raw, startGrpcEcho, unaryCall, type GrpcEcho } from '../support/grpc-echo.js';

describe('gRPC through Envoy', () => {
  let server: GrpcEcho;
  let gw: Gateway;
  let client: grpc.Client;

  before(async () => {
    server = await startGrpcEcho();
    const port = server.port;
    gw = await startGateway(`
_format_version: "3.0"
services:
  - name: echo
    url: grpc://127.0.0.1:${port}
    read_timeout: 300
    routes:
      - name: echo
        paths: [/test.Echo/]
        strip_path: false
        protocols: [grpc]
`);
    client = new grpc.Client(`127.0.0.1:${gw.proxyPort}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await gw?.stop();
    server?.stop();
  });

  const unary = (text: string, md = new grpc.Metadata()) => unaryCall(client, '/test.Echo/Unary', text, md);

  test('a unary call goes through with its path and metadata both ways', async () => {
    const md = new grpc.Metadata();
    md.set('x-client', 'hello');
    const r = await unary('ping', md);
    assert.equal(r.err, undefined);
    assert.equal(r.reply, 'echo:ping:/test.Echo/Unary');
    assert.equal(r.headers?.get('x-upstream-saw')[0], 'hello');
  });

  test('gRPC status codes from the upstream reach the client', async () => {
    const r = await unary('fail');
    assert.equal(r.err?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(r.err?.details, 'asked to fail');
  });

  const ticks = (spec: string) => new Promise<{ got: string[]; err?: grpc.ServiceError }>((resolve) => {
    const got: string[] = [];
    const call = client.makeServerStreamRequest('/test.Echo/Ticks', raw.serialize, raw.deserialize, Buffer.from(spec));
    call.on('data', (b: Buffer) => got.push(b.toString()));
    call.on('error', (err: grpc.ServiceError) => resolve({ got, err }));
    call.on('end', () => resolve({ got }));
  });

  test('a stream that keeps sending outlives read_timeout (it is the time between reads)', async () => {
    const r = await ticks('8,100'); // 800 ms in all, 100 ms apart; read_timeout is 300 ms
    assert.equal(r.err, undefined);
    assert.equal(r.got.length, 8);
  });

  test('an upstream silent for longer than read_timeout is cut off', async () => {
    const r = await ticks('2,1000');
    assert.ok(r.err, 'the call fails');
    assert.equal(r.got.length, 0);
    // Kong's 504 for a gRPC client: grpc-status 4 and its error handler's message.
    assert.equal(r.err!.code, grpc.status.DEADLINE_EXCEEDED, `got ${r.err!.code} ${r.err!.details}`);
    assert.equal(r.err!.details, 'The upstream server is timing out');
  });
});
