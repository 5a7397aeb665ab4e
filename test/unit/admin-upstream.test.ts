// A service or an upstream target that points at Frontdesk's admin port on this host would
// publish the admin API through the proxy: warned at load, at the url or target it came from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/model/load.js';

const y = (s: string) => s.replace(/^\n/, '');
const service = (url: string) => y(`
_format_version: "3.0"
services:
  - name: api
    url: ${url}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: api
        paths: [/api]
`);

const adminWarnings = (text: string, adminPort?: number) =>
  loadConfig([{ file: 'gateway.yaml', text }], { adminPort }).diagnostics.filter((d) => d.code === 'FD_TRAP_ADMIN_UPSTREAM');

for (const url of ['http://127.0.0.1:8001', 'http://localhost:8001/status', 'http://0.0.0.0:8001', 'http://[::1]:8001', 'http://127.1.2.3:8001']) {
  test(`a service at ${url} is warned about at its url, as a warning (the config still loads)`, () => {
    const r = loadConfig([{ file: 'gateway.yaml', text: service(url) }]);
    assert.ok(r.model, 'a warning does not refuse the config');
    const ds = r.diagnostics.filter((d) => d.code === 'FD_TRAP_ADMIN_UPSTREAM');
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.severity, 'warning');
    assert.deepEqual([ds[0]!.file, ds[0]!.line, ds[0]!.col], ['gateway.yaml', 4, 10]);
    assert.deepEqual(ds[0]!.path, ['services', 0, 'url']);
    assert.match(ds[0]!.message, /admin port/);
  });
}

test('another port, or another host, is not the admin API', () => {
  assert.deepEqual(adminWarnings(service('http://127.0.0.1:8080')), []);
  assert.deepEqual(adminWarnings(service('http://orders.internal:8001')), []);
});

test('the admin port given to the control plane is the one checked', () => {
  assert.deepEqual(adminWarnings(service('http://127.0.0.1:8001'), 9100), []);
  assert.equal(adminWarnings(service('http://127.0.0.1:9100'), 9100).length, 1);
});

test('an upstream target on the admin port is warned about at the target', () => {
  const ds = adminWarnings(y(`
_format_version: "3.0"
upstreams:
  - name: pool
    targets:
      - target: 10.0.0.5:8001
      - target: localhost:8001
services:
  - name: api
    host: pool
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: api
        paths: [/api]
`));
  assert.equal(ds.length, 1);
  assert.deepEqual([ds[0]!.line, ds[0]!.col], [6, 17]);
  assert.match(ds[0]!.message, /upstream "pool" targets localhost:8001/);
});
