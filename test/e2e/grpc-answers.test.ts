// A gRPC client refused by the gateway gets a gRPC answer, as Kong gives it (kong/pdk/response.lua:
// grpc-status from HTTP_TO_GRPC_STATUS, grpc-message the status's name for a plugin's refusal,
// kong/error_handlers.lua's message for an upstream failure), never Kong's HTTP JSON body:
// key-auth's 401 → 16, rate-limiting's 429 → 8, ip-restriction's 403 → 7, no route's 404 → 5,
// an upstream timeout's 504 → 4, an unreachable upstream's 502 → 13. An HTTP client on the same
// listener still gets JSON.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startGrpcEcho, unaryCall, type GrpcEcho } from '../support/grpc-echo.js';
import { freePort } from '../support/ports.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';

describe('gRPC answers from the gateway', () => {
  let echo: GrpcEcho;
  let gw: Gateway;
  let authz: TestAuthz;
  let rl: TestRateLimitService | undefined;
  let client: grpc.Client;

  before(async () => {
    echo = await startGrpcEcho();
    const closed = await freePort();
    const rlPort = await freePort();
    const az = await authzForTests();
    gw = await startGateway(`
_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: echo
    url: grpc://127.0.0.1:${echo.port}
    read_timeout: 300
    routes:
      - name: keyed
        paths: [/test.Echo/]
        headers: { x-route: [keyed] }
        strip_path: false
        protocols: [grpc]
        plugins:
          - name: key-auth
      - name: limited
        paths: [/test.Echo/]
        headers: { x-route: [limited] }
        strip_path: false
        protocols: [grpc]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: ip }
      - name: fenced
        paths: [/test.Echo/]
        headers: { x-route: [fenced] }
        strip_path: false
        protocols: [grpc]
        plugins:
          - name: ip-restriction
            config: { deny: [127.0.0.1] }
      - name: open
        paths: [/test.Echo/]
        strip_path: false
        protocols: [grpc]
  - name: gone
    url: grpc://127.0.0.1:${closed}
    retries: 0
    routes:
      - name: gone
        paths: [/test.Gone/]
        strip_path: false
        protocols: [grpc]
`, { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port }, ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: rlPort, timeoutMs: 1000 } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    rl = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort });
    client = new grpc.Client(`127.0.0.1:${gw.proxyPort}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await rl?.stop();
    await authz?.stop();
    await gw?.stop();
    echo?.stop();
  });

  const md = (pairs: Record<string, string>) => {
    const m = new grpc.Metadata();
    for (const [k, v] of Object.entries(pairs)) m.set(k, v);
    return m;
  };

  test('key-auth: no key is UNAUTHENTICATED (16) "Unauthenticated"; a good key goes through', async () => {
    const denied = await unaryCall(client, '/test.Echo/Unary', 'hi', md({ 'x-route': 'keyed' }));
    assert.equal(denied.err?.code, grpc.status.UNAUTHENTICATED, denied.err?.details);
    assert.equal(denied.err?.details, 'Unauthenticated');
    const wrong = await unaryCall(client, '/test.Echo/Unary', 'hi', md({ 'x-route': 'keyed', apikey: 'nope' }));
    assert.equal(wrong.err?.code, grpc.status.UNAUTHENTICATED, wrong.err?.details);
    const ok = await unaryCall(client, '/test.Echo/Unary', 'hi', md({ 'x-route': 'keyed', apikey: 'alice-key' }));
    assert.equal(ok.err, undefined);
    assert.equal(ok.reply, 'echo:hi:/test.Echo/Unary');
  });

  test('rate-limiting: the call over the limit is RESOURCE_EXHAUSTED (8) "ResourceExhausted"', async () => {
    const first = await unaryCall(client, '/test.Echo/Unary', 'one', md({ 'x-route': 'limited' }));
    assert.equal(first.err, undefined);
    const second = await unaryCall(client, '/test.Echo/Unary', 'two', md({ 'x-route': 'limited' }));
    assert.equal(second.err?.code, grpc.status.RESOURCE_EXHAUSTED, second.err?.details);
    assert.equal(second.err?.details, 'ResourceExhausted');
  });

  test('ip-restriction: a denied address is PERMISSION_DENIED (7) "PermissionDenied"', async () => {
    const r = await unaryCall(client, '/test.Echo/Unary', 'hi', md({ 'x-route': 'fenced' }));
    assert.equal(r.err?.code, grpc.status.PERMISSION_DENIED, r.err?.details);
    assert.equal(r.err?.details, 'PermissionDenied');
  });

  test('no route is NOT_FOUND (5) "NotFound"; an HTTP client still gets the JSON body', async () => {
    const r = await unaryCall(client, '/other.Service/Call', 'hi');
    assert.equal(r.err?.code, grpc.status.NOT_FOUND, r.err?.details);
    assert.equal(r.err?.details, 'NotFound');
    const http = await fetch(`${gw.proxy}/other.Service/Call`);
    assert.equal(http.status, 404);
    assert.deepEqual(await http.json(), { message: 'no Route matched with those values' });
  });

  test('an upstream slower than read_timeout is DEADLINE_EXCEEDED (4) with Kong\'s message', async () => {
    const r = await unaryCall(client, '/test.Echo/Unary', 'sleep:2000');
    assert.equal(r.err?.code, grpc.status.DEADLINE_EXCEEDED, r.err?.details);
    assert.equal(r.err?.details, 'The upstream server is timing out');
  });

  test('an unreachable upstream is INTERNAL (13), Kong\'s 502 message', async () => {
    const r = await unaryCall(client, '/test.Gone/Call', 'hi');
    assert.equal(r.err?.code, grpc.status.INTERNAL, r.err?.details);
    assert.equal(r.err?.details, 'An invalid response was received from the upstream server');
  });
});
