/**
 * The ids Kong gives entities a declarative file leaves without one (uuid5 in a namespace per
 * entity type, kong/db/schema/others/declarative_config.lua), and references written with them.
 * Expected ids are published ones: RFC 4122's algorithm checked against Python's documented
 * example, and Kong's own ids from go-kong's FillID tests (kong/ids_test.go), which compute the
 * same uuid5 Kong's loader does.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDiagnostic } from '../../src/errors.js';
import { loadConfig } from '../../src/model/load.js';
import { kongId } from '../../src/kong-ids.js';
import { uuidV5 } from '../../src/uuid-v5.js';

const TIMEOUTS = 'connect_timeout: 3000\n    read_timeout: 10000\n    write_timeout: 10000';

/** The service of go-kong's fixture, by name. */
const SERVICE = `services:
  - name: some.service.name
    url: http://orders.internal:8080
    ${TIMEOUTS}
`;

function load(text: string) {
  const r = loadConfig([{ file: 'kong.yml', text }]);
  assert.ok(r.model, r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.model;
}

describe('Kong entity ids', () => {
  test('uuid5: the RFC 4122 name-based algorithm (Python docs: uuid5(NAMESPACE_DNS, "python.org"))', () => {
    assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  test('the ids Kong generates for a service, a route and a consumer (go-kong FillID fixtures)', () => {
    assert.equal(kongId('services', 'some.service.name'), 'd9bee1f8-db6e-5a37-9281-fd4aca16dc00');
    assert.equal(kongId('routes', 'some.service.name'), '7f0753cd-bff2-5f74-85b0-e8e2057d9500');
    assert.equal(kongId('consumers', 'some.username'), '782780c4-d345-5682-bdf6-722dccaf93e0');
  });

  test('every loaded service, route and consumer carries its id: the file\'s, else Kong\'s', () => {
    const m = load(`_format_version: "3.0"
${SERVICE}    routes:
      - name: some.service.name
        paths: [/orders]
      - name: pinned
        id: 3d1f6a4e-0000-4000-8000-000000000001
        paths: [/pinned]
consumers:
  - username: some.username
`);
    assert.equal(m.services[0]!.id, 'd9bee1f8-db6e-5a37-9281-fd4aca16dc00');
    assert.deepEqual(m.routes.map((r) => [r.name, r.id]), [
      ['pinned', '3d1f6a4e-0000-4000-8000-000000000001'],
      ['some.service.name', '7f0753cd-bff2-5f74-85b0-e8e2057d9500'],
    ]);
    assert.equal(m.consumers[0]!.id, '782780c4-d345-5682-bdf6-722dccaf93e0');
  });

  test('references by the ids Kong generates resolve: routes[].service, plugins[].route/service/consumer, credentials[].consumer', () => {
    const m = load(`_format_version: "3.0"
${SERVICE}routes:
  - name: some.service.name
    service: d9bee1f8-db6e-5a37-9281-fd4aca16dc00
    paths: [/orders]
consumers:
  - username: some.username
keyauth_credentials:
  - consumer: 782780c4-d345-5682-bdf6-722dccaf93e0
    key: k-123
plugins:
  - name: key-auth
    route: 7f0753cd-bff2-5f74-85b0-e8e2057d9500
  - name: request-size-limiting
    service: { id: d9bee1f8-db6e-5a37-9281-fd4aca16dc00 }
    config: { allowed_payload_size: 1 }
  - name: rate-limiting
    consumer: 782780c4-d345-5682-bdf6-722dccaf93e0
    config: { minute: 5 }
`);
    assert.equal(m.routes[0]!.service, 'some.service.name');
    assert.equal(m.consumers[0]!.keyauth_credentials[0]!.key, 'k-123');
    assert.deepEqual(m.plugins.map((p) => [p.name, p.scope]), [
      ['key-auth', { route: 'some.service.name' }],
      ['rate-limiting', { consumer: 'some.username' }],
      ['request-size-limiting', { service: 'some.service.name' }],
    ]);
  });

  test('an id that is neither given nor generated is still an unknown reference', () => {
    const r = loadConfig([{ file: 'kong.yml', text: `_format_version: "3.0"
services:
  - name: a
    url: http://a.internal
    ${TIMEOUTS}
routes:
  - name: r
    service: d9bee1f8-db6e-5a37-9281-fd4aca16dc00
    paths: [/]
` }]);
    assert.equal(r.model, undefined);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.message]), [
      ['FD_DANGLING_REF', 'unknown service "d9bee1f8-db6e-5a37-9281-fd4aca16dc00"'],
    ]);
  });

  test('plugins: the id of their cache key (name, route, service, consumer, consumer_group), the parent\'s id when nested', () => {
    const m = load(`_format_version: "3.0"
services:
  - name: some.service.name
    url: http://orders.internal:8080
    ${TIMEOUTS}
    routes:
      - name: some.service.name
        paths: [/orders]
        plugins:
          - name: key-auth
routes:
  - name: other
    service: some.service.name
    paths: [/other]
plugins:
  - name: key-auth
    route: other
  - name: cors
`);
    // Kong's build_cache_key: "plugins", "*" (no workspace), then the fields, joined by ":".
    const byRoute = new Map(m.plugins.map((p) => [`${p.name} ${p.scope.route ?? ''}`, p.id]));
    assert.equal(byRoute.get('key-auth some.service.name'), kongId('plugins', 'plugins:*:key-auth:7f0753cd-bff2-5f74-85b0-e8e2057d9500:::'));
    assert.equal(byRoute.get('key-auth other'), kongId('plugins', 'plugins:*:key-auth:other:::'));
    assert.equal(byRoute.get('cors '), kongId('plugins', 'plugins:*:cors::::'));
  });
});
