// Kong's path_handling v0 (Kong 3.x's default) and v1 through one real Envoy: the upstream path
// for every (service path × route path × strip_path × request path) row of Kong's own table,
// spec/fixtures/router_path_handling_tests.lua in Kong/kong (the 3.x version, commit 34c7dfdc,
// whose rows agree with kong/router/utils.lua get_upstream_uri_v0; an older version expected
// no trailing slash in rows 46, 52, 65 and 75). Rows are numbered 1-based in the order of that
// file (its "-- N" markers come before row N+1); a row listed there for {false, true} appears
// here once per strip_path value, for v0 and v1 in their own tables. The regex rows at the
// end are not in Kong's table: they follow get_upstream_uri_v0 with Kong's regex strip (the
// part the `~` regex matched from the start of the path is the prefix, what follows is the
// postfix). Every expected path is written by hand.
//
// One config holds every route; each (service path, route path, strip_path) gets a host of its
// own, so one Envoy and one echo upstream serve the whole table.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { compileConfig } from '../../src/runtime/compile.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { buildSnapshot } from '../../src/xds/snapshot.js';
import { nackSince, startGateway, type Gateway } from '../support/gateway.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;
/** [row, service path, route path (undefined: the route matches on host only), strip_path, request path, expected upstream path] */
type Row = [string, string, string | undefined, boolean, string, string];

const both = (row: string, service: string, route: string | undefined, req: string, expected: string): Row[] =>
  [[`${row} strip_path=false`, service, route, false, req, expected], [`${row} strip_path=true`, service, route, true, req, expected]];

/** Rows 1 to 15: service path "/", listed in Kong's table for v0 and v1 alike. */
const ROOT_SERVICE_ROWS: Row[] = [
  ...both('1', '/', '/', '/', '/'),
  ...both('2', '/', '/', '/route', '/route'),
  ...both('3', '/', '/', '/route/', '/route/'),
  ...both('4', '/', '/', '/routereq', '/routereq'),
  ...both('5', '/', '/', '/route/req', '/route/req'),
  ['6', '/', '/route', false, '/route', '/route'],
  ['7', '/', '/route', false, '/route/', '/route/'],
  ['8', '/', '/route', false, '/routereq', '/routereq'],
  ['9', '/', '/route', true, '/route', '/'],
  ['10', '/', '/route', true, '/route/', '/'],
  ['11', '/', '/route', true, '/routereq', '/req'],
  ['12', '/', '/route/', false, '/route/', '/route/'],
  ['13', '/', '/route/', false, '/route/req', '/route/req'],
  ['14', '/', '/route/', true, '/route/', '/'],
  ['15', '/', '/route/', true, '/route/req', '/req'],
];

const KONG_ROWS: Row[] = [
  ...ROOT_SERVICE_ROWS,
  ['16', '/srv', '/rou', false, '/roureq', '/srv/roureq'],
  ['18', '/srv', '/rou', true, '/roureq', '/srv/req'],
  ['20', '/srv/', '/rou', false, '/rou', '/srv/rou'],
  ['21', '/srv/', '/rou', true, '/rou', '/srv'],
  ...both('23', '/service', '/', '/', '/service'),
  ...both('24', '/service', '/', '/route', '/service/route'),
  ...both('26', '/service', '/', '/route/', '/service/route/'),
  ...both('28', '/service', '/', '/routereq', '/service/routereq'),
  ...both('30', '/service', '/', '/route/req', '/service/route/req'),
  ['32', '/service', '/route', false, '/route', '/service/route'],
  ['34', '/service', '/route', false, '/route/', '/service/route/'],
  ['36', '/service', '/route', false, '/routereq', '/service/routereq'],
  ['38', '/service', '/route', true, '/route', '/service'],
  ['39', '/service', '/route', true, '/route/', '/service/'],
  ['40', '/service', '/route', true, '/routereq', '/service/req'],
  ['42', '/service', '/route/', false, '/route/', '/service/route/'],
  ['44', '/service', '/route/', false, '/route/req', '/service/route/req'],
  ['46', '/service', '/route/', true, '/route/', '/service/'],
  ['48', '/service', '/route/', true, '/route/req', '/service/req'],
  ...both('50', '/service/', '/', '/route/', '/service/route/'),
  ...both('52', '/service/', '/', '/', '/service/'),
  ...both('53', '/service/', '/', '/route', '/service/route'),
  ...both('54', '/service/', '/', '/routereq', '/service/routereq'),
  ...both('55', '/service/', '/', '/route/req', '/service/route/req'),
  ['56', '/service/', '/route', false, '/route', '/service/route'],
  ['57', '/service/', '/route', false, '/route/', '/service/route/'],
  ['58', '/service/', '/route', false, '/routereq', '/service/routereq'],
  ['59', '/service/', '/route', true, '/route', '/service'],
  ['61', '/service/', '/route', true, '/route/', '/service/'],
  ['62', '/service/', '/route', true, '/routereq', '/service/req'],
  ['63', '/service/', '/route/', false, '/route/', '/service/route/'],
  ['64', '/service/', '/route/', false, '/route/req', '/service/route/req'],
  ['65', '/service/', '/route/', true, '/route/', '/service/'],
  ['66', '/service/', '/route/', true, '/route/req', '/service/req'],
  ...both('67', '/', undefined, '/', '/'),
  ...both('68', '/', undefined, '/route', '/route'),
  ...both('69', '/', undefined, '/route/', '/route/'),
  ...both('70', '/service', undefined, '/', '/service'),
  ...both('71', '/service', undefined, '/route', '/service/route'),
  ...both('73', '/service', undefined, '/route/', '/service/route/'),
  ...both('75', '/service/', undefined, '/', '/service/'),
  ...both('76', '/service/', undefined, '/route', '/service/route'),
  ...both('77', '/service/', undefined, '/route/', '/service/route/'),
];

// The v1 rows of the same table (path_handling {"v0", "v1"} rows and the "v1" ones), numbered
// alike; v1 joins the service path and the rest as strings (Kong's traditional router: with
// strip_path the rest after the route's path, one slash dropped where both have one; without,
// the request path without its leading slash).
const V1_ROWS: Row[] = [
  ...ROOT_SERVICE_ROWS,
  ['17', '/srv', '/rou', false, '/roureq', '/srvroureq'],
  ['19', '/srv', '/rou', true, '/roureq', '/srvreq'],
  ['20', '/srv/', '/rou', false, '/rou', '/srv/rou'],
  ['22', '/srv/', '/rou', true, '/rou', '/srv/'],
  ...both('23', '/service', '/', '/', '/service'),
  ...both('25', '/service', '/', '/route', '/serviceroute'),
  ...both('27', '/service', '/', '/route/', '/serviceroute/'),
  ...both('29', '/service', '/', '/routereq', '/serviceroutereq'),
  ...both('31', '/service', '/', '/route/req', '/serviceroute/req'),
  ['33', '/service', '/route', false, '/route', '/serviceroute'],
  ['35', '/service', '/route', false, '/route/', '/serviceroute/'],
  ['37', '/service', '/route', false, '/routereq', '/serviceroutereq'],
  ['38', '/service', '/route', true, '/route', '/service'],
  ['39', '/service', '/route', true, '/route/', '/service/'],
  ['41', '/service', '/route', true, '/routereq', '/servicereq'],
  ['43', '/service', '/route/', false, '/route/', '/serviceroute/'],
  ['45', '/service', '/route/', false, '/route/req', '/serviceroute/req'],
  ['47', '/service', '/route/', true, '/route/', '/service'],
  ['49', '/service', '/route/', true, '/route/req', '/servicereq'],
  ...both('51', '/service/', '/', '/route/', '/service/route/'),
  ...both('52', '/service/', '/', '/', '/service/'),
  ...both('53', '/service/', '/', '/route', '/service/route'),
  ...both('54', '/service/', '/', '/routereq', '/service/routereq'),
  ...both('55', '/service/', '/', '/route/req', '/service/route/req'),
  ['56', '/service/', '/route', false, '/route', '/service/route'],
  ['57', '/service/', '/route', false, '/route/', '/service/route/'],
  ['58', '/service/', '/route', false, '/routereq', '/service/routereq'],
  ['60', '/service/', '/route', true, '/route', '/service/'],
  ['61', '/service/', '/route', true, '/route/', '/service/'],
  ['62', '/service/', '/route', true, '/routereq', '/service/req'],
  ['63', '/service/', '/route/', false, '/route/', '/service/route/'],
  ['64', '/service/', '/route/', false, '/route/req', '/service/route/req'],
  ['65', '/service/', '/route/', true, '/route/', '/service/'],
  ['66', '/service/', '/route/', true, '/route/req', '/service/req'],
  ...both('67', '/', undefined, '/', '/'),
  ...both('68', '/', undefined, '/route', '/route'),
  ...both('69', '/', undefined, '/route/', '/route/'),
  ...both('70', '/service', undefined, '/', '/service'),
  ...both('72', '/service', undefined, '/route', '/serviceroute'),
  ...both('74', '/service', undefined, '/route/', '/serviceroute/'),
  ...both('75', '/service/', undefined, '/', '/service/'),
  ...both('76', '/service/', undefined, '/route', '/service/route'),
  ...both('77', '/service/', undefined, '/route/', '/service/route/'),
];

// Regex routes (`~`), by get_upstream_uri_v0: with strip_path the postfix is what follows the
// regex's match. An empty postfix gives the service path (without its trailing slash unless
// the request ended with one; "/" stays "/"); a postfix joins the service path with one slash.
const REGEX = '~/users/\\d+';
const REGEX_ROWS: Row[] = [
  ['regex a', '/', REGEX, true, '/users/42', '/'],
  ['regex b', '/', REGEX, true, '/users/42/orders', '/orders'],
  ['regex c', '/service', REGEX, true, '/users/42', '/service'],
  ['regex d', '/service', REGEX, true, '/users/42/', '/service/'],
  ['regex e', '/service', REGEX, true, '/users/42/orders', '/service/orders'],
  ['regex f', '/service', REGEX, true, '/users/42x', '/service/x'],
  ['regex g', '/service/', REGEX, true, '/users/42', '/service'],
  ['regex h', '/service/', REGEX, true, '/users/42/orders', '/service/orders'],
  ['regex i', '/service', REGEX, false, '/users/42/orders', '/service/users/42/orders'],
  ['regex j', '/', REGEX, false, '/users/42', '/users/42'],
];

// Kong appends the query string to the upstream path unchanged.
const QUERY_ROWS: Row[] = [
  ['query a', '/service', '/route', true, '/route/req?a=1&b=', '/service/req?a=1&b='],
  ['query b', '/service', '/route', true, '/route?a=1', '/service?a=1'],
];

// Every branch of the one rewrite each route gets, by get_upstream_uri_v0 and sanitize_uri_postfix
// (kong/router/utils.lua): the postfix is the request path after the route's path; "." and ".."
// become empty and a leading "./" or "../" is dropped; an empty postfix gives the service path
// (with one trailing slash only when the request ends with one, "/" when the service path is
// "/"); a postfix joins the service path with one slash between. Without strip_path, "/" gives
// the service path and any other request path is appended to it.
// Envoy refuses a regex over 100 RE2 instructions; the one-rewrite pattern holds a route's path
// twice (2 per byte + 12): a 44-byte path is the longest it serves, a longer one needs a second route.
const FITS = `/${'f'.repeat(43)}`;
const OVER = `/${'o'.repeat(44)}`;
const LONG = `/${'long-prefix-'.repeat(10)}end`;
const ONE_ROUTE_ROWS: Row[] = [
  ['B a', '/service', '/route', true, '/route', '/service'],
  ['B b', '/service', '/route', true, '/route/', '/service/'],
  ['B c', '/service', '/route', true, '/route/x', '/service/x'],
  ['B d', '/service', '/route', true, '/routexyz', '/service/xyz'],
  ['B e', '/service', '/route', true, '/route./x', '/service/x'],
  ['B f', '/service', '/route', true, '/route../x', '/service/x'],
  ['B g', '/service', '/route', true, '/route.', '/service'],
  ['B h', '/service', '/route', true, '/route..', '/service'],
  ['B i', '/service', '/route', true, '/route.x', '/service/.x'],
  ['B j', '/service', '/route', true, '/route...', '/service/...'],
  ['B k', '/service', '/route', true, '/route./', '/service/'],
  ['B l', '/service', '/route', true, '/route?q=1', '/service?q=1'],
  ['B m', '/service', '/route', true, '/routexyz?q=/route', '/service/xyz?q=/route'],
  ['B n', '/service', '/route', true, '/route/x/route?q=1', '/service/x/route?q=1'],
  ['B/ a', '/service/', '/route', true, '/route', '/service'],
  ['B/ b', '/service/', '/route', true, '/route/', '/service/'],
  ['B/ c', '/service/', '/route', true, '/route/x', '/service/x'],
  ['B/ d', '/service/', '/route', true, '/routexyz', '/service/xyz'],
  ['B/ e', '/service/', '/route', true, '/route./x', '/service/x'],
  ['B/ f', '/service/', '/route', true, '/route../x', '/service/x'],
  ['B/ g', '/service/', '/route', true, '/route.', '/service'],
  ['B/ h', '/service/', '/route', true, '/route?q=1', '/service?q=1'],
  ['root a', '/', '/route', true, '/route', '/'],
  ['root b', '/', '/route', true, '/route/', '/'],
  ['root c', '/', '/route', true, '/route/x', '/x'],
  ['root d', '/', '/route', true, '/routexyz', '/xyz'],
  ['root e', '/', '/route', true, '/route./x', '/x'],
  ['root f', '/', '/route', true, '/route../x', '/x'],
  ['root g', '/', '/route', true, '/route.', '/'],
  ['root h', '/', '/route', true, '/route..', '/'],
  ['root i', '/', '/route', true, '/route.x', '/.x'],
  ['root j', '/', '/route', true, '/routexyz?q=1', '/xyz?q=1'],
  ['slash a', '/service', '/', true, '/', '/service'],
  ['slash b', '/service', '/', true, '/x', '/service/x'],
  ['slash c', '/service', '/', true, '/.x', '/service/.x'],
  ['slash d', '/service', '/', true, '/?q=1', '/service?q=1'],
  ['dots a', '/service', '/v1.0', true, '/v1.0', '/service'],
  ['dots b', '/service', '/v1.0', true, '/v1.0/x', '/service/x'],
  ['dots c', '/service', '/v1.0', true, '/v1.0x', '/service/x'],
  ['fits a', '/service', FITS, true, FITS, '/service'],
  ['fits b', '/service', FITS, true, `${FITS}/x`, '/service/x'],
  ['fits c', '/service', FITS, true, `${FITS}xyz`, '/service/xyz'],
  ['fits d', '/service', FITS, true, `${FITS}../x`, '/service/x'],
  ['over a', '/service', OVER, true, OVER, '/service'],
  ['over b', '/service', OVER, true, `${OVER}/x`, '/service/x'],
  ['over c', '/service', OVER, true, `${OVER}xyz`, '/service/xyz'],
  ['over d', '/service', OVER, true, `${OVER}../x`, '/service/x'],
  ['over e', '/service/', OVER, true, OVER, '/service'],
  ['over f', '/service/', OVER, true, `${OVER}/`, '/service/'],
  ['over g', '/service', OVER, true, `${OVER}.`, '/service'],
  ['over h', '/service', OVER, true, `${OVER}..`, '/service'],
  ['over i', '/service', OVER, true, `${OVER}.x`, '/service/.x'],
  ['long a', '/service', LONG, true, LONG, '/service'],
  ['long b', '/service', LONG, true, `${LONG}/x`, '/service/x'],
  ['long c', '/service', LONG, true, `${LONG}xyz`, '/service/xyz'],
  ['long d', '/service', LONG, true, `${LONG}./x`, '/service/x'],
  ['long e', '/service', LONG, true, `${LONG}.`, '/service'],
  ['no strip a', '/service', '/', false, '/', '/service'],
  ['no strip b', '/service', '/', false, '/x', '/service/x'],
  ['no strip c', '/service', '/', false, '/x/', '/service/x/'],
  ['no strip d', '/service', '/', false, '/?q=1', '/service?q=1'],
  ['no strip e', '/service', undefined, false, '/', '/service'],
  ['no strip f', '/service', undefined, false, '/x', '/service/x'],
  ['no strip g', '/service/', '/', false, '/', '/service/'],
  ['no strip h', '/service/', '/', false, '/x', '/service/x'],
];

type Handling = 'v0' | 'v1';
const TABLES: [string, Handling, Row[]][] = [['Kong rows', 'v0', KONG_ROWS], ['regex routes', 'v0', REGEX_ROWS], ['query strings', 'v0', QUERY_ROWS], ['one rewrite per route', 'v0', ONE_ROUTE_ROWS], ['Kong rows, path_handling v1', 'v1', V1_ROWS]];
const ROWS: [Handling, Row][] = TABLES.flatMap(([, h, rows]) => rows.map((r): [Handling, Row] => [h, r]));

/** The route each row runs on: one per (path_handling, service path, route path, strip_path), with a host of its own. */
function routeKey(h: Handling, r: Row): string {
  return JSON.stringify([h, r[1], r[2], r[3]]);
}

function config(upstream: Upstream): { yaml: string; hostOf: Map<string, string> } {
  const services = [...new Set(ROWS.map(([, r]) => r[1]))];
  const hostOf = new Map<string, string>();
  const routesOf = new Map<string, string[]>(services.map((s) => [s, []]));
  for (const [h, r] of ROWS) {
    const key = routeKey(h, r);
    if (hostOf.has(key)) continue;
    const n = hostOf.size + 1;
    hostOf.set(key, `r${n}.paths.test`);
    const paths = r[2] === undefined ? '' : `, paths: ['${r[2]}']`;
    routesOf.get(r[1])!.push(`      - { name: r${n}, hosts: [r${n}.paths.test]${paths}, strip_path: ${r[3]}, path_handling: ${h} }`);
  }
  const yaml = `_format_version: "3.0"
services:
${services.map((s, i) => `  - name: svc-${i}
    url: ${upstream.url}${s}
    routes:
${routesOf.get(s)!.join('\n')}`).join('\n')}
`;
  return { yaml, hostOf };
}

function get(gw: Gateway, host: string, path: string): Promise<{ status: number; echo?: EchoReply; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, echo: res.statusCode === 200 ? JSON.parse(text) as EchoReply : undefined, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe("Kong's path_handling v0 and v1 through Envoy", () => {
  let upstream: Upstream;
  let gw: Gateway;
  let hostOf: Map<string, string>;

  before(async () => {
    upstream = await startEchoUpstream('paths');
    const c = config(upstream);
    hostOf = c.hostOf;
    gw = await startGateway(c.yaml);
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  test(`the table has every row (${ROWS.length})`, () => {
    assert.equal(KONG_ROWS.length, 82, "the v0 rows of Kong's table, {false, true} expanded");
    assert.equal(V1_ROWS.length, 82, "the v1 rows of Kong's table, {false, true} expanded");
    for (const [, , rows] of TABLES) assert.equal(new Set(rows.map((r) => r[0])).size, rows.length, 'row names are unique');
  });

  test('Envoy holds one route per Kong route, two only for a stripped regex or a path too long for one rewrite', async () => {
    const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump?resource=dynamic_route_configs`)).json() as
      { configs: { route_config: { virtual_hosts: { routes: { name: string }[] }[] } }[] };
    const names = dump.configs.flatMap((c) => c.route_config.virtual_hosts.flatMap((v) => v.routes.map((r) => r.name)));
    const twins = names.filter((n) => n.endsWith(':exact')).map((n) => n.slice(0, -':exact'.length)).sort();
    const expected = [...hostOf].filter(([key]) => {
      const [h, service, route, strip] = JSON.parse(key) as [Handling, string, string | undefined, boolean];
      return h === 'v0' && strip && service !== '/' && (route?.startsWith('~') || route === OVER || route === LONG);
    }).map(([, host]) => host.split('.')[0]!).sort();
    assert.ok(expected.length > 0);
    assert.deepEqual(twins, expected);
    // Besides Kong's routes, the listener's own answer for a request no route matches (Kong's 404).
    assert.deepEqual(names.filter((n) => !/^r\d+(?::exact)?$/.test(n)), ['no-route']);
    assert.equal(names.length, hostOf.size + expected.length + 1, 'every other Kong route is one Envoy route');
  });

  for (const [group, handling, rows] of TABLES) {
    test(`${group}: the upstream receives the path Kong sends`, async () => {
      const wrong: string[] = [];
      for (const row of rows) {
        const [name, service, route, , req, expected] = row;
        const r = await get(gw, hostOf.get(routeKey(handling, row))!, req);
        const got = r.echo?.path ?? `status ${r.status} ${r.text.slice(0, 80)}`;
        if (got !== expected) wrong.push(`row ${name}: service ${service}, route ${route ?? '(hosts only)'}, request ${req}: expected ${expected}, got ${got}`);
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${rows.length} rows differ from Kong`);
    });
  }
  // Last: it leaves the control plane on a snapshot Envoy refused (Envoy keeps the routes above),
  // and this Envoy at Envoy's default regex limit.
  test('at Envoy\'s default limit, Envoy refuses the one-rewrite pattern of a 45-byte prefix (RE2 program size 102), which is why it gets a second route', async () => {
    // Frontdesk's bootstrap raises the limit (src/runtime/bootstrap.ts); an Envoy with its own
    // bootstrap has Envoy's default of 100, and the translation's own regexes must pass it.
    const set = await fetch(`${gw.envoy.adminUrl}/runtime_modify?re2.max_program_size.error_level=100`, { method: 'POST' });
    assert.equal(set.status, 200, await set.text());
    const text = `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${upstream.url}/service\n    routes:\n      - { name: over, paths: ["${OVER}"] }\n`;
    const r = compileConfig([{ file: 'gateway.yaml', text }], { ir: { defaultListener: { address: '127.0.0.1', port: gw.proxyPort } } });
    assert.ok(r.ok && r.translation);
    type Rc = { virtual_hosts: { routes: { name: string; route?: { regex_rewrite?: unknown } }[] }[] };
    for (const rc of r.translation.fleets.get('')!.get(TYPE.route)!.values() as Iterable<unknown>) {
      for (const vh of (rc as Rc).virtual_hosts) {
        vh.routes = vh.routes.filter((x) => x.name !== 'over:exact');
        for (const x of vh.routes) if (x.name === 'over') x.route!.regex_rewrite = { pattern: { regex: `^(?:${OVER}(?:\\.\\.?)?(/|$)|(/)${OVER.slice(1)})` }, substitution: '/service\\1\\2' };
      }
    }
    const since = Date.now();
    gw.cp.ads.setSnapshot(buildSnapshot(r.translation, since, gw.cp.ads.snapshot));
    const detail = await nackSince(gw, 'RDS', since);
    assert.match(detail, /RE2 program size of 102 > max program size of 100/);
  });
});
