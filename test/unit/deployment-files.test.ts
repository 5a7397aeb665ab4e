// docker-compose.yml and envoy/bootstrap.yaml cannot be run here (no Docker engine), so they
// are kept correct by reading: the bootstrap is what the CLI prints and a valid Envoy message;
// every command in the compose file is one the CLI accepts, wired to the right ports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseArgs } from '../../src/args.js';
import { bootstrapYaml, buildBootstrap, envoySds } from '../../src/runtime/bootstrap.js';
import { certFiles } from '../../src/runtime/certs.js';
import { messageType } from '../../src/xds/proto-registry.js';
import { decodeToJson, encodeJson } from '../../src/xds/proto-json.js';

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, { image: string; command?: string; ports?: string[]; volumes?: string[]; depends_on?: unknown }> };

/** A compose service's Frontdesk command: `node`, its own Node flags (node-flags.test.ts checks them), `bin/frontdesk.js`, then the CLI's words, returned. */
function frontdeskWords(name: string): { cli: string[] } {
  const words = compose.services[name]!.command!.replace(/\s+/g, ' ').trim().split(' ');
  const bin = words.indexOf('bin/frontdesk.js');
  assert.equal(words[0], 'node', name);
  assert.ok(bin > 0, `${name} runs bin/frontdesk.js`);
  return { cli: words.slice(bin + 1) };
}


test('envoy/bootstrap.yaml is what `frontdesk bootstrap` prints for the compose setup', () => {
  const expected = bootstrapYaml({ xds: { host: 'control-plane', port: 18000 }, nodeId: 'envoy-1', cluster: 'frontdesk', adminPort: 9901, adminHost: '0.0.0.0', tls: envoySds('/etc/frontdesk/tls') });
  assert.equal(readFileSync('envoy/bootstrap.yaml', 'utf8'), expected);
});

test('the generated bootstrap is a valid Envoy Bootstrap message', () => {
  const json = buildBootstrap({ xds: { host: '127.0.0.1', port: 18000 }, nodeId: 'n', cluster: 'c', adminPort: 9901, delta: true, tls: envoySds('/etc/frontdesk/tls') });
  const type = messageType('envoy.config.bootstrap.v3.Bootstrap');
  assert.deepEqual(decodeToJson(type, encodeJson(type, json as never)), json);
});

test('compose uses the official Envoy and Redis images and one Node image for Frontdesk', () => {
  assert.match(compose.services.envoy!.image, /^envoyproxy\/envoy:v1\.40/);
  assert.match(compose.services.redis!.image, /^redis:/);
  for (const name of ['control-plane', 'authz', 'ratelimit', 'transform', 'log']) assert.match(compose.services[name]!.image, /^node:20/);
});

test('every Frontdesk command in compose is a CLI command with flags wired to the right peers', () => {
  const args = (name: string) => {
    return parseArgs(frontdeskWords(name).cli, ['no-watch', 'delta', 'authz-fail-open']);
  };
  const cp = args('control-plane');
  assert.equal(cp.positionals[0], 'control-plane');
  assert.equal(cp.flags.get('xds-host'), '0.0.0.0');
  assert.equal(cp.flags.get('authz'), 'authz:18001');
  assert.equal(cp.flags.get('ratelimit'), 'ratelimit:18002');
  const authz = args('authz');
  assert.equal(authz.positionals[0], 'authz');
  assert.equal(authz.flags.get('xds'), `control-plane:${cp.flags.get('xds-port')}`);
  assert.equal(authz.flags.get('port'), '18001');
  assert.equal(cp.flags.get('transform'), 'transform:18003');
  const tr = args('transform');
  assert.equal(tr.positionals[0], 'transform');
  assert.equal(tr.flags.get('port'), '18003');
  assert.equal(cp.flags.get('log'), 'log:18004');
  const lg = args('log');
  assert.equal(lg.positionals[0], 'log');
  assert.equal(lg.flags.get('xds'), `control-plane:${cp.flags.get('xds-port')}`);
  assert.equal(lg.flags.get('port'), '18004');
  const rl = args('ratelimit');
  assert.equal(rl.positionals[0], 'ratelimit');
  assert.equal(rl.flags.get('redis'), 'redis://redis:6379');
  assert.equal(rl.flags.get('port'), '18002');
  const boot = parse(readFileSync('envoy/bootstrap.yaml', 'utf8')) as { static_resources: { clusters: { load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } }[] } };
  const addr = boot.static_resources.clusters[0]!.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address;
  assert.deepEqual(addr, { address: 'control-plane', port_value: Number(cp.flags.get('xds-port')) });
  assert.ok(compose.services.envoy!.ports!.includes('8000:8000'), 'Kong\'s proxy port is published');
  assert.ok(compose.services['control-plane']!.ports!.includes('127.0.0.1:8001:8001'), 'the admin port is published on the host\'s loopback');
});

// Compose's short port syntax is [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTOCOL]; without a
// HOST_IP Docker binds every interface.
function published(spec: string): { hostIp?: string; hostPort: string; containerPort: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+(?:-\d+)?):(\d+)(?:\/\w+)?$/.exec(spec);
  assert.ok(m, `cannot read the port mapping "${spec}"`);
  return { ...(m[1] ? { hostIp: m[1] } : {}), hostPort: m[2]!, containerPort: Number(m[3]) };
}

test('no admin port is published on every interface: only the proxy is', () => {
  const cp = compose.services['control-plane']!.command!.replace(/\s+/g, ' ');
  const frontdeskAdmin = Number(/--admin-port (\d+)/.exec(cp)![1]);
  const boot = parse(readFileSync('envoy/bootstrap.yaml', 'utf8')) as { admin: { address: { socket_address: { port_value: number } } } };
  const admins = new Set([frontdeskAdmin, boot.admin.address.socket_address.port_value]);
  assert.deepEqual([...admins].sort(), [8001, 9901]);
  const open: string[] = [];
  for (const [name, svc] of Object.entries(compose.services)) {
    for (const spec of svc.ports ?? []) {
      const p = published(String(spec));
      const loopback = p.hostIp !== undefined && /^(127\.\d+\.\d+\.\d+|\[::1\])$/.test(p.hostIp);
      if (!loopback) open.push(`${name} ${spec}`);
      if (admins.has(p.containerPort)) assert.ok(loopback, `${name} publishes admin port ${p.containerPort} as "${spec}": bind it to 127.0.0.1`);
    }
  }
  assert.deepEqual(open, ['envoy 8000:8000']);
});

test('compose: mTLS on every control-plane hop, certificates from `frontdesk certs`, the admin API behind its token', () => {
  const dir = '/etc/frontdesk/tls';
  const certs = compose.services.certs!.command!.replace(/\s+/g, ' ');
  assert.match(certs, new RegExp(`bin/frontdesk\\.js certs --out ${dir} --fleet frontdesk`));
  const parties: Record<string, Parameters<typeof certFiles>[1]> = {
    'control-plane': { role: 'control-plane' }, authz: { role: 'companion', name: 'authz' }, ratelimit: { role: 'companion', name: 'ratelimit' }, transform: { role: 'companion', name: 'transform' }, log: { role: 'companion', name: 'log' },
  };
  for (const [name, id] of Object.entries(parties)) {
    const flags = parseArgs(frontdeskWords(name).cli, ['insecure']).flags;
    assert.equal(flags.has('insecure'), false, `${name} never runs plaintext`);
    assert.deepEqual({ cert: flags.get('tls-cert'), key: flags.get('tls-key'), ca: flags.get('tls-ca') }, { ...certFiles(dir, id), ca: `${dir}/ca.pem` }, name);
    assert.ok(compose.services[name]!.volumes!.includes(`tls:${dir}`), `${name} mounts the certificates`);
  }
  assert.ok(compose.services.envoy!.volumes!.includes(`tls:${dir}`));
  // The admin API listens on the container's interfaces: compose refuses to start without the token.
  const env = (compose.services['control-plane'] as { environment?: Record<string, string> }).environment ?? {};
  assert.match(env.FRONTDESK_ADMIN_TOKEN ?? '', /^\$\{FRONTDESK_ADMIN_TOKEN:\?/);
});

test('Prometheus scrapes Envoy\'s admin, the control plane\'s and the log companion\'s /metrics; Grafana reads Prometheus and the dashboard', async () => {
  const prom = compose.services.prometheus!;
  assert.match(prom.image, /^prom\/prometheus:/);
  const promFile = prom.volumes!.find((v) => v.endsWith(':/etc/prometheus/prometheus.yml:ro'))!.split(':')[0]!;
  const scrape = (parse(readFileSync(promFile, 'utf8')) as { scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[] }).scrape_configs;
  const job = (n: string) => scrape.find((j) => j.job_name === n)!;
  const boot = parse(readFileSync('envoy/bootstrap.yaml', 'utf8')) as { admin: { address: { socket_address: { port_value: number } } } };
  assert.deepEqual(job('envoy').static_configs[0]!.targets, [`envoy:${boot.admin.address.socket_address.port_value}`]);
  assert.equal(job('envoy').metrics_path, '/stats/prometheus');
  const cp = parseArgs(frontdeskWords('control-plane').cli, ['no-watch', 'delta', 'authz-fail-open']);
  assert.deepEqual(job('frontdesk').static_configs[0]!.targets, [`control-plane:${cp.flags.get('admin-port')}`]);
  assert.equal(job('frontdesk').metrics_path, '/metrics');
  // The admin API asks for its token off loopback: Prometheus reads the file its entrypoint writes from the env.
  const tokenFile = (job('frontdesk') as { authorization?: { type: string; credentials_file: string } }).authorization;
  assert.equal(tokenFile?.type, 'Bearer');
  assert.ok((prom as { entrypoint?: string[] }).entrypoint!.join(' ').includes(`> ${tokenFile!.credentials_file} `));
  assert.match((prom as { environment?: Record<string, string> }).environment!.FRONTDESK_ADMIN_TOKEN!, /^\$\{FRONTDESK_ADMIN_TOKEN:\?/);
  // Kong's metric names: the log companion's admin port, opened to the compose network.
  const logFlags = parseArgs(frontdeskWords('log').cli, []).flags;
  assert.deepEqual(job('kong').static_configs[0]!.targets, [`log:${logFlags.get('log-admin-port')}`]);
  assert.equal(job('kong').metrics_path, '/metrics');
  assert.equal(logFlags.get('log-admin-host'), '0.0.0.0', 'reachable from the Prometheus container');

  const grafana = compose.services.grafana!;
  assert.match(grafana.image, /^grafana\/grafana:/);
  const mount = (to: string) => grafana.volumes!.find((v) => v.split(':')[1] === to)!.split(':')[0]!;
  const source = (parse(readFileSync(`${mount('/etc/grafana/provisioning')}/datasources/prometheus.yaml`, 'utf8')) as { datasources: { uid: string; url: string }[] }).datasources[0]!;
  assert.equal(source.url, `http://prometheus:${prom.ports![0]!.split(':').at(-1)}`);
  const provider = (parse(readFileSync(`${mount('/etc/grafana/provisioning')}/dashboards/frontdesk.yaml`, 'utf8')) as { providers: { options: { path: string } }[] }).providers[0]!;
  const dashboards = mount(provider.options.path);
  const dash = JSON.parse(readFileSync(`${dashboards}/frontdesk.json`, 'utf8')) as { panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[] };
  const titles = dash.panels.map((p) => p.title);
  for (const t of ['Request rate', '5xx rate', 'p99 latency', 'Backend health', 'Rate-limit hits', 'Auth failures', 'Connection-pool use', 'xDS pushes', 'NACKs', 'Convergence (p99)', 'Build time (p99)']) assert.ok(titles.includes(t), t);
  for (const p of dash.panels.filter((x) => x.type !== 'row')) assert.equal(p.datasource?.uid, source.uid, p.title);

  // Every frontdesk_* series the dashboard reads is one the control plane or the log companion
  // exports, and every kong_* one is the log companion's (Kong's prometheus plugin names).
  const { ControlPlane } = await import('../../src/runtime/control-plane.js');
  const { DEFAULT_SETTINGS } = await import('../../src/resources/filters/registry.js');
  const { silentLogger } = await import('../../src/logger.js');
  const plane = new ControlPlane({ configPath: 'config/gateway.yaml', xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, settings: DEFAULT_SETTINGS, ir: { defaultListener: { address: '127.0.0.1', port: 8000 } }, logger: silentLogger() });
  const { KongMetrics } = await import('../../src/log/kong-metrics.js');
  const names = (text: string) => [...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, n, type]) => (type === 'histogram' ? [`${n}_bucket`] : [n!]));
  const { renderTargetHealth } = await import('../../src/log/upstream-health.js');
  const targetHealth = renderTargetHealth([{ upstream: 'u', target: 't:1', address: '10.0.0.1:1', state: 'healthy', subsystem: 'http' }]);
  const exported = new Set([...names(plane.registry.render()), ...names(new KongMetrics().render()), ...names(targetHealth)]);
  const exprs = dash.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(?:frontdesk|kong)_[a-z_]+/g)].map((m) => m[0])));
  assert.ok([...used].filter((n) => n.startsWith('frontdesk_')).length >= 5);
  for (const n of ['kong_http_requests_total', 'kong_request_latency_ms_bucket', 'kong_upstream_latency_ms_bucket', 'kong_kong_latency_ms_bucket', 'kong_upstream_target_health']) assert.ok(used.has(n), `the dashboard reads ${n}`);
  for (const n of used) assert.ok(exported.has(n), `${n} is exported by the control plane or the log companion`);
});
