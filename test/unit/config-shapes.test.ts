/**
 * The shapes real kong.yml files come in (CONFIG.md, "The shapes real Kong files come in"):
 * nested entities or top-level ones pointing at their parent by name or by id, deck dumps with
 * every field written and null for unset, enabled: false, format 1.1/2.1 files, and a folder of
 * files merged. Each must load; the assertions are on the resulting model.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDiagnostic } from '../../src/errors.js';
import { loadConfig, type LoadResult } from '../../src/model/load.js';
import type { GatewayModel } from '../../src/model/types.js';

const y = (s: string) => s.replace(/^\n/, '');

function load(text: string | Record<string, string>): LoadResult {
  const texts = typeof text === 'string' ? [{ file: 'kong.yml', text }] : Object.entries(text).map(([file, t]) => ({ file, text: t }));
  return loadConfig(texts);
}

/** Loads and insists on a model (warnings allowed). */
function model(text: string | Record<string, string>): GatewayModel {
  const r = load(text);
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errs.map(formatDiagnostic), [], 'expected the file to load');
  assert.ok(r.model);
  return r.model;
}

/**
 * The model without origins (file/YAML path), to compare the same configuration written two
 * ways; without targets' and plugins' ids too: Kong keys those by their parent as written (the
 * name at the top level, the parent's id when nested), so the two forms give them different ids.
 */
function shape(m: GatewayModel): unknown {
  return JSON.parse(JSON.stringify(m, function (this: Record<string, unknown>, k, v: unknown) {
    return k === 'origin' || (k === 'id' && ('target' in this || 'scope' in this)) ? undefined : v;
  }));
}

const TIMEOUTS = `    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000`;

describe('nested entities and top-level references load to the same model', () => {
  const nested = y(`
_format_version: "3.0"
services:
  - name: orders
    id: 0d0e0000-0000-4000-8000-000000000001
    host: orders-pool
${TIMEOUTS}
    routes:
      - name: orders
        id: 0d0e0000-0000-4000-8000-000000000002
        paths: [/orders]
        plugins:
          - name: cors
            config:
              origins: ["https://app.example.com"]
    plugins:
      - name: prometheus
upstreams:
  - name: orders-pool
    id: 0d0e0000-0000-4000-8000-000000000003
    targets:
      - target: 10.0.0.1:8080
      - target: 10.0.0.2:8080
        weight: 50
consumers:
  - username: alice
    id: 0d0e0000-0000-4000-8000-000000000004
    custom_id: A-1
    jwt_secrets:
      - key: alice-issuer
        secret: alice-hs256-secret
    keyauth_credentials:
      - key: alice-key
    basicauth_credentials:
      - username: alice
        password: s3cret
    acls:
      - group: orders-read
    plugins:
      - name: request-termination
        config:
          status_code: 403
`);

  const byName = y(`
_format_version: "3.0"
services:
  - name: orders
    id: 0d0e0000-0000-4000-8000-000000000001
    host: orders-pool
${TIMEOUTS}
routes:
  - name: orders
    id: 0d0e0000-0000-4000-8000-000000000002
    service: orders
    paths: [/orders]
upstreams:
  - name: orders-pool
    id: 0d0e0000-0000-4000-8000-000000000003
targets:
  - target: 10.0.0.1:8080
    upstream: orders-pool
  - target: 10.0.0.2:8080
    upstream: orders-pool
    weight: 50
consumers:
  - username: alice
    id: 0d0e0000-0000-4000-8000-000000000004
    custom_id: A-1
jwt_secrets:
  - consumer: alice
    key: alice-issuer
    secret: alice-hs256-secret
keyauth_credentials:
  - consumer: alice
    key: alice-key
basicauth_credentials:
  - consumer: alice
    username: alice
    password: s3cret
acls:
  - consumer: alice
    group: orders-read
plugins:
  - name: cors
    route: orders
    config:
      origins: ["https://app.example.com"]
  - name: prometheus
    service: orders
  - name: request-termination
    consumer: alice
    config:
      status_code: 403
`);

  const byId = y(`
_format_version: "3.0"
services:
  - name: orders
    id: 0d0e0000-0000-4000-8000-000000000001
    host: orders-pool
${TIMEOUTS}
routes:
  - name: orders
    id: 0d0e0000-0000-4000-8000-000000000002
    service:
      id: 0d0e0000-0000-4000-8000-000000000001
    paths: [/orders]
upstreams:
  - name: orders-pool
    id: 0d0e0000-0000-4000-8000-000000000003
targets:
  - target: 10.0.0.1:8080
    upstream:
      id: 0d0e0000-0000-4000-8000-000000000003
  - target: 10.0.0.2:8080
    upstream: 0d0e0000-0000-4000-8000-000000000003
    weight: 50
consumers:
  - username: alice
    id: 0d0e0000-0000-4000-8000-000000000004
    custom_id: A-1
jwt_secrets:
  - consumer:
      id: 0d0e0000-0000-4000-8000-000000000004
    key: alice-issuer
    secret: alice-hs256-secret
keyauth_credentials:
  - consumer: 0d0e0000-0000-4000-8000-000000000004
    key: alice-key
basicauth_credentials:
  - consumer: A-1
    username: alice
    password: s3cret
acls:
  - consumer:
      id: 0d0e0000-0000-4000-8000-000000000004
    group: orders-read
plugins:
  - name: cors
    route:
      id: 0d0e0000-0000-4000-8000-000000000002
    config:
      origins: ["https://app.example.com"]
  - name: prometheus
    service: 0d0e0000-0000-4000-8000-000000000001
  - name: request-termination
    consumer:
      id: 0d0e0000-0000-4000-8000-000000000004
    config:
      status_code: 403
`);

  test('nested: every child attached to its parent', () => {
    const m = model(nested);
    assert.deepEqual(m.routes.map((r) => [r.name, r.service, r.paths]), [['orders', 'orders', ['/orders']]]);
    assert.equal(m.services[0]?.upstream, 'orders-pool', 'a service whose host names an upstream is bound to it');
    assert.deepEqual(m.upstreams[0]?.targets.map((t) => [t.host, t.port, t.weight]), [['10.0.0.1', 8080, 100], ['10.0.0.2', 8080, 50]]);
    const alice = m.consumers[0]!;
    assert.equal(alice.key, '0d0e0000-0000-4000-8000-000000000004', 'a consumer is keyed by its id when it has one');
    assert.deepEqual(alice.jwt_secrets.map((s) => [s.key, s.algorithm]), [['alice-issuer', 'HS256']]);
    assert.deepEqual(alice.keyauth_credentials.map((k) => k.key), ['alice-key']);
    assert.deepEqual(alice.basicauth_credentials.map((b) => b.username), ['alice']);
    assert.deepEqual(alice.acls.map((a) => a.group), ['orders-read']);
    assert.deepEqual(m.plugins.map((p) => [p.name, p.scope]), [
      ['cors', { route: 'orders' }],
      ['prometheus', { service: 'orders' }],
      ['request-termination', { consumer: '0d0e0000-0000-4000-8000-000000000004' }],
    ]);
  });

  test('top level by name gives the same model', () => {
    assert.deepEqual(shape(model(byName)), shape(model(nested)));
  });

  test('top level by id (string and {id: ...} forms, and custom_id for a consumer) gives the same model', () => {
    assert.deepEqual(shape(model(byId)), shape(model(nested)));
  });

  test('a route may name its service by {name: ...}', () => {
    const m = model(y(`
_format_version: "3.0"
services:
  - name: orders
    url: http://orders
${TIMEOUTS}
routes:
  - name: r
    service:
      name: orders
    paths: [/x]
`));
    assert.equal(m.routes[0]?.service, 'orders');
  });

  test('a route with no service at all loads (Kong answers 503 for it)', () => {
    const m = model(y(`
_format_version: "3.0"
routes:
  - name: orphan
    paths: [/x]
`));
    assert.deepEqual(m.routes.map((r) => [r.name, r.service]), [['orphan', undefined]]);
  });

  test('certificates: snis as strings, as {name} objects, and as top-level snis naming their certificate', () => {
    const cert = '-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n';
    const key = '-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n';
    const m = model(y(`
_format_version: "3.0"
certificates:
  - id: c1
    cert: "${cert}"
    key: "${key}"
    snis:
      - a.example.com
      - name: b.example.com
        id: 5e5e0000-0000-4000-8000-000000000001
snis:
  - name: c.example.com
    certificate:
      id: c1
  - name: d.example.com
    certificate: a.example.com
`));
    assert.deepEqual(m.certificates.map((c) => [c.key, c.snis]), [['c1', ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com']]]);
  });
});

describe('deck dump style: every field written, null meaning Kong\'s default', () => {
  const dump = y(`
_format_version: "3.0"
_info:
  select_tags: null
  defaults: {}
_konnect: null
_workspace: default
services:
  - ca_certificates: null
    client_certificate: null
    connect_timeout: null
    created_at: 1700000000
    enabled: null
    host: billing.internal
    id: 7a7a0000-0000-4000-8000-000000000001
    name: billing
    path: null
    port: null
    protocol: null
    read_timeout: null
    retries: null
    tags: null
    tls_verify: null
    tls_verify_depth: null
    updated_at: 1700000000
    url: null
    write_timeout: null
routes:
  - created_at: 1700000000
    destinations: null
    headers: null
    hosts: null
    https_redirect_status_code: null
    id: 7a7a0000-0000-4000-8000-000000000002
    methods: null
    name: invoices
    path_handling: null
    paths:
      - /invoices
    preserve_host: null
    protocols: null
    regex_priority: null
    request_buffering: null
    response_buffering: null
    service:
      id: 7a7a0000-0000-4000-8000-000000000001
    snis: null
    sources: null
    strip_path: null
    tags: null
    updated_at: 1700000000
upstreams:
  - algorithm: null
    client_certificate: null
    created_at: 1700000000
    hash_fallback: null
    hash_fallback_header: null
    hash_on: null
    hash_on_cookie: null
    hash_on_cookie_path: null
    hash_on_header: null
    healthchecks:
      active:
        concurrency: null
        headers: null
        healthy:
          http_statuses: null
          interval: null
          successes: null
        http_path: null
        https_sni: null
        https_verify_certificate: null
        timeout: null
        type: null
        unhealthy:
          http_failures: null
          http_statuses: null
          interval: null
          tcp_failures: null
          timeouts: null
      passive: null
      threshold: null
    host_header: null
    id: 7a7a0000-0000-4000-8000-000000000003
    name: billing-pool
    slots: null
    tags: null
    use_srv_name: null
targets:
  - created_at: 1700000000
    id: 7a7a0000-0000-4000-8000-000000000004
    tags: null
    target: 10.2.0.1:8080
    upstream:
      id: 7a7a0000-0000-4000-8000-000000000003
    weight: null
consumers:
  - created_at: 1700000000
    custom_id: null
    id: 7a7a0000-0000-4000-8000-000000000005
    tags: null
    username: bob
plugins:
  - config:
      origins: null
    consumer: null
    created_at: 1700000000
    enabled: null
    id: 7a7a0000-0000-4000-8000-000000000006
    instance_name: null
    name: cors
    ordering: null
    protocols: null
    route: null
    service: null
    tags: null
    updated_at: 1700000000
certificates: []
ca_certificates: []
keyauth_credentials: []
`);

  test('it loads', () => {
    model(dump);
  });

  test('null service fields take Kong\'s defaults', () => {
    const s = model(dump).services[0]!;
    assert.deepEqual(
      { protocol: s.protocol, port: s.port, path: s.path, retries: s.retries, connect: s.connect_timeout, read: s.read_timeout, write: s.write_timeout, tags: s.tags, tls_verify: s.tls_verify },
      { protocol: 'http', port: 80, path: undefined, retries: 5, connect: 60000, read: 60000, write: 60000, tags: [], tls_verify: undefined },
    );
  });

  test('null route fields take Kong\'s defaults', () => {
    const r = model(dump).routes[0]!;
    assert.equal(r.service, 'billing', 'the route found its service by id');
    assert.deepEqual(
      { strip_path: r.strip_path, preserve_host: r.preserve_host, protocols: r.protocols, regex_priority: r.regex_priority, https: r.https_redirect_status_code, ph: r.path_handling, rb: r.request_buffering, hosts: r.hosts, methods: r.methods, headers: r.headers },
      { strip_path: true, preserve_host: false, protocols: ['http', 'https'], regex_priority: 0, https: 426, ph: 'v0', rb: true, hosts: undefined, methods: undefined, headers: undefined },
    );
  });

  test('null upstream and health-check fields take Kong\'s defaults', () => {
    const u = model(dump).upstreams[0]!;
    assert.deepEqual([u.algorithm, u.hash_on, u.hash_fallback, u.hash_on_cookie_path, u.slots], ['round-robin', 'none', 'none', '/', 10000]);
    assert.deepEqual(u.healthchecks.active.healthy, { interval: 0, successes: 0, http_statuses: [200, 302] });
    assert.deepEqual(u.healthchecks.active.unhealthy.http_statuses, [429, 404, 500, 501, 502, 503, 504, 505]);
    assert.deepEqual([u.healthchecks.active.http_path, u.healthchecks.active.timeout, u.healthchecks.active.concurrency], ['/', 1, 10]);
    assert.deepEqual(u.healthchecks.passive.unhealthy, { http_failures: 0, tcp_failures: 0, timeouts: 0, http_statuses: [429, 500, 503] });
    assert.deepEqual(u.targets.map((t) => [t.target, t.weight]), [['10.2.0.1:8080', 100]]);
  });

  test('a null plugin scope is global, and null enabled means enabled', () => {
    const m = model(dump);
    assert.deepEqual(m.plugins.map((p) => [p.name, p.scope, p.protocols]), [['cors', {}, ['grpc', 'grpcs', 'http', 'https']]]);
  });

  test('the consumer is keyed by its id', () => {
    assert.deepEqual(model(dump).consumers.map((c) => [c.key, c.username, c.custom_id]), [['7a7a0000-0000-4000-8000-000000000005', 'bob', undefined]]);
  });

  test('top-level tags, _transform and empty sections load', () => {
    const m = model(y(`
_format_version: "3.0"
_transform: true
tags: [team-a]
services: []
routes: null
plugins: []
`));
    assert.deepEqual([m.services, m.routes, m.plugins], [[], [], []]);
  });
});

describe('enabled: false', () => {
  const text = y(`
_format_version: "3.0"
services:
  - name: live
    url: http://live.internal
${TIMEOUTS}
    routes:
      - name: on
        paths: [/on]
      - name: off
        paths: [/off]
        enabled: false
    plugins:
      - name: cors
        enabled: false
      - name: bot-detection
  - name: retired
    url: http://retired.internal
    enabled: false
    routes:
      - name: retired-nested
        paths: [/retired]
    plugins:
      - name: cors
routes:
  - name: retired-top
    service: retired
    paths: [/old]
plugins:
  - name: request-termination
    service: retired
`);

  test('a disabled service is left out, and naming it is not an error', () => {
    const r = load(text);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), []);
    assert.deepEqual(r.model!.services.map((s) => s.name), ['live']);
  });

  test('a disabled service takes its routes (nested or top level) with it', () => {
    assert.deepEqual(model(text).routes.map((r) => r.name), ['on']);
  });

  test('a disabled route is left out; its service and sibling stay', () => {
    const m = model(text);
    assert.ok(m.routes.some((r) => r.name === 'on'));
    assert.ok(!m.routes.some((r) => r.name === 'off'));
  });

  test('a disabled plugin is left out and not warned about', () => {
    const r = load(text);
    assert.ok(!r.model!.plugins.some((p) => p.name === 'cors' && p.scope.service === 'live'));
    assert.ok(r.model!.plugins.some((p) => p.name === 'bot-detection' && p.scope.service === 'live'));
    assert.deepEqual(r.diagnostics.filter((d) => d.path.join('.').startsWith('services.0.plugins')).map(formatDiagnostic), [], 'no warning about the disabled one');
  });

  test('the plugins of a disabled service (nested or naming it) go with it', () => {
    assert.deepEqual(model(text).plugins.map((p) => [p.name, p.scope]), [['bot-detection', { service: 'live' }]]);
  });
});

describe('Kong 1.x / 2.x files', () => {
  const legacy = (version: string) => y(`
_format_version: "${version}"
services:
  - name: legacy
    url: http://legacy.internal:8080
${TIMEOUTS}
    routes:
      - name: by-id
        paths: [/items/\\d+, /items, "~/already/regex"]
        regex_priority: 3
      - name: dots-and-dashes
        paths: [/v1.0/status-page_x~y]
`);

  for (const version of ['1.1', '2.1']) {
    test(`_format_version "${version}": regex-looking paths become "~" regexes, plain ones stay prefixes`, () => {
      const r = load(legacy(version));
      const m = r.model!;
      assert.deepEqual(m.routes.map((x) => [x.name, x.paths]), [
        ['by-id', ['~/items/\\d+', '/items', '~/already/regex']],
        ['dots-and-dashes', ['/v1.0/status-page_x~y']],
      ]);
      assert.equal(m.routes[0]?.regex_priority, 3);
      const w = r.diagnostics.filter((d) => d.code === 'FD_FORMAT_CONVERTED');
      assert.equal(w.length, 1);
      assert.equal(w[0]?.severity, 'warning');
      assert.match(w[0]!.message, new RegExp(`^_format_version ${version.replace('.', '\\.')}: 1 regex path\\(s\\) converted`));
    });
  }

  test('a 3.0 file is taken as written: no conversion, no warning', () => {
    const r = load(legacy('3.0'));
    assert.deepEqual(r.model!.routes[0]?.paths, ['/items/\\d+', '/items', '~/already/regex']);
    assert.equal(r.diagnostics.length, 0);
  });

  test('in a folder, only the old file is converted', () => {
    const r = load({ 'a-old.yaml': legacy('2.1'), 'b-new.yaml': y(`
_format_version: "3.0"
routes:
  - name: new-style
    service: legacy
    paths: [/new/\\d+]
`) });
    const routes = Object.fromEntries(r.model!.routes.map((x) => [x.name, x.paths]));
    assert.deepEqual(routes['by-id'], ['~/items/\\d+', '/items', '~/already/regex']);
    assert.deepEqual(routes['new-style'], ['/new/\\d+'], 'a 3.0 path is a prefix even with regex characters');
    assert.deepEqual(r.diagnostics.map((d) => [d.file, d.code]), [['a-old.yaml', 'FD_FORMAT_CONVERTED']]);
  });
});

describe('a folder of files is merged into one model', () => {
  const files = {
    '10-upstreams.yaml': y(`
_format_version: "3.0"
upstreams:
  - name: pool
targets:
  - target: 10.0.0.9:80
    upstream: pool
`),
    '20-services.yaml': y(`
_format_version: "3.0"
services:
  - name: zeta
    host: pool
${TIMEOUTS}
  - name: alpha
    url: http://alpha.internal
${TIMEOUTS}
`),
    '30-routes.yaml': y(`
_format_version: "3.0"
routes:
  - name: to-zeta
    service: zeta
    paths: [/z]
  - name: to-alpha
    service: alpha
    paths: [/a]
plugins:
  - name: cors
    route: to-alpha
`),
    '40-consumers.yaml': y(`
_format_version: "3.0"
consumers:
  - username: carol
keyauth_credentials:
  - consumer: carol
    key: carol-key
`),
  };

  test('references work across files and every list is sorted by name', () => {
    const m = model(files);
    assert.deepEqual(m.services.map((s) => [s.name, s.upstream]), [['alpha', undefined], ['zeta', 'pool']]);
    assert.deepEqual(m.routes.map((r) => [r.name, r.service]), [['to-alpha', 'alpha'], ['to-zeta', 'zeta']]);
    assert.deepEqual(m.upstreams.map((u) => [u.name, u.targets.map((t) => t.target)]), [['pool', ['10.0.0.9:80']]]);
    assert.deepEqual(m.plugins.map((p) => [p.name, p.scope]), [['cors', { route: 'to-alpha' }]]);
    assert.deepEqual(m.consumers.map((c) => [c.key, c.keyauth_credentials.map((k) => k.key)]), [['carol', ['carol-key']]]);
  });

  test('each entity remembers the file it came from', () => {
    const m = model(files);
    assert.deepEqual(m.routes.map((r) => [r.name, r.origin.file, r.origin.path]), [
      ['to-alpha', '30-routes.yaml', ['routes', 1]],
      ['to-zeta', '30-routes.yaml', ['routes', 0]],
    ]);
    assert.equal(m.upstreams[0]?.targets[0]?.origin.file, '10-upstreams.yaml');
  });

  test('the merged model does not depend on the order the files are given in', () => {
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    assert.deepEqual(shape(model(reversed)), shape(model(files)));
  });

  test('the same folder as one file gives the same model', () => {
    const one = y(`
_format_version: "3.0"
upstreams:
  - name: pool
    targets:
      - target: 10.0.0.9:80
services:
  - name: zeta
    host: pool
${TIMEOUTS}
  - name: alpha
    url: http://alpha.internal
${TIMEOUTS}
    routes:
      - name: to-alpha
        paths: [/a]
        plugins:
          - name: cors
routes:
  - name: to-zeta
    service: zeta
    paths: [/z]
consumers:
  - username: carol
    keyauth_credentials:
      - key: carol-key
`);
    assert.deepEqual(shape(model(one)), shape(model(files)));
  });
});

describe('Kong fields Frontdesk does not implement load while they hold Kong\'s default', () => {
  test('defaults written out explicitly load', () => {
    model(y(`
_format_version: "3.0"
services:
  - name: a
    url: http://a
${TIMEOUTS}
    tls_verify_depth: null
    client_certificate: null
    routes:
      - name: r
        paths: [/a]
        path_handling: v0
        request_buffering: true
        response_buffering: true
        sources: []
        destinations: []
upstreams:
  - name: u
    use_srv_name: false
    hash_on: none
    hash_fallback: none
    healthchecks:
      threshold: 0
`));
  });

  test('stream-route fields asking for behaviour are refused, naming the field', () => {
    const r = load(y(`
_format_version: "3.0"
routes:
  - name: r
    paths: [/a]
    sources:
      - ip: 10.0.0.0/8
`));
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.path.join('.')]), [['FD_INVALID_VALUE', 'routes.0.sources']]);
    assert.match(r.diagnostics[0]!.message, /'sources' can only be set when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'/);
  });
});
