// The companions report not-ready until they hold their policy from the control plane: the
// ratelimit companion's /readyz answers 503 and gRPC health (grpc.health.v1.Health/Check)
// NOT_SERVING for both authz and ratelimit while no control plane is up; once one starts on
// the address they were given, /readyz answers 200 and health SERVING.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startAuthzService, type RunningAuthz } from '../../src/authz/service.js';
import { HEALTH_CHECK_METHOD, isServing } from '../../src/grpc-health.js';
import { silentLogger } from '../../src/logger.js';
import { startRateLimitService, type RunningRateLimitService } from '../../src/ratelimit/service.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { AdsServer } from '../../src/xds/ads-server.js';
import { buildSnapshot } from '../../src/xds/snapshot.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

function health(port: number): Promise<boolean> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<boolean>((resolve, reject) => client.makeUnaryRequest(HEALTH_CHECK_METHOD, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, new Uint8Array(), (err, res) => {
    client.close();
    if (err) reject(err);
    else resolve(isServing(res!));
  }));
}

const YAML = `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    routes:
      - name: r
        paths: [/]
        plugins:
          - name: key-auth
          - name: rate-limiting
            config: { minute: 5 }
`;

let ads: AdsServer | undefined;
let rl: RunningRateLimitService | undefined;
let authz: RunningAuthz | undefined;
after(async () => {
  await rl?.stop();
  await authz?.stop();
  await ads?.close();
});

test('not ready (503, NOT_SERVING) before the control plane is up, ready (200, SERVING) once it served them', async () => {
  const xdsPort = await freePort();
  const xds = { host: '127.0.0.1', port: xdsPort };
  rl = await startRateLimitService({ xds, host: '127.0.0.1', port: 0, adminPort: 0, nodeId: 'rl-readiness', logger: silentLogger() });
  authz = await startAuthzService({ xds, host: '127.0.0.1', port: 0, nodeId: 'authz-readiness', logger: silentLogger() });
  const readyz = async () => (await fetch(`http://127.0.0.1:${rl!.adminPort}/readyz`)).status;

  assert.equal(await readyz(), 503);
  assert.equal(await health(rl.port), false, 'ratelimit: NOT_SERVING');
  assert.equal(await health(authz.port), false, 'authz: NOT_SERVING');

  ads = new AdsServer(silentLogger());
  const r = compileConfig([{ file: 'gateway.yaml', text: YAML }], { settings: DEFAULT_SETTINGS });
  assert.ok(r.ok && r.translation);
  ads.setSnapshot(buildSnapshot(r.translation, Date.now()));
  await ads.listen('127.0.0.1', xdsPort);

  await waitFor(async () => (await readyz()) === 200, 'ratelimit /readyz to answer 200', 15_000);
  assert.equal(await health(rl.port), true, 'ratelimit: SERVING');
  await waitFor(() => health(authz!.port), 'authz to report SERVING', 15_000);
});
