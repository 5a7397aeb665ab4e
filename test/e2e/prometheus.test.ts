// Kong's prometheus plugin through a real Envoy and the log companion: requests sent through
// the proxy are scraped from the companion's admin /metrics in Kong's names, labels and
// buckets (kong/plugins/prometheus/exporter.lua), counted exactly once each; the plugin's
// flags choose the metrics per route; requests no route took are not counted (Kong counts only
// requests of a service); rate-limit refusals and auth failures are counted per route; with
// upstream_health_metrics, kong_upstream_target_health follows Envoy's health checks.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createLogger, silentLogger } from '../../src/logger.js';
import { KONG_LATENCY_BUCKETS, UPSTREAM_LATENCY_BUCKETS } from '../../src/log/kong-metrics.js';
import { startLogService, type RunningLog } from '../../src/log/service.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** The Prometheus text exposition format, sample lines only. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject).end();
  });
}

function send(gw: Gateway, path: string, o: { headers?: Record<string, string>; body?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, method: o.body ? 'POST' : 'GET', headers: { ...o.headers, ...(o.body ? { 'content-length': Buffer.byteLength(o.body) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const KEY = 'partner-key-1';

describe('prometheus: Kong\'s metrics from the log companion', () => {
  let up: Awaited<ReturnType<typeof startEchoUpstream>>;
  let flaky: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  let authz: TestAuthz;
  let logSvc: RunningLog;
  let rl: TestRateLimitService;
  let metricsUrl: string;
  const scrape = async () => parse((await get(metricsUrl)).body);
  const one = (samples: Sample[], name: string, labels: Record<string, string>) => samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const value = (samples: Sample[], name: string, labels: Record<string, string>) => one(samples, name, labels).reduce((a, s) => a + s.value, 0);

  before(async () => {
    up = await startEchoUpstream('shop');
    flaky = await startEchoUpstream('flaky');
    const az = await authzForTests();
    const logPort = await freePort();
    const rlPort = await freePort();
    gw = await startGateway(`_format_version: "3.0"
plugins:
  - name: prometheus
    config: { per_consumer: true, status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true }
upstreams:
  - name: checked
    targets:
      - target: 127.0.0.1:${up.port}
      - target: 127.0.0.1:${flaky.port}
    healthchecks:
      active:
        http_path: /health
        timeout: 1
        healthy: { interval: 0.2, successes: 1 }
        unhealthy: { interval: 0.2, tcp_failures: 1, http_failures: 1 }
  - name: plain
    targets:
      - target: localhost:${up.port}
consumers:
  - username: partner
    keyauth_credentials:
      - key: ${KEY}
services:
  - name: pooled
    host: checked
    routes: [{ name: pooled, paths: [/pooled] }]
  - name: unchecked
    host: plain
    routes: [{ name: unchecked, paths: [/unchecked] }]
  - name: shop
    url: ${up.url}
    routes:
      - name: open
        paths: [/open]
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
      - name: limited
        paths: [/limited]
        plugins:
          - name: rate-limiting
            config: { minute: 2, policy: local }
      - name: quiet
        paths: [/quiet]
        plugins:
          - name: prometheus
            config: { latency_metrics: true }
`, { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port }, ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: rlPort }, log: { host: '127.0.0.1', port: logPort } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    rl = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort });
    logSvc = await startLogService({
      xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: logPort, adminPort: 0, nodeId: `log-test-${logPort}`,
      envoyAdmin: new URL(gw.envoy.adminUrl).host,
      logger: process.env.FRONTDESK_TEST_LOG ? createLogger(process.env.FRONTDESK_TEST_LOG) : silentLogger(),
    });
    metricsUrl = `http://127.0.0.1:${logSvc.adminPort}/metrics`;
    await waitFor(() => logSvc.ready(), 'the log companion to load its sinks', 15_000);
  });
  after(async () => {
    await gw?.stop();
    await logSvc?.stop();
    await authz?.stop();
    await rl?.stop();
    await up?.close();
    await flaky?.close();
  });

  test('every request counted once, in Kong\'s names and labels', async () => {
    const body = 'x'.repeat(1000);
    for (let i = 0; i < 3; i++) assert.equal(await send(gw, '/open/items'), 200);
    assert.equal(await send(gw, '/open/upload', { body }), 200);
    assert.equal(await send(gw, '/keyed/a', { headers: { apikey: KEY } }), 200);
    assert.equal(await send(gw, '/keyed/b', { headers: { apikey: KEY } }), 200);
    assert.equal(await send(gw, '/keyed/c', { headers: { apikey: 'wrong' } }), 401);
    assert.equal(await send(gw, '/keyed/d'), 401);
    const limited = [await send(gw, '/limited'), await send(gw, '/limited'), await send(gw, '/limited')];
    assert.deepEqual(limited, [200, 200, 429]);
    assert.equal(await send(gw, '/nowhere'), 404);
    for (let i = 0; i < 2; i++) assert.equal(await send(gw, '/quiet'), 200);

    // Entries reach the companion a moment later (Envoy buffers them): wait for the last ones.
    const total = 3 + 1 + 4 + 3;
    const m = await waitFor(async () => {
      const s = await scrape();
      const counted = value(s, 'kong_http_requests_total', { service: 'shop' });
      const quiet = value(s, 'kong_request_latency_ms_count', { route: 'quiet' });
      return counted >= total && quiet >= 2 ? s : undefined;
    }, 'every request in the scrape', 15_000);

    const req = (labels: Record<string, string>) => value(m, 'kong_http_requests_total', { service: 'shop', workspace: 'default', ...labels });
    assert.equal(req({}), total, 'each request counted exactly once; /nowhere (no service) and quiet (no status metrics) not at all');
    assert.equal(req({ route: 'open', code: '200', source: 'service', consumer: '' }), 4);
    assert.equal(req({ route: 'keyed', code: '200', source: 'service', consumer: 'partner' }), 2, 'per_consumer: the consumer authz identified');
    assert.equal(req({ route: 'keyed', code: '401', source: 'kong', consumer: '' }), 2, 'refused by the gateway: source kong');
    assert.equal(req({ route: 'limited', code: '200', source: 'service' }), 2);
    assert.equal(req({ route: 'limited', code: '429', source: 'kong' }), 1);
    assert.equal(one(m, 'kong_http_requests_total', { route: 'quiet' }).length, 0, 'status_code_metrics is off on quiet');
    assert.deepEqual(Object.keys(one(m, 'kong_http_requests_total', { route: 'open' })[0]!.labels).sort(), ['code', 'consumer', 'route', 'service', 'source', 'workspace']);

    // Latency histograms, in Kong's buckets: every request in request and kong latency; only
    // the proxied ones in upstream latency.
    const count = (name: string, route: string) => value(m, `${name}_count`, { service: 'shop', route, workspace: 'default' });
    assert.equal(count('kong_request_latency_ms', 'open'), 4);
    assert.equal(count('kong_request_latency_ms', 'keyed'), 4);
    assert.equal(count('kong_upstream_latency_ms', 'keyed'), 2, 'the two refused requests never went upstream');
    assert.equal(count('kong_kong_latency_ms', 'keyed'), 4);
    assert.equal(count('kong_request_latency_ms', 'quiet'), 2, 'latency_metrics is on on quiet');
    const les = (name: string) => one(m, `${name}_bucket`, { route: 'open' }).map((s) => s.labels.le);
    assert.deepEqual(les('kong_kong_latency_ms'), [...KONG_LATENCY_BUCKETS.map(String), '+Inf']);
    assert.deepEqual(les('kong_upstream_latency_ms'), [...UPSTREAM_LATENCY_BUCKETS.map(String), '+Inf']);
    assert.deepEqual(les('kong_request_latency_ms'), [...UPSTREAM_LATENCY_BUCKETS.map(String), '+Inf']);
    assert.equal(value(m, 'kong_request_latency_ms_bucket', { route: 'open', le: '+Inf' }), 4);

    // Bandwidth: headers and body, both ways; the 1000-byte body is in the ingress.
    const ingress = value(m, 'kong_bandwidth_bytes', { service: 'shop', route: 'open', direction: 'ingress', workspace: 'default', consumer: '' });
    const egress = value(m, 'kong_bandwidth_bytes', { service: 'shop', route: 'open', direction: 'egress', workspace: 'default', consumer: '' });
    assert.ok(ingress > 1000, `ingress ${ingress} holds the body`);
    assert.ok(egress > 0, `egress ${egress}`);
    assert.ok(value(m, 'kong_bandwidth_bytes', { route: 'keyed', consumer: 'partner' }) > 0);
    assert.equal(one(m, 'kong_bandwidth_bytes', { route: 'quiet' }).length, 0, 'bandwidth_metrics is off on quiet');

    // The deep dive's alerts, per route.
    assert.equal(value(m, 'frontdesk_rate_limit_hits_total', { service: 'shop', route: 'limited' }), 1);
    assert.equal(value(m, 'frontdesk_auth_failures_total', { service: 'shop', route: 'keyed', code: '401' }), 2);
    assert.equal(value(m, 'frontdesk_auth_failures_total', { route: 'open' }), 0);
  });

  test('served as Prometheus text on the companion\'s admin /metrics', async () => {
    const r = await get(metricsUrl);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    for (const [name, type] of [['kong_http_requests_total', 'counter'], ['kong_request_latency_ms', 'histogram'], ['kong_upstream_latency_ms', 'histogram'], ['kong_kong_latency_ms', 'histogram'], ['kong_bandwidth_bytes', 'counter']]) {
      assert.match(r.body, new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
    }
  });
  // upstream_health_metrics (the global plugin above): Kong's target health, four samples per
  // target address (healthchecks_off, healthy, unhealthy, dns_error), 1 for the current state.
  const health = (m: Sample[], upstream: string, target: string): Record<string, Sample> => Object.fromEntries(one(m, 'kong_upstream_target_health', { upstream, target }).map((s) => [s.labels.state!, s]));
  const stateOf = (m: Sample[], upstream: string, target: string) => Object.entries(health(m, upstream, target)).filter(([, s]) => s.value === 1).map(([state]) => state);

  test('kong_upstream_target_health: an actively checked target reads healthy, then unhealthy once it goes down', async () => {
    const live = `127.0.0.1:${up.port}`;
    const down = `127.0.0.1:${flaky.port}`;
    const m = await waitFor(async () => {
      const s = await scrape();
      return stateOf(s, 'checked', live).join() === 'healthy' && stateOf(s, 'checked', down).join() === 'healthy' ? s : undefined;
    }, 'both targets of "checked" healthy', 15_000);
    const h = health(m, 'checked', live);
    assert.deepEqual(Object.keys(h).sort(), ['dns_error', 'healthchecks_off', 'healthy', 'unhealthy'], 'one sample per state');
    for (const s of Object.values(h)) {
      assert.deepEqual(s.labels, { upstream: 'checked', target: live, address: live, state: s.labels.state, subsystem: 'http' });
      assert.equal(s.value, s.labels.state === 'healthy' ? 1 : 0);
    }

    await flaky.close();
    const after = await waitFor(async () => {
      const s = await scrape();
      return stateOf(s, 'checked', down).join() === 'unhealthy' ? s : undefined;
    }, 'the closed target unhealthy', 15_000);
    assert.deepEqual(stateOf(after, 'checked', live), ['healthy'], 'the other target stays healthy');
    assert.equal(value(after, 'kong_upstream_target_health', { upstream: 'checked', target: down }), 1, 'one state at a time');
  });

  test('kong_upstream_target_health: a target without health checks reads healthchecks_off, at the address its name resolved to', async () => {
    const target = `localhost:${up.port}`;
    const m = await waitFor(async () => {
      const s = await scrape();
      return stateOf(s, 'plain', target).length ? s : undefined;
    }, 'the target of "plain" in the scrape', 15_000);
    assert.deepEqual(stateOf(m, 'plain', target), ['healthchecks_off']);
    assert.deepEqual(one(m, 'kong_upstream_target_health', { upstream: 'plain', state: 'healthchecks_off' }).map((s) => s.labels.address), [`127.0.0.1:${up.port}`]);
    const r = await get(metricsUrl);
    assert.match(r.body, /^# TYPE kong_upstream_target_health gauge$/m);
  });
});

