// Upstream health checks of `type: grpc` (Kong's healthchecks.active.type): Envoy asks each
// target the gRPC health checking protocol (grpc.health.v1.Health/Check) and stops sending
// calls to a target that answers NOT_SERVING, and sends them again once it answers SERVING.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { rawBytes, unaryCall } from '../support/grpc-echo.js';
import { waitFor } from '../support/wait.js';

/** grpc.health.v1.HealthCheckResponse { status = 1 SERVING | 2 NOT_SERVING } as protobuf bytes. */
const healthReply = (serving: boolean) => Buffer.from([0x08, serving ? 1 : 2]);

interface Target { port: number; serving: boolean; checks: number; stop(): void }

async function startTarget(name: string): Promise<Target> {
  const server = new grpc.Server();
  const t: Target = { port: 0, serving: true, checks: 0, stop: () => server.forceShutdown() };
  const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
    path, requestStream: false, responseStream: false,
    requestSerialize: rawBytes.serialize, requestDeserialize: rawBytes.deserialize, responseSerialize: rawBytes.serialize, responseDeserialize: rawBytes.deserialize,
  });
  server.addService({ Check: method('/grpc.health.v1.Health/Check') }, {
    Check: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => { t.checks++; cb(null, healthReply(t.serving)); },
  });
  server.addService({ Unary: method('/test.Echo/Unary') }, {
    Unary: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)),
  });
  t.port = await new Promise<number>((r, j) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  return t;
}

describe('gRPC health checks through Envoy', () => {
  let a: Target;
  let b: Target;
  let gw: Gateway;
  let client: grpc.Client;

  before(async () => {
    a = await startTarget('a');
    b = await startTarget('b');
    gw = await startGateway(`
_format_version: "3.0"
upstreams:
  - name: pool
    targets:
      - target: 127.0.0.1:${a.port}
      - target: 127.0.0.1:${b.port}
    healthchecks:
      active:
        type: grpc
        timeout: 1
        healthy: { interval: 0.1, successes: 1 }
        unhealthy: { interval: 0.1, http_failures: 1 }
services:
  - name: echo
    host: pool
    protocol: grpc
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
    a?.stop();
    b?.stop();
  });

  /** The targets that answer `n` calls in a row. */
  const answering = async (n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add((await unaryCall(client, '/test.Echo/Unary', 'x')).reply ?? 'error');
    return [...seen].sort().join(',');
  };

  test('both targets serve while both are SERVING; the health service is asked', async () => {
    await waitFor(() => a.checks > 0 && b.checks > 0, 'both targets to be health-checked', 10_000);
    assert.equal(await waitFor(async () => ((await answering(20)) === 'a,b' ? 'a,b' : undefined), 'both targets to answer', 10_000), 'a,b');
  });

  test('a target answering NOT_SERVING gets no calls, and gets them again once SERVING', async () => {
    b.serving = false;
    assert.equal(await waitFor(async () => ((await answering(20)) === 'a' ? 'a' : undefined), 'b to be taken out', 10_000), 'a');
    b.serving = true;
    a.serving = false;
    assert.equal(await waitFor(async () => ((await answering(20)) === 'b' ? 'b' : undefined), 'a out and b back', 10_000), 'b');
  });
});
