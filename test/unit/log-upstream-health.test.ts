// kong_upstream_target_health from the targets the control plane names and the hosts Envoy's
// admin /clusters?format=json lists: Kong's labels and states (exporter.lua), Envoy's health
// flags (envoy.admin.v3.HostHealthStatus) read as Kong's states; the gateway's YAML → the
// companion's UpstreamTargets resources.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { UpstreamTargets__Output } from '../../src/contracts/log.js';
import { buildIR } from '../../src/ir/build.js';
import { EnvoyClustersReader, renderTargetHealth, targetHealth, type EnvoyClusters, type EnvoyHost } from '../../src/log/upstream-health.js';
import { loadConfig } from '../../src/model/load.js';
import { upstreamTargetsResources } from '../../src/resources/filters/prometheus.js';

const host = (address: string, port: number, hostname: string, health: EnvoyHost['health_status'] = { eds_health_status: 'HEALTHY' }): EnvoyHost => ({
  address: { socket_address: { address, port_value: port } }, hostname, health_status: health,
});

const pool = (o: Partial<UpstreamTargets__Output> = {}): UpstreamTargets__Output => ({
  name: 'http:pool', upstream: 'pool', subsystem: 'http', healthchecks: true, clusters: ['service:a'],
  targets: [{ target: '10.0.0.1:8080', hostname: '10.0.0.1:8080', host: '10.0.0.1', port: 8080 }], ...o,
});

const state = (u: UpstreamTargets__Output, envoy: EnvoyClusters) => targetHealth([u], envoy).map((h) => `${h.target} ${h.address} ${h.state}`);

describe('kong_upstream_target_health: Envoy\'s flags as Kong\'s states', () => {
  test('a host no check has failed is healthy; one its active check or outlier detection failed is unhealthy', () => {
    const cases: Array<[EnvoyHost['health_status'], string]> = [
      [{ eds_health_status: 'HEALTHY' }, 'healthy'],
      [{ eds_health_status: 'HEALTHY', failed_active_health_check: true }, 'unhealthy'],
      [{ eds_health_status: 'HEALTHY', failed_outlier_check: true }, 'unhealthy'],
      [{ eds_health_status: 'HEALTHY', active_hc_timeout: true, failed_active_health_check: true }, 'unhealthy'],
      // Not checked yet: a new Kong target starts healthy.
      [{ eds_health_status: 'HEALTHY', failed_active_health_check: true, pending_active_hc: true }, 'healthy'],
      // Degraded hosts still take traffic; Kong has no degraded state.
      [{ eds_health_status: 'DEGRADED' }, 'healthy'],
      [{ eds_health_status: 'UNHEALTHY' }, 'unhealthy'],
    ];
    for (const [health, want] of cases) {
      const envoy = { cluster_statuses: [{ name: 'service:a', host_statuses: [host('10.0.0.1', 8080, '10.0.0.1:8080', health)] }] };
      assert.deepEqual(state(pool(), envoy), [`10.0.0.1:8080 10.0.0.1:8080 ${want}`], JSON.stringify(health));
    }
  });

  test('without health checks every address reads healthchecks_off, whatever Envoy\'s flags', () => {
    const envoy = { cluster_statuses: [{ name: 'service:a', host_statuses: [host('10.0.0.1', 8080, '10.0.0.1:8080', { failed_outlier_check: true })] }] };
    assert.deepEqual(state(pool({ healthchecks: false }), envoy), ['10.0.0.1:8080 10.0.0.1:8080 healthchecks_off']);
  });

  test('a target Envoy holds no host for reads dns_error with an empty address, as Kong\'s', () => {
    const u = pool({ targets: [{ target: 'api.internal:80', hostname: 'api.internal', host: 'api.internal', port: 80 }] });
    assert.deepEqual(state(u, { cluster_statuses: [{ name: 'service:a', host_statuses: [] }] }), ['api.internal:80  dns_error']);
    assert.deepEqual(state(u, { cluster_statuses: [] }), ['api.internal:80  dns_error'], 'no cluster at all');
  });

  test('a hostname target has one series per address it resolved to, recognised by hostname and port', () => {
    const u = pool({ targets: [{ target: 'api.internal:80', hostname: 'api.internal', host: 'api.internal', port: 80 }, { target: 'api.internal:81', hostname: 'api.internal:81', host: 'api.internal', port: 81 }] });
    const envoy = { cluster_statuses: [{ name: 'service:a', host_statuses: [
      host('10.0.0.2', 80, 'api.internal'), host('10.0.0.1', 80, 'api.internal', { failed_active_health_check: true }), host('10.0.0.9', 81, 'api.internal:81'),
    ] }] };
    assert.deepEqual(state(u, envoy), ['api.internal:80 10.0.0.1:80 unhealthy', 'api.internal:80 10.0.0.2:80 healthy', 'api.internal:81 10.0.0.9:81 healthy']);
  });

  test('an upstream shared by two services: an address is unhealthy when either cluster holds it so; other clusters are not read', () => {
    const u = pool({ clusters: ['service:a', 'service:b'] });
    const envoy = { cluster_statuses: [
      { name: 'service:a', host_statuses: [host('10.0.0.1', 8080, '10.0.0.1:8080')] },
      { name: 'service:b', host_statuses: [host('10.0.0.1', 8080, '10.0.0.1:8080', { failed_outlier_check: true })] },
      { name: 'service:other', host_statuses: [host('10.0.0.7', 8080, '10.0.0.7:8080')] },
    ] };
    assert.deepEqual(state(u, envoy), ['10.0.0.1:8080 10.0.0.1:8080 unhealthy']);
  });

  test('nothing is written when Envoy\'s admin was not read', () => {
    assert.deepEqual(targetHealth([pool()], undefined), []);
    assert.equal(renderTargetHealth([]), '');
  });

  test('four samples per address, Kong\'s label order, 1 for the current state', () => {
    const text = renderTargetHealth([{ upstream: 'pool', target: '10.0.0.1:8080', address: '10.0.0.1:8080', state: 'unhealthy', subsystem: 'http' }]);
    assert.equal(text, [
      '# HELP kong_upstream_target_health Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
      '# TYPE kong_upstream_target_health gauge',
      'kong_upstream_target_health{upstream="pool",target="10.0.0.1:8080",address="10.0.0.1:8080",state="healthchecks_off",subsystem="http"} 0',
      'kong_upstream_target_health{upstream="pool",target="10.0.0.1:8080",address="10.0.0.1:8080",state="healthy",subsystem="http"} 0',
      'kong_upstream_target_health{upstream="pool",target="10.0.0.1:8080",address="10.0.0.1:8080",state="unhealthy",subsystem="http"} 1',
      'kong_upstream_target_health{upstream="pool",target="10.0.0.1:8080",address="10.0.0.1:8080",state="dns_error",subsystem="http"} 0',
      '',
    ].join('\n'));
  });
});

describe('kong_upstream_target_health: the control plane\'s UpstreamTargets', () => {
  const resources = (yaml: string) => {
    const r = loadConfig([{ file: 'gateway.yaml', text: yaml }]);
    assert.ok(r.model, JSON.stringify(r.diagnostics));
    // Targets in any order; an unset bool is proto3's false.
    return upstreamTargetsResources(buildIR(r.model)).map((x) => {
      const b = x.body as unknown as UpstreamTargets__Output;
      return { ...b, name: x.name, healthchecks: b.healthchecks ?? false, targets: [...b.targets].sort((p, q) => (p.target < q.target ? -1 : 1)) };
    });
  };
  const yaml = (health: boolean) => `_format_version: "3.0"
plugins:
  - name: prometheus
    config: { upstream_health_metrics: ${health} }
upstreams:
  - name: checked
    targets: [{ target: "10.0.0.1:8080" }, { target: "10.0.0.2:8080", weight: 0 }, { target: "[::1]:8081" }]
    healthchecks: { active: { healthy: { interval: 5 }, unhealthy: { interval: 5, http_failures: 1 } } }
  - name: passive
    targets: [{ target: "api.internal:80" }]
    healthchecks: { passive: { unhealthy: { http_failures: 3 } } }
  - name: plain
    targets: [{ target: "10.0.0.3:80" }]
  - name: unused
    targets: [{ target: "10.0.0.4:80" }]
services:
  - { name: a, host: checked, connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000 }
  - { name: b, host: checked, connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000 }
  - { name: c, host: passive, connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000 }
  - { name: d, host: plain, protocol: tcp, port: 80, connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000 }
  - { name: e, url: "http://10.0.0.5:80", connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000 }
`;

  test('one per upstream a service uses, with its services\' clusters and its balanced targets', () => {
    assert.deepEqual(resources(yaml(true)), [
      {
        name: 'http:checked', upstream: 'checked', subsystem: 'http', healthchecks: true, clusters: ['service:a', 'service:b'],
        targets: [
          { target: '10.0.0.1:8080', hostname: '10.0.0.1:8080', host: '10.0.0.1', port: 8080 },
          { target: '[::1]:8081', hostname: '[::1]:8081', host: '::1', port: 8081 },
        ],
      },
      { name: 'http:passive', upstream: 'passive', subsystem: 'http', healthchecks: true, clusters: ['service:c'], targets: [{ target: 'api.internal:80', hostname: 'api.internal', host: 'api.internal', port: 80 }] },
      { name: 'stream:plain', upstream: 'plain', subsystem: 'stream', healthchecks: false, clusters: ['service:d'], targets: [{ target: '10.0.0.3:80', hostname: '10.0.0.3:80', host: '10.0.0.3', port: 80 }] },
    ]);
  });

  test('none unless a prometheus plugin turns upstream_health_metrics on', () => {
    assert.deepEqual(resources(yaml(false)), []);
  });
});

describe('kong_upstream_target_health: reading Envoy\'s admin', () => {
  let server: Server;
  let reads = 0;
  let answer: (res: import('node:http').ServerResponse) => void = (res) => res.end('{"cluster_statuses":[]}');
  let admin = '';
  before(async () => {
    server = createServer((req, res) => { reads++; assert.equal(req.url, '/clusters?format=json'); answer(res); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    admin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));

  test('one read serves the scrapes within cacheMs; a later scrape reads again', async () => {
    let now = 0;
    const reader = new EnvoyClustersReader({ admin, cacheMs: 1000, now: () => now });
    reads = 0;
    const [a, b] = await Promise.all([reader.read(), reader.read()]);
    assert.deepEqual(a, { cluster_statuses: [] });
    assert.deepEqual(b, a);
    now = 999;
    await reader.read();
    assert.equal(reads, 1, 'concurrent and cached scrapes share one read');
    now = 1000;
    await reader.read();
    assert.equal(reads, 2);
  });

  test('an admin that does not answer within the timeout, or answers an error, reads as unknown', async () => {
    answer = () => undefined; // never answers
    const slow = new EnvoyClustersReader({ admin, timeoutMs: 100 });
    assert.equal(await slow.read(), undefined);
    assert.match(slow.lastError ?? '', /did not answer within 100 ms/);
    answer = (res) => { res.statusCode = 503; res.end(); };
    const failing = new EnvoyClustersReader({ admin });
    assert.equal(await failing.read(), undefined);
    assert.match(failing.lastError ?? '', /503/);
    answer = (res) => res.end('x'.repeat(2048));
    const big = new EnvoyClustersReader({ admin, maxBytes: 1024 });
    assert.equal(await big.read(), undefined);
    assert.match(big.lastError ?? '', /larger than 1024 bytes/);
  });
});
