/**
 * Kong's router priority (traditional_compatible, src/ir/route-order.ts), observed where it
 * matters: the order of the routes in the generated RouteConfiguration (one virtual host;
 * routes with hosts check :authority themselves), since Envoy takes the first route that
 * matches. From most to least
 * significant: how many kinds of criteria, plain hosts over wildcards, how many headers,
 * regex before prefix, regex_priority among regexes, longest prefix; then the highest route id.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig, describeErrors } from '../../src/runtime/compile.js';
import { routeConfigOf } from '../support/route-configs.js';

interface EnvoyRoute { name: string; match: Record<string, unknown> }
interface VirtualHost { name: string; domains: string[]; routes: EnvoyRoute[] }

/** Compiles routes (YAML list items under one service) and returns each virtual host's route names. */
function compile(routesYaml: string, extra = ''): VirtualHost[] {
  const text = `_format_version: "3.0"
services:
  - name: svc
    url: http://svc.internal:8080
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
${routesYaml.replace(/^\n/, '').split('\n').map((l) => (l ? `      ${l}` : l)).join('\n')}
${extra}`;
  const r = compileConfig([{ file: 'order.yaml', text }]);
  assert.ok(r.ok && r.translation, describeErrors(r));
  const rds = r.translation.fleets.get('')!.get(TYPE.route)!;
  const rc = routeConfigOf(rds) as unknown as { virtual_hosts: VirtualHost[] };
  return rc.virtual_hosts;
}

/** Route names in a virtual host, without Kong's 404 (checked to be last) and the exact-path twins. */
function order(vhosts: VirtualHost[], vhost = 'any'): string[] {
  const vh = vhosts.find((v) => v.name === vhost);
  assert.ok(vh, `no virtual host ${vhost} (have ${vhosts.map((v) => v.name).join(', ')})`);
  assert.equal(vh.routes.at(-1)?.name, 'no-route', 'Kong\'s 404 is the last route');
  return vh.routes.slice(0, -1).map((r) => r.name).filter((n) => !n.endsWith(':exact'));
}

describe('Kong route priority in the generated virtual hosts', () => {
  test('more kinds of criteria first, whatever the path lengths', () => {
    const vh = compile(`
- name: path-only-long
  paths: [/api/v1/orders/items/very/long]
- name: method-and-path
  methods: [GET]
  paths: [/api]
- name: method-path-header
  methods: [GET]
  paths: [/]
  headers:
    x-tenant: [a]
- name: method-only
  methods: [DELETE]
`);
    assert.deepEqual(order(vh), ['method-path-header', 'method-and-path', 'path-only-long', 'method-only']);
  });

  test('hosts count as a criterion: a host route beats a host-less one in its virtual host', () => {
    const vh = compile(`
- name: hostless-long
  paths: [/a/very/long/prefix]
- name: with-host
  hosts: [api.example.com]
  paths: [/]
`);
    assert.deepEqual(order(vh), ['with-host', 'hostless-long']);
    const withHost = vh[0]!.routes.find((r) => r.name === 'with-host')!;
    assert.deepEqual((withHost.match.headers as unknown[])[0], { name: ':authority', string_match: { safe_regex: { regex: '(?i)(?:api\\.example\\.com(?::\\d+)?)' } } });
    assert.equal(vh.length, 1, 'one virtual host: Kong ranks host and host-less routes in one list');
  });

  test('plain hosts beat wildcard hosts, and one wildcard among the hosts makes a route a wildcard one', () => {
    const vh = compile(`
- name: a-suffix-wildcard
  hosts: ["*.example.com"]
  paths: [/x]
- name: b-prefix-wildcard
  hosts: ["api.*"]
  paths: [/x]
- name: c-mixed
  hosts: [api.example.com, "*.example.org"]
  paths: [/x]
- name: z-plain
  hosts: [api.example.com]
  paths: [/x]
`);
    assert.deepEqual(order(vh), ['z-plain', 'a-suffix-wildcard', 'b-prefix-wildcard', 'c-mixed']);
  });

  test('the plain-host bit outranks the header count', () => {
    const vh = compile(`
- name: wildcard-with-header
  hosts: ["*.example.com"]
  headers:
    x-a: ["1"]
    x-b: ["2"]
- name: plain-host-path
  hosts: [api.example.com]
  methods: [GET]
`);
    assert.deepEqual(order(vh), ['plain-host-path', 'wildcard-with-header']);
  });

  test('more headers first', () => {
    const vh = compile(`
- name: one-header
  paths: [/a/long/path]
  headers:
    x-a: ["1"]
- name: two-headers
  paths: [/a]
  headers:
    x-a: ["1"]
    x-b: ["2"]
- name: three-headers
  paths: [/]
  headers:
    x-a: ["1"]
    x-b: ["2"]
    x-c: ["3"]
`);
    assert.deepEqual(order(vh), ['three-headers', 'two-headers', 'one-header']);
  });

  test('the header count outranks regex-ness', () => {
    const vh = compile(`
- name: regex
  paths: ["~/a/\\\\d+"]
  methods: [GET]
- name: header-prefix
  paths: [/a]
  headers:
    x-a: ["1"]
`);
    assert.deepEqual(order(vh), ['header-prefix', 'regex']);
  });

  test('regex paths before prefix paths, even longer prefixes', () => {
    const vh = compile(`
- name: long-prefix
  paths: [/users/all/of/them/in/a/list]
- name: short-regex
  paths: ["~/u"]
`);
    assert.deepEqual(order(vh), ['short-regex', 'long-prefix']);
  });

  test('regex_priority orders regexes, higher first, negatives last', () => {
    const vh = compile(`
- name: rp-0
  paths: ["~/a"]
- name: rp-minus-5
  paths: ["~/b"]
  regex_priority: -5
- name: rp-10
  paths: ["~/c"]
  regex_priority: 10
- name: rp-1
  paths: ["~/d"]
  regex_priority: 1
`);
    assert.deepEqual(order(vh), ['rp-10', 'rp-1', 'rp-0', 'rp-minus-5']);
  });

  test('regex_priority outranks regex length', () => {
    const vh = compile(`
- name: long-regex
  paths: ["~/users/[0-9]+/orders/[0-9]+/items"]
- name: short-regex-prioritised
  paths: ["~/u"]
  regex_priority: 1
`);
    assert.deepEqual(order(vh), ['short-regex-prioritised', 'long-regex']);
  });

  test('regex_priority is ignored on prefix paths', () => {
    const vh = compile(`
- name: short-prefix-high-priority
  paths: [/a]
  regex_priority: 100
- name: long-prefix
  paths: [/a/b]
`);
    assert.deepEqual(order(vh), ['long-prefix', 'short-prefix-high-priority']);
  });

  test('longest prefix first', () => {
    const vh = compile(`
- name: p1
  paths: [/a]
- name: p3
  paths: [/a/b/c]
- name: p2
  paths: [/a/b]
- name: root
  paths: [/]
`);
    assert.deepEqual(order(vh), ['p3', 'p2', 'p1', 'root']);
  });

  test('each path of a route is ordered on its own', () => {
    const vh = compile(`
- name: multi
  paths: [/a, "~/r", /a/b/c/d]
- name: middle
  paths: [/a/b]
`);
    assert.deepEqual(order(vh), ['multi#1', 'multi#2', 'middle', 'multi#0']);
  });

  test('equal priorities: the highest route id first (Kong\'s ATC router), whatever the file order', () => {
    const routes = [
      ['zulu', '10000000-0000-4000-8000-000000000000'],
      ['alpha', '30000000-0000-4000-8000-000000000000'],
      ['mike', '20000000-0000-4000-8000-000000000000'],
    ].map(([n, id]) => `- name: ${n}\n  id: ${id}\n  paths: [/same]\n`);
    const a = order(compile(routes.join('')));
    const b = order(compile([...routes].reverse().join('')));
    assert.deepEqual(a, ['alpha', 'mike', 'zulu']);
    assert.deepEqual(b, a);
  });

  test('a route without id ties by the id Kong generates from its name', () => {
    // Kong's id for a route named "some.service.name" is 7f0753cd-bff2-5f74-85b0-e8e2057d9500
    // (go-kong's FillID test, the same uuid5 Kong's declarative loader computes).
    const vh = compile(`
- name: low
  id: 7f000000-0000-4000-8000-000000000000
  paths: [/same]
- name: some.service.name
  paths: [/same]
- name: high
  id: 7f100000-0000-4000-8000-000000000000
  paths: [/same]
`);
    assert.deepEqual(order(vh), ['high', 'some.service.name', 'low']);
  });

  test('renaming a route never changes which route matches', () => {
    const yaml = (a: string, b: string) => `
- name: ${a}
  id: 0a000000-0000-4000-8000-000000000000
  hosts: [shop.example]
  paths: [/cart]
- name: ${b}
  id: 0b000000-0000-4000-8000-000000000000
  hosts: [shop.example]
  paths: [/cart]
`;
    const before = order(compile(yaml('aaa', 'zzz')));
    const after = order(compile(yaml('zzz', 'aaa')));
    assert.deepEqual(before, ['zzz', 'aaa'], 'the route with the higher id (0b...) first');
    assert.deepEqual(after, ['aaa', 'zzz'], 'the same route (id 0b...), renamed, still first');
  });

  test('a strip_path route is one Envoy route; a stripped regex route\'s whole-match route comes right before it', () => {
    const text = `_format_version: "3.0"
services:
  - name: svc
    url: http://svc.internal:8080/base
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: short
        paths: [/a]
      - name: long
        paths: [/a/b]
      - name: re
        paths: ["~/a/\\\\d+$"]
`;
    const r = compileConfig([{ file: 'order.yaml', text }]);
    assert.ok(r.ok && r.translation);
    const rc = routeConfigOf(r.translation.fleets.get('')!.get(TYPE.route)!) as unknown as { virtual_hosts: VirtualHost[] };
    assert.deepEqual(rc.virtual_hosts[0]!.routes.map((x) => [x.name, x.match.path ?? x.match.prefix ?? (x.match as { safe_regex?: { regex: string } }).safe_regex?.regex]), [
      ['re:exact', '(?:/a/\\d+$)'], ['re', '(?:/a/\\d+$).*'], ['long', '/a/b'], ['short', '/a'], ['no-route', '/'],
    ]);
  });

  test('the order holds across services: it is one global order, not per service', () => {
    const vh = compile(`
- name: svc-short
  paths: [/x]
`, `  - name: other
    url: http://other.internal:8080
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: other-long
        paths: [/x/y]
      - name: other-regex
        paths: ["~/x/[0-9]+"]
`);
    assert.deepEqual(order(vh), ['other-regex', 'other-long', 'svc-short']);
  });
});
