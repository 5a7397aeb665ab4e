// The Admin API names every entity by the id the loader gives it (Kong's generated uuid for an
// entity written without one): what decK dumps, what /status lists and what the logs carry
// (route_id, service id) are the same ids, nested or top-level.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { toFlat } from '../../src/admin/kong-state.js';
import { loadConfig } from '../../src/model/load.js';

const CONFIG = `_format_version: "3.0"
services:
  - name: orders
    url: http://orders.internal:8080
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    plugins:
      - name: correlation-id
    routes:
      - name: orders
        paths: [/orders]
        plugins:
          - name: key-auth
  - name: billing
    url: http://billing.internal:8080
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    id: 0b1c6f3e-2a4d-4c5e-9f60-718293a4b5c6
routes:
  - name: billing
    service: billing
    paths: [/billing]
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    plugins:
      - name: rate-limiting
        config: { minute: 10 }
upstreams:
  - name: orders.internal
    targets:
      - target: 10.0.0.1:8080
targets:
  - target: 10.0.0.2:8080
    upstream: orders.internal
plugins:
  - name: cors
    route: billing
  - name: request-size-limiting
`;

test('services, routes, consumers, upstreams, targets and plugins have the loader\'s ids in the Admin API', () => {
  const loaded = loadConfig([{ file: 'kong.yml', text: CONFIG }]);
  assert.ok(loaded.model, loaded.diagnostics.map((d) => d.message).join('; '));
  const m = loaded.model;
  const flat = toFlat([parse(CONFIG)]);
  const ids = (xs: readonly { id?: string }[]) => xs.map((x) => x.id).sort();
  assert.deepEqual(ids(flat.services), ids(m.services));
  assert.ok(flat.services.some((s) => s.id === '0b1c6f3e-2a4d-4c5e-9f60-718293a4b5c6'), 'an id the file writes is kept');
  assert.deepEqual(ids(flat.routes), ids(m.routes));
  assert.deepEqual(ids(flat.consumers), ids(m.consumers));
  assert.deepEqual(ids(flat.upstreams), ids(m.upstreams));
  assert.deepEqual(ids(flat.targets), ids(m.upstreams.flatMap((u) => u.targets)));
  assert.equal(flat.plugins.length, 5);
  assert.deepEqual(ids(flat.plugins), ids(m.plugins));
});
