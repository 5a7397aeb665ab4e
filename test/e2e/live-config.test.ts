// Live edits of the YAML reach a real Envoy: routes added, changed and removed without a
// restart; a bad edit changes nothing and shows in /status; no request fails across edits.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function call(gw: Gateway, path: string): Promise<{ status: number; upstream?: string; path?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const body = text ? JSON.parse(text) as { upstream?: string; path?: string } : {};
        resolve({ status: res.statusCode ?? 0, upstream: body.upstream, path: body.path });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const config = (a: Upstream, b: Upstream, extra = '', aPath = '/a') => `
_format_version: "3.0"
services:
  - name: svc-a
    url: ${a.url}
    connect_timeout: 2000
    routes:
      - name: route-a
        paths: [${aPath}]
  - name: svc-b
    url: ${b.url}
    routes:
      - name: steady
        paths: [/steady]
${extra}`;

for (const delta of [false, true]) {
  describe(`live config (${delta ? 'delta' : 'state-of-the-world'} xDS)`, () => {
    let a: Upstream;
    let b: Upstream;
    let gw: Gateway;

    before(async () => {
      [a, b] = await Promise.all([startEchoUpstream('a'), startEchoUpstream('b')]);
      gw = await startGateway(config(a, b), { delta });
    });
    after(async () => {
      await gw?.stop();
      await Promise.all([a?.close(), b?.close()]);
    });

    test('adding, changing and removing a route applies live', async () => {
      assert.equal((await call(gw, '/new/x')).status, 404);
      await gw.edit(config(a, b, `      - name: added
        paths: [/new]`));
      await waitFor(async () => (await call(gw, '/new/x')).upstream === 'b', 'the added route to serve');

      await gw.edit(config(a, b, `      - name: added
        paths: [/renamed]`));
      await waitFor(async () => (await call(gw, '/renamed/x')).upstream === 'b', 'the changed route to serve');
      assert.equal((await call(gw, '/new/x')).status, 404);

      await gw.edit(config(a, b));
      await waitFor(async () => (await call(gw, '/renamed/x')).status === 404, 'the removed route to stop serving');
      assert.equal((await call(gw, '/steady')).upstream, 'b');
    });

    test('a service added with its route, then removed, never fails a request on the others', async () => {
      const c = await startEchoUpstream('c');
      // Requests to the other services' routes run the whole time the service comes and goes.
      let stop = false;
      const served = { a: 0, b: 0 };
      const failures: string[] = [];
      const loop = async (path: string, want: 'a' | 'b') => {
        while (!stop) {
          try {
            const r = await call(gw, path);
            if (r.status === 200 && r.upstream === want) served[want]++;
            else failures.push(`${path}: status ${r.status} from ${r.upstream ?? 'nobody'}`);
          } catch (e) {
            failures.push(`${path}: ${(e as Error).message}`);
          }
        }
      };
      const loops = [loop('/a/1', 'a'), loop('/steady/1', 'b')];
      try {
        const withC = `${config(a, b)}  - name: svc-c
    url: ${c.url}
    routes:
      - name: route-c
        paths: [/c]
`;
        const before = { ...served };
        await gw.edit(withC);
        await waitFor(async () => (await call(gw, '/c/1')).upstream === 'c', 'the new service to serve');
        await gw.edit(config(a, b));
        await waitFor(async () => (await call(gw, '/c/1')).status === 404, 'the removed service to stop serving');
        // Both loops went on answering across both edits.
        await waitFor(() => served.a > before.a + 5 && served.b > before.b + 5, 'both routes to keep serving');
      } finally {
        stop = true;
        await Promise.all(loops);
        await c.close();
      }
      assert.deepEqual(failures, []);
      assert.ok(served.a > 0 && served.b > 0, `requests to the others went through (${served.a} to a, ${served.b} to b)`);
    });

    test('a bad edit keeps the last good config serving and shows in /status', async () => {
      const good = gw.cp.ads.snapshot!.version;
      const bad = config(a, b, `      - name: broken
        paths: [/x]
        strip_pth: true`);
      gw.write(bad);
      const badLine = bad.split('\n').findIndex((l) => l.includes('strip_pth')) + 1;
      const status = await waitFor(async () => {
        const s = await (await fetch(`${gw.admin}/status`)).json() as { lastError: { errors: { code: string; line: number; col: number; text: string }[] } | null; version: string };
        return s.lastError ? s : undefined;
      }, '/status to show the error');
      assert.equal(status.version, good, 'the version did not change');
      const err = status.lastError!.errors[0]!;
      assert.equal(err.code, 'FD_UNKNOWN_KEY');
      assert.equal(err.line, badLine);
      assert.equal(err.col, 9);
      assert.match(err.text, /did you mean "strip_path"/);
      assert.equal((await call(gw, '/a/ok')).upstream, 'a', 'the old config still serves');
      const metrics = await (await fetch(`${gw.admin}/metrics`)).text();
      assert.match(metrics, /frontdesk_config_errors_total [1-9]/);
      await gw.edit(config(a, b));
      const fixed = await (await fetch(`${gw.admin}/status`)).json() as { lastError: unknown };
      assert.equal(fixed.lastError, null, 'a good edit clears the error');
    });

    test('a service setting changed alone is in force at once: the cluster warms on its endpoints, sent again', async () => {
      // Envoy warms a changed cluster and waits for its ClusterLoadAssignment; one that never
      // comes again is waited out (initial_fetch_timeout), counted in init_fetch_timeout.
      const timeouts = async () => {
        const text = await (await fetch(`${gw.envoy.adminUrl}/stats?filter=${encodeURIComponent('^cluster\\.service.svc-a\\.init_fetch_timeout$')}`)).text();
        return Number(/: (\d+)$/m.exec(text)?.[1] ?? NaN);
      };
      const before = await timeouts();
      assert.ok(Number.isFinite(before), 'Envoy counts the EDS fetch timeouts of svc-a');
      const connectTimeout = async () => {
        const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump?resource=dynamic_active_clusters`)).json() as { configs: { cluster: { name: string; connect_timeout: string } }[] };
        return dump.configs.find((c) => c.cluster.name === 'service:svc-a')?.cluster.connect_timeout;
      };
      assert.equal(await connectTimeout(), '2s');
      gw.write(config(a, b).replace('connect_timeout: 2000', 'connect_timeout: 3000'));
      await waitFor(async () => (await connectTimeout()) === '3s' || undefined, 'the changed cluster to be active', 30_000, 25);
      assert.equal(await timeouts(), before, 'activated on the endpoints sent after it, not on the fetch timeout');
      assert.equal((await call(gw, '/a/x')).upstream, 'a', 'with its endpoints');
      await gw.edit(config(a, b));
    });

    test('a one-route edit sends the route configuration alone, and its timeline runs in order from the file event to Envoy holding it', async () => {
      await gw.edit(config(a, b, '', '/a-moved'));
      const t = await waitFor(() => { const e = gw.cp.lastEdit(); return e?.version === gw.cp.ads.snapshot!.version && e.steps['first node holds it'] !== undefined ? e : undefined; }, 'the edit\'s timeline', 10_000);
      const order = ['debounce fired', 'read', 'load', 'ir', 'translate', 'check', 'encoded (snapshot)', 'handed to the streams', 'RDS queued', 'RDS written', 'RDS ACK', 'first node holds it'];
      const at = order.map((step) => Object.entries(t.steps).find(([k]) => k === step || k.startsWith(`${step} (`))?.[1]);
      assert.ok(at.every((x) => x !== undefined), `every step is there: ${JSON.stringify(t.steps)}`);
      for (let i = 1; i < at.length; i++) assert.ok(at[i]! >= at[i - 1]!, `${order[i]} after ${order[i - 1]}: ${JSON.stringify(t.steps)}`);
      assert.ok(at[0]! >= 0, 'steps count from the watcher\'s first event');
      // Only the route changed: clusters, endpoints and listeners are not sent again.
      assert.deepEqual(Object.keys(t.steps).filter((k) => / queued$/.test(k)), ['RDS queued']);
      assert.equal((await call(gw, '/a-moved/x')).upstream, 'a');
      await gw.edit(config(a, b));
    });

    test('an edit that changes nothing pushes nothing', async () => {
      const pushes = () => gw.cp.registry.render().split('\n').filter((l) => l.startsWith('frontdesk_xds_pushes_total')).map((l) => Number(l.split(' ').pop())).reduce((x, y) => x + y, 0);
      const before = pushes();
      const version = gw.cp.ads.snapshot!.version;
      const outcome = gw.cp.reload();
      assert.equal(outcome.result, 'unchanged');
      assert.equal(gw.cp.ads.snapshot!.version, version);
      assert.equal(pushes(), before);
    });

    test('a request loop across 20 edits sees no failed request', async () => {
      let stop = false;
      let ok = 0;
      const failures: string[] = [];
      const loop = async () => {
        while (!stop) {
          try {
            const r = await call(gw, '/steady/ping');
            if (r.status === 200 && r.upstream === 'b') ok++;
            else failures.push(`status ${r.status}`);
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      };
      const loops = [loop(), loop(), loop()];
      for (let i = 0; i < 20; i++) {
        // Alternate route-only edits with edits that add and remove a cluster.
        const extra = i % 2 === 0
          ? `      - name: churn-${i}\n        paths: [/churn-${i}]\n`
          : `  - name: svc-churn-${i}\n    url: http://127.0.0.1:${a.port}\n    routes:\n      - name: churn-${i}\n        paths: [/churn-${i}]\n`;
        await gw.edit(i % 2 === 0 ? config(a, b, extra, i % 4 === 0 ? '/a' : '/a2') : `${config(a, b)}${extra}`);
      }
      stop = true;
      await Promise.all(loops);
      assert.deepEqual(failures, []);
      assert.ok(ok > 20, `requests went through during the edits (${ok})`);
    });
  });
}
