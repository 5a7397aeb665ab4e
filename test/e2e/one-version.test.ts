// One version everywhere, through a real Envoy and real authz and ratelimit companions (key-auth
// here says `enforcer: companion`: what is tested is Envoy and the companions agreeing): the
// policies Envoy names per request are addressed by content, and the companions keep every
// policy a connected Envoy still routes by. An edit Envoy refuses (a NACK) leaves Envoy on its
// old routes and the companions still enforce the old routes' policies: the protected route
// keeps its key-auth (200 with a key, 401 without), the limited route keeps its limit and its
// count. Then 30 renames of a protected, rate-limited route under four clients in a loop: not
// one request is refused or fails.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { AUTHZ_TYPE } from '../../src/contracts/authz.js';
import type { JsonObject } from '../../src/json.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { buildSnapshot } from '../../src/xds/snapshot.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { policyIdOf } from '../support/policy-ids.js';
import { freePort } from '../support/ports.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;

function send(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Names { protectedRoute: string; limitedRoute: string; hideCredentials: boolean; preflight?: boolean }

/** Alice (key alice-key) and the service whose routes follow. */
function withService(up: string, routes: string): string {
  return `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: svc
    url: ${up}
    routes:
${routes}`;
}

/** A key-auth route and a rate-limited one (3 an hour per ip, route-scoped: its counter is the route's). */
function config(up: string, n: Names): string {
  return withService(up, `      - name: ${n.protectedRoute}
        paths: [/protected]
        plugins:
          - name: key-auth
            config: { enforcer: companion, hide_credentials: ${n.hideCredentials}, run_on_preflight: ${n.preflight ?? true} }
      - name: ${n.limitedRoute}
        paths: [/limited]
        plugins:
          - name: rate-limiting
            config: { hour: 3, limit_by: ip }
`);
}

/** A protected, rate-limited route whose limit the loop never reaches. */
function loopConfig(up: string, route: string, preflight: boolean): string {
  return withService(up, `      - name: ${route}
        paths: [/loop]
        plugins:
          - name: key-auth
            config: { enforcer: companion, run_on_preflight: ${preflight} }
          - name: rate-limiting
            config: { hour: 1000000, limit_by: ip }
`);
}

describe('one version: Envoy and the companions never disagree', () => {
  let up: Upstream;
  let gw: Gateway;
  let authz: TestAuthz;
  let rl: TestRateLimitService | undefined;
  let settings: TranslateSettings;
  const first: Names = { protectedRoute: 'protected', limitedRoute: 'limited', hideCredentials: false };
  /** The config compiled as the gateway's control plane compiles it. */
  const compile = (yaml: string) => {
    const r = compileConfig([{ file: 'gateway.yaml', text: yaml }], { settings, ir: { defaultListener: { address: '127.0.0.1', port: gw.proxyPort } } });
    assert.ok(r.ok && r.translation, JSON.stringify(r.diagnostics));
    return r.translation;
  };

  before(async () => {
    up = await startEchoUpstream('up');
    const rlPort = await freePort();
    const az = await authzForTests();
    settings = {
      ...DEFAULT_SETTINGS,
      authz: { ...DEFAULT_SETTINGS.authz, port: az.port },
      ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: rlPort, timeoutMs: 1000 },
    };
    gw = await startGateway(config(up.url, first), { settings });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    rl = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort });
    await gw.converged();
  });
  after(async () => {
    await rl?.stop();
    await authz?.stop();
    await gw?.stop();
    await up?.close();
  });

  test('an edit Envoy refuses (NACK) leaves Envoy and the companions coherent: the old routes keep their policies', async () => {
    const key = { apikey: 'alice-key' };
    assert.equal(await send(gw, '/protected', key), 200);
    assert.equal(await send(gw, '/protected'), 401);
    assert.deepEqual([await send(gw, '/limited'), await send(gw, '/limited')], [200, 200]);

    // One edit renames both routes and changes their policies (hide_credentials; the limit's
    // counter scope is the route), and adds a route Envoy refuses: a path regex RE2 does not
    // compile. The configuration's checks would refuse such a route, so the RouteConfiguration
    // is changed after compiling, as a resource the checks had missed would be.
    const edited: Names = { protectedRoute: 'protected-renamed', limitedRoute: 'limited-renamed', hideCredentials: true };
    const t = compile(config(up.url, edited));
    const oldAuthz = policyIdOf(compile(config(up.url, first)), 'protected', 'authz');
    const newAuthz = policyIdOf(t, 'protected-renamed', 'authz');
    assert.notEqual(newAuthz, oldAuthz, "the edit changes the protected route's policy");
    const rds = t.fleets.get('')!.get(TYPE.route)!;
    for (const [name, rc] of rds) {
      const vhosts = (rc.virtual_hosts as JsonObject[]).map((vh, i) => (i === 0
        ? { ...vh, routes: [{ name: 'refused', match: { safe_regex: { regex: '/a(' } }, direct_response: { status: 200 } }, ...(vh.routes as JsonObject[])] }
        : vh));
      rds.set(name, { ...rc, virtual_hosts: vhosts });
    }
    const refused = buildSnapshot(t, Date.now(), gw.cp.ads.snapshot);
    gw.cp.ads.setSnapshot(refused);
    const nack = await waitFor(() => gw.cp.ads.nodes().find((n) => n.id === `e2e-${gw.proxyPort}`)?.types.RDS?.lastNack, 'Envoy to refuse the routes', 15_000);
    assert.match(nack.detail, /regex|missing \)/i, nack.detail);

    // Envoy routes by its old routes, which name the old policies: the companions still hold them.
    assert.equal(await send(gw, '/protected', key), 200, 'the key still opens the protected route');
    assert.equal(await send(gw, '/protected'), 401, 'no key is still refused as key-auth refuses it');
    assert.equal(await send(gw, '/limited'), 200, 'the third request of the hour, counted with the first two');
    assert.equal(await send(gw, '/limited'), 429, 'the limit is still enforced');
    const served = gw.cp.ads.delivered!.companions.get(AUTHZ_TYPE.routePolicy)!;
    assert.ok(served.has(oldAuthz) && served.has(newAuthz), 'authz is served the old policy beside the new one');

    // A good edit afterwards reaches everyone.
    await gw.edit(config(up.url, edited));
    assert.equal(await send(gw, '/protected', key), 200);
    assert.equal(await send(gw, '/protected'), 401);
    assert.equal(up.requests.at(-1)?.headers.apikey, undefined, 'the new policy hides the credential');
  });

  test('30 renames of a protected, rate-limited route under four clients looping: not one request refused or failed', async () => {
    await gw.edit(loopConfig(up.url, 'loop-0', true));
    assert.equal(await send(gw, '/loop', { apikey: 'alice-key' }), 200);
    let stop = false;
    const statuses = new Map<number, number>();
    const client = async () => {
      while (!stop) {
        const s = await send(gw, '/loop', { apikey: 'alice-key' }).catch(() => 0);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    };
    const clients = [client(), client(), client(), client()];
    const answered = () => [...statuses.values()].reduce((x, y) => x + y, 0);
    const routes = () => [...(gw.cp.ads.snapshot?.fleets.get('')?.get(TYPE.route)?.values() ?? [])];
    const applied = (name: string) => routes().some((r) => ((r.body as { virtual_hosts?: { routes?: { name?: string }[] }[] }).virtual_hosts ?? []).some((vh) => (vh.routes ?? []).some((x) => x.name === name)));
    try {
      // Each rename also changes both policies (run_on_preflight; the limit's route scope). The
      // next rename is written once this one is applied and the four clients have sent more
      // requests under it, so every version is served under traffic (no pause of fixed length).
      for (let i = 1; i <= 30; i++) {
        const before = answered();
        gw.write(loopConfig(up.url, `loop-${i}`, i % 2 === 0));
        await waitFor(() => applied(`loop-${i}`) && answered() >= before + 4, `rename ${i} applied and requests sent under it`);
      }
      await gw.converged();
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.ok(total >= 30, `${total} requests during the renames`);
    assert.deepEqual([...statuses.keys()], [200], `every request answered 200: ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});
