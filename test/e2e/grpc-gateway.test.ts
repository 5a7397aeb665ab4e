// Kong's grpc-gateway through a real Envoy: REST/JSON calls become gRPC calls to a grpc-js
// upstream, by the google.api.http rules of a .proto that Frontdesk compiles into a descriptor
// set at load time (imports resolved against the googleapis protos): GET with a path parameter
// and a query parameter, POST with a JSON body, a gRPC error as its HTTP status, a path no rule
// matches refused, OPTIONS answered as Kong's handler does, Access-Control-Allow-Origin: *.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';

const require = createRequire(import.meta.url);
const PROTO = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'protos', 'greeter.proto');
const GOOGLEAPIS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps', 'googleapis');

describe('grpc-gateway through Envoy', () => {
  let server: grpc.Server;
  let gw: Gateway;
  const seen: string[] = [];

  before(async () => {
    const def = protoLoader.loadSync(PROTO, { keepCase: true, includeDirs: [GOOGLEAPIS] });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { test: { rest: { Greeter: grpc.ServiceClientConstructor } } };
    server = new grpc.Server();
    server.addService(pkg.test.rest.Greeter.service, {
      SayHello: (call: grpc.ServerUnaryCall<{ name: string; title: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        seen.push(call.getPath());
        if (call.request.name === 'nobody') return cb({ code: grpc.status.NOT_FOUND, details: 'no such greeter' });
        const message = `hello ${call.request.title ? `${call.request.title} ` : ''}${call.request.name}`;
        cb(null, { message, word_count: message.split(' ').length });
      },
      CreateGreeting: (call: grpc.ServerUnaryCall<{ name: string; times: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        seen.push(call.getPath());
        const message = Array.from({ length: call.request.times }, () => `hi ${call.request.name}`).join(', ');
        cb(null, { message, word_count: message.split(' ').length });
      },
    });
    const port = await new Promise<number>((r, j) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
    gw = await startGateway(`
_format_version: "3.0"
services:
  - name: greeter
    url: grpc://127.0.0.1:${port}
    routes:
      - name: rest
        paths: [/v1]
        protocols: [http]
        plugins:
          - name: grpc-gateway
            config: { proto: ${PROTO} }
`);
  });

  after(async () => {
    await gw?.stop();
    server?.forceShutdown();
  });

  test('GET with a path parameter (and a query parameter) calls SayHello; the answer is JSON', async () => {
    const res = await fetch(`${gw.proxy}/v1/greeters/ada?title=Dr`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    // Field names as written in the .proto (word_count), as Kong's decoder prints them.
    assert.deepEqual(await res.json(), { message: 'hello Dr ada', word_count: 3 });
    assert.equal(seen.at(-1), '/test.rest.Greeter/SayHello');
  });

  test('POST with a JSON body calls CreateGreeting', async () => {
    const res = await fetch(`${gw.proxy}/v1/greetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob', times: 2 }) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'hi bob, hi bob', word_count: 4 });
    assert.equal(seen.at(-1), '/test.rest.Greeter/CreateGreeting');
  });

  test('a gRPC error becomes its HTTP status (NOT_FOUND → 404)', async () => {
    const res = await fetch(`${gw.proxy}/v1/greeters/nobody`);
    assert.equal(res.status, 404);
    const body = await res.json() as { code: number; message: string };
    assert.equal(body.code, grpc.status.NOT_FOUND);
    assert.equal(body.message, 'no such greeter');
  });

  test('a path no rule matches is refused, not sent to the gRPC upstream', async () => {
    const before = seen.length;
    const res = await fetch(`${gw.proxy}/v1/unknown`);
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    assert.equal(seen.length, before);
  });

  test('OPTIONS is answered by the plugin: 200 "OK" with Kong\'s CORS headers', async () => {
    const res = await fetch(`${gw.proxy}/v1/greetings`, { method: 'OPTIONS' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET,POST,PATCH,DELETE');
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });
});
