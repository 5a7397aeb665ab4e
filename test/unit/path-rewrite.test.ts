/**
 * Which Envoy routes a Kong route's path handling becomes (path_handling v0): one route with one
 * regex rewrite wherever one RE2 pattern can give Kong's upstream path, a second route only for
 * a strip_path regex path whose service path is not "/" (the user's regex would appear twice)
 * or a prefix too long for Envoy's RE2 program size limit of 100 (the one-rewrite pattern holds
 * the prefix twice: 2 instructions per byte and 12 more, so 44 bytes is the longest). What each
 * rewrite sends upstream is proven through Envoy in test/e2e/path-handling.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileConfig, describeErrors } from '../../src/runtime/compile.js';
import type { IrRoute } from '../../src/ir/types.js';
import { TYPE } from '../../src/resources/type-urls.js';

interface Case { service: string; path?: string; strip: boolean; twin: boolean }

const CASES: [string, Case][] = [
  ['strip, prefix, service path without trailing slash', { service: '/svc', path: '/route', strip: true, twin: false }],
  ['strip, prefix, service path with trailing slash', { service: '/svc/', path: '/route', strip: true, twin: false }],
  ['strip, prefix, service path "/"', { service: '/', path: '/route', strip: true, twin: false }],
  ['strip, prefix "/", service path without trailing slash', { service: '/svc', path: '/', strip: true, twin: false }],
  ['strip, prefix ending in "/"', { service: '/svc', path: '/route/', strip: true, twin: false }],
  ['strip, a 44-byte prefix (program size 100)', { service: '/svc', path: `/${'a'.repeat(43)}`, strip: true, twin: false }],
  ['strip, a 44-byte prefix of two-byte characters and dots', { service: '/svc', path: `/${'é'.repeat(20)}...`, strip: true, twin: false }],
  ['strip, a 45-byte prefix (program size 102)', { service: '/svc', path: `/${'a'.repeat(44)}`, strip: true, twin: true }],
  ['strip, a 45-byte prefix of two-byte characters', { service: '/svc', path: `/${'é'.repeat(22)}`, strip: true, twin: true }],
  ['strip, regex path', { service: '/svc', path: '~/users/\\d+', strip: true, twin: true }],
  ['strip, regex path, service path "/"', { service: '/', path: '~/users/\\d+', strip: true, twin: false }],
  ['no strip, prefix "/", service path without trailing slash', { service: '/svc', path: '/', strip: false, twin: false }],
  ['no strip, no path, service path without trailing slash', { service: '/svc', strip: false, twin: false }],
  ['no strip, prefix "/", service path with trailing slash', { service: '/svc/', path: '/', strip: false, twin: false }],
  ['no strip, prefix', { service: '/svc', path: '/route', strip: false, twin: false }],
];

function compile(c: Case): { route: IrRoute; envoyRoutes: string[] } {
  const paths = c.path === undefined ? '' : `, paths: [${JSON.stringify(c.path)}]`;
  const r = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9${c.service}
    routes:
      - { name: r, hosts: [a.test]${paths}, strip_path: ${c.strip} }
` }]);
  if (!r.ok) throw new Error(describeErrors(r));
  const rcs = [...(r.translation!.fleets.get('')!.get(TYPE.route)!.values())] as unknown as { virtual_hosts: { routes: { name: string }[] }[] }[];
  const envoyRoutes = rcs.flatMap((rc) => rc.virtual_hosts.flatMap((v) => v.routes.map((x) => x.name))).filter((n) => n.startsWith('r'));
  return { route: r.ir!.routes.find((x) => x.routeName === 'r')!, envoyRoutes };
}

/** Envoy's regex_rewrite of a `^` pattern: the one match replaced, `\N` a group (empty when it took no part). */
function rewrite(route: IrRoute, path: string): string {
  const rw = route.action.rewrite;
  if (!rw) return path;
  return path.replace(new RegExp(rw.pattern), (...m: unknown[]) => rw.substitution.replace(/\\(\d)/g, (_, n: string) => (m[Number(n)] as string | undefined) ?? ''));
}

describe('path_handling v0: one Envoy route per Kong route where one rewrite can do', () => {
  for (const [name, c] of CASES) {
    test(`${name}: ${c.twin ? 'a second route' : 'one route'}`, () => {
      const { route, envoyRoutes } = compile(c);
      assert.deepEqual(envoyRoutes, c.twin ? ['r:exact', 'r'] : ['r']);
      assert.equal(route.action.exactRewrite !== undefined, c.twin);
    });
  }

  // Kong's get_upstream_uri_v0 with sanitize_uri_postfix, by hand, for route /route and service path /svc
  // or /svc/ (the same answers: a trailing slash on B is dropped before a rest or an empty postfix).
  const KONG: [string, string][] = [
    ['/route', '/svc'], ['/route/', '/svc/'], ['/route/x', '/svc/x'], ['/routexyz', '/svc/xyz'],
    ['/route./x', '/svc/x'], ['/route../x', '/svc/x'], ['/route.', '/svc'], ['/route..', '/svc'],
    ['/route.x', '/svc/.x'], ['/route...', '/svc/...'], ['/route./', '/svc/'],
  ];
  for (const service of ['/svc', '/svc/']) {
    test(`strip_path, service path ${service}: the rewrite's branches give Kong's upstream paths`, () => {
      const { route } = compile({ service, path: '/route', strip: true, twin: false });
      assert.deepEqual(KONG.map(([req]): [string, string] => [req, rewrite(route, req)]), KONG);
    });
  }
});
