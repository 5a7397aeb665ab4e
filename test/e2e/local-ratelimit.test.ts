// Kong's rate-limiting `policy: local` through a real Envoy, one table of Kong-semantics cases
// run against both enforcers in one gateway: Envoy's own local_ratelimit (routes under /native,
// the default where Envoy gives Kong's answer) and the ratelimit companion (the same plugins
// with `enforcer: companion`, routes under /companion). Each case expects what Kong documents
// for the plugin: N requests pass in a window, the next is refused with 429 and
// {"message": error_message} as JSON, no rate-limit headers with hide_client_headers, routes of
// one service-scoped plugin share its count, a refused gRPC call gets RESOURCE_EXHAUSTED.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';
import { startEchoUpstream } from '../support/upstream.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string }

function send(gw: Gateway, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const ENFORCERS = ['native', 'companion'] as const;
type Enforcer = (typeof ENFORCERS)[number];
const enforcerField = (e: Enforcer) => (e === 'companion' ? ', enforcer: companion' : '');
const raw = (b: Buffer) => b;

/** The same plugins twice: under /native (served by Envoy) and /companion (enforcer: companion). */
function config(upstream: string, grpcPort: number): string {
  const services = ENFORCERS.map((e) => `  - name: ${e}
    url: ${upstream}
    plugins:
      - name: rate-limiting
        config: { minute: 3, limit_by: service, hide_client_headers: true${enforcerField(e)} }
    routes:
      - name: ${e}-shared-a
        paths: [/${e}/shared-a]
      - name: ${e}-shared-b
        paths: [/${e}/shared-b]
      - name: ${e}-own
        paths: [/${e}/own]
        plugins:
          - name: rate-limiting
            config: { minute: 2, limit_by: service, hide_client_headers: true, error_message: "Slow down, please"${enforcerField(e)} }
  - name: ${e}-grpc
    url: grpc://127.0.0.1:${grpcPort}
    routes:
      - name: ${e}-grpc
        paths: [/${e}.Echo/]
        strip_path: false
        protocols: [grpc]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: service, hide_client_headers: true${enforcerField(e)} }
`).join('');
  return `_format_version: "3.0"\nservices:\n${services}`;
}

const RL_HEADER = /^(x-ratelimit|ratelimit|retry-after|x-envoy-ratelimited)/i;

describe('rate-limiting policy local: Envoy and the companion give the same answers', () => {
  let up: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  let svc: TestRateLimitService;
  let grpcServer: grpc.Server;

  before(async () => {
    up = await startEchoUpstream('up');
    grpcServer = new grpc.Server();
    grpcServer.addService(Object.fromEntries(ENFORCERS.map((e) => [e, {
      path: `/${e}.Echo/Unary`, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw,
    }])) as grpc.ServiceDefinition, Object.fromEntries(ENFORCERS.map((e) => [e, (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request)])));
    const grpcPort = await new Promise<number>((r, j) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
    const rlPort = await freePort();
    gw = await startGateway(config(up.url, grpcPort), { settings: { ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: rlPort, timeoutMs: 1000 } } });
    svc = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort });
    await gw.converged();
  });
  after(async () => {
    await svc?.stop();
    await gw?.stop();
    await up?.close();
    grpcServer?.forceShutdown();
  });

  test('the configuration puts the /native routes on local_ratelimit and the /companion routes on the ratelimit service', async () => {
    const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump`)).text();
    assert.match(dump, /envoy\.extensions\.filters\.http\.local_ratelimit\.v3\.LocalRateLimit/);
    assert.match(dump, /"descriptor_value": "service:native\|native"/);
    assert.doesNotMatch(dump, /"descriptor_value": "service:companion\|companion"/);
  });

  for (const e of ENFORCERS) {
    test(`${e}: a service-scoped limit of 3 a minute is shared by the service's routes, then 429 with Kong's body and no rate-limit headers`, async () => {
      const got: Reply[] = [];
      for (const p of ['shared-a', 'shared-b', 'shared-a', 'shared-b']) got.push(await send(gw, `/${e}/${p}`));
      assert.deepEqual(got.map((r) => r.status), [200, 200, 200, 429]);
      const refused = got[3]!;
      assert.equal(refused.text, '{"message":"API rate limit exceeded"}');
      assert.equal(refused.headers['content-type'], 'application/json; charset=utf-8');
      for (const r of got) assert.deepEqual(Object.keys(r.headers).filter((h) => RL_HEADER.test(h)), [], 'hide_client_headers: none of Kong\'s rate-limit headers');
    });

    test(`${e}: a route's own plugin counts apart from its service's, and refuses with its error_message`, async () => {
      const got: Reply[] = [];
      for (let i = 0; i < 3; i++) got.push(await send(gw, `/${e}/own`));
      assert.deepEqual(got.map((r) => r.status), [200, 200, 429]);
      assert.equal(got[2]!.text, '{"message":"Slow down, please"}');
    });

    test(`${e}: a refused gRPC call gets grpc-status 8 (RESOURCE_EXHAUSTED), as Kong maps 429`, async () => {
      const client = new grpc.Client(`127.0.0.1:${gw.proxyPort}`, grpc.credentials.createInsecure());
      const call = () => new Promise<{ code: grpc.status; value?: string }>((resolve) => {
        client.makeUnaryRequest(`/${e}.Echo/Unary`, raw, raw, Buffer.from('hi'), (err, value) => resolve(err ? { code: err.code } : { code: grpc.status.OK, value: value!.toString() }));
      });
      try {
        assert.deepEqual(await call(), { code: grpc.status.OK, value: 'hi' });
        assert.deepEqual(await call(), { code: grpc.status.RESOURCE_EXHAUSTED });
      } finally {
        client.close();
      }
    });
  }
});
