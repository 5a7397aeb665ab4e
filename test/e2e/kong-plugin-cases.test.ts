// Kong's plugin access specs, case by case, through one real Envoy with the authz companion:
// the cases of test/e2e/kong-plugin-cases.ts, one config holding every route (told apart by host).
//
// Left out of Kong's specs, and why:
// - request-termination `echo` / `trigger` (echos the request back): refused at load, not served
//   (docs/plugins.md); its gRPC case: gRPC answers are covered by test/e2e/grpc-answers.test.ts;
//   "returns server tokens with Server header": Kong's own server token.
// - key-auth: the unknown-anonymous 500 (an `anonymous` naming no consumer is refused at load); the #grpc cases
//   (a gRPC client; gRPC refusals are covered by test/e2e/grpc-answers.test.ts); auto-expiring
//   keys (a key's `ttl` counted from its insertion through the Admin API).
// - basic-auth (spec/03-plugins/10-basic-auth/03-access_spec.lua): "rejects gRPC call without
//   credentials" and "accepts authorized gRPC calls" (a gRPC client and grpcbin; gRPC refusals
//   are covered by test/e2e/grpc-answers.test.ts), "errors when anonymous user doesn't exist"
//   (an `anonymous` naming no consumer is refused at load, FD_AUTHZ_UNKNOWN_ANONYMOUS, so no
//   request ever sees it), and "consumer cache consistency" (deletes the consumer through the
//   Admin API). The routes with `anonymous` and the logical AND / OR routes (basic-auth beside
//   key-auth) are served by the companion under either enforcer (docs/authz.md says why).
// - cors: the routes with preflight_continue (refused at load: Envoy answers preflights itself),
//   so "preflight_continue enabled" is left out; the cases of those routes that are not
//   preflights run on the same config without it. "works even when a runtime error occurs"
//   needs Kong's error-generator test plugin.
// - ip-restriction: the X-Forwarded-For and X-Real-IP cases (they depend on kong.conf's
//   real_ip_header / trusted_ips; Frontdesk trusts no forwarded address, as Kong's default), the
//   #grpc and #tcp cases (a gRPC client and stream routes; the #tcp ones read Kong's error log),
//   and "supports config changes without restarting" (Admin API).
// - correlation-id: the tracker generator (refused at load), the runtime-error case
//   (error-generator) and the #grpc cases (a gRPC client).
// - request-transformer: the cases of its remove, rename and replace blocks for headers, the
//   query string and form/JSON bodies are here (and multipart remove); multipart rename and
//   replace (the transform companion removes multipart parts only), pre-function and the
//   templates that are not one of the forms Kong documents (routes 13, 19, 24, 25 and 28:
//   arithmetic, calls, `type()` and `shared`, refused at load) are not taken into this table.
// - anything set through the Admin API, the database or kong.conf: not observable by a client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AUTH_PLUGINS } from '../../src/contracts/authz.js';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { request } from 'node:http';
import { type ProxyReply } from '../support/proxy-request.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';
import { KONG_PLUGIN_CASES, PLUGIN_CONFIG, type PluginCase } from './kong-plugin-cases.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;

/** One case's request through the proxy port, its body (if any) written in one go, as Kong's spec clients do. */
function send(gw: Gateway, r: PluginCase['request']): Promise<ProxyReply> {
  return new Promise((resolve, reject) => {
    const body = !r.body ? undefined : 'text' in r.body ? Buffer.from(r.body.text) : Buffer.alloc(r.body.bytes, 'a');
    const headers: Record<string, string | number> = { ...(r.headers ?? {}) };
    if (body && r.body && 'chunked' in r.body && r.body.chunked) headers['transfer-encoding'] = 'chunked';
    else if (body) headers['content-length'] = body.length;
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, method: r.method ?? 'GET', path: r.path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // A refused body is not read to its end: the answer arrives, the rest of the upload may not be taken.
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'EPIPE' || (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}

function headerOk(got: string | string[] | undefined, want: string | null | RegExp): boolean {
  if (want === null) return got === undefined;
  const value = Array.isArray(got) ? got.join(', ') : got;
  if (want instanceof RegExp) return typeof value === 'string' && want.test(value);
  // A list-valued header sent as one line or several: the same items in the same order.
  const items = (v: string) => v.split(',').map((x) => x.trim()).join(',');
  return value !== undefined && items(value) === items(want);
}

function differences(c: PluginCase, a: ProxyReply, upstream: string, again?: ProxyReply): string[] {
  const e = c.expect;
  const wrong: string[] = [];
  const reached = a.headers['x-upstream'] === upstream;
  if (a.status !== e.status) wrong.push(`expected status ${e.status}, got ${a.status} ${a.text.slice(0, 100)}`);
  if (e.json !== undefined) {
    let json: unknown;
    try { json = JSON.parse(a.text); } catch { json = `(not JSON) ${a.text.slice(0, 100)}`; }
    try { assert.deepStrictEqual(json, e.json); } catch { wrong.push(`expected body ${JSON.stringify(e.json)}, got ${JSON.stringify(json)}`); }
  }
  if (e.body !== undefined && a.text !== e.body) wrong.push(`expected body ${JSON.stringify(e.body)}, got ${JSON.stringify(a.text)}`);
  for (const part of e.bodyHas ?? []) if (!a.text.includes(part)) wrong.push(`expected the body to hold ${JSON.stringify(part)}, got ${JSON.stringify(a.text.slice(0, 200))}`);
  for (const part of e.bodyLacks ?? []) if (a.text.includes(part)) wrong.push(`expected the body without ${JSON.stringify(part)}, got ${JSON.stringify(a.text.slice(0, 200))}`);
  for (const [name, want] of Object.entries(e.headers ?? {})) {
    const got = a.headers[name];
    if (!headerOk(got, want)) wrong.push(`expected response header ${name}: ${String(want)}, got ${String(got)}`);
  }
  if (e.upstream && !reached) wrong.push('expected the request to reach the upstream');
  if (!e.upstream && reached) wrong.push('expected the gateway to answer, the upstream answered');
  if (e.upstream && reached) {
    const echo = JSON.parse(a.text) as EchoReply;
    if (e.upstream.method !== undefined && echo.method !== e.upstream.method) wrong.push(`expected upstream method ${e.upstream.method}, got ${echo.method}`);
    const pathOk = e.upstream.path === undefined || (e.upstream.path instanceof RegExp ? e.upstream.path.test(echo.path) : echo.path === e.upstream.path);
    if (!pathOk) wrong.push(`expected upstream path ${String(e.upstream.path)}, got ${echo.path}`);
    for (const part of e.upstream.bodyHas ?? []) if (!echo.body.includes(part)) wrong.push(`expected the upstream's body to hold ${JSON.stringify(part)}, got ${JSON.stringify(echo.body.slice(0, 200))}`);
    for (const part of e.upstream.bodyLacks ?? []) if (echo.body.includes(part)) wrong.push(`expected the upstream's body without ${JSON.stringify(part)}, got ${JSON.stringify(echo.body.slice(0, 200))}`);
    for (const [name, want] of Object.entries(e.upstream.headers ?? {})) {
      const got = echo.headers[name];
      const ok = want === '*' ? typeof got === 'string' && got.length > 0 : headerOk(got, want);
      if (!ok) wrong.push(`expected upstream header ${name}: ${String(want)}, got ${String(got)}`);
    }
    if (e.echoes !== undefined && a.headers[e.echoes] !== echo.headers[e.echoes]) {
      wrong.push(`expected response header ${e.echoes} to be the upstream's ${String(echo.headers[e.echoes])}, got ${String(a.headers[e.echoes])}`);
    }
    if (e.differsEachTime !== undefined) {
      const first = echo.headers[e.differsEachTime];
      const second = again && again.headers['x-upstream'] === upstream ? (JSON.parse(again.text) as EchoReply).headers[e.differsEachTime] : undefined;
      if (first === undefined || second === undefined || first === second) wrong.push(`expected upstream header ${e.differsEachTime} to differ between two requests, got ${String(first)} and ${String(second)}`);
    }
  }
  return wrong.map((w) => `${c.cite}: ${c.request.method ?? 'GET'} ${c.request.path} ${JSON.stringify(c.request.headers ?? {})}: ${w}`);
}

/**
 * The table's config with every auth plugin asking for `enforcer` (the extension field): the
 * same cases run with Envoy checking them itself (native) and with the authz companion.
 */
function withEnforcer(enforcer: 'native' | 'companion'): unknown {
  const config = structuredClone(PLUGIN_CONFIG) as { services: { routes: { plugins: { name: string; config?: Record<string, unknown> }[] }[] }[] };
  for (const s of config.services) for (const r of s.routes) for (const p of r.plugins) {
    if (AUTH_PLUGINS.includes(p.name as never)) p.config = { ...p.config, enforcer };
  }
  return config;
}

for (const enforcer of ['native', 'companion'] as const) describe(`Kong's plugin access specs through Envoy (auth enforcer: ${enforcer})`, () => {
  let upstream: Upstream;
  let gw: Gateway;

  before(async () => {
    upstream = await startEchoUpstream('mock', { kongMock: true });
    // The transform companion strips key-auth6's key from the body (key_in_body with hide_credentials).
    gw = await startGatewayWithAuthz(JSON.stringify(withEnforcer(enforcer)).replaceAll('$UPSTREAM', upstream.url), { transform: true });
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  test("the table holds Kong's cases", () => {
    assert.ok(KONG_PLUGIN_CASES.length >= 240, `${KONG_PLUGIN_CASES.length} plugin cases run`);
    for (const plugin of ['request-termination', 'key-auth', 'basic-auth', 'cors', 'ip-restriction', 'bot-detection', 'request-size-limiting', 'correlation-id', 'redirect', 'request-transformer', 'response-transformer']) {
      assert.ok(KONG_PLUGIN_CASES.some((c) => c.cite.includes(`-${plugin}/`)), `cases of ${plugin}`);
    }
    // A case of Kong's specs cites its describe and it; one read from a handler (where the spec has none) cites the handler's (or its access.lua's) function.
    assert.ok(KONG_PLUGIN_CASES.every((c) => /^spec\/03-plugins\/\d+-[a-z-]+\/0\d-(?:access|filter)_spec\.lua describe\(|^kong\/plugins\/[a-z-]+\/(?:handler|access)\.lua [a-z_]+: /.test(c.cite)), 'every case cites its spec or its handler');
  });

  test('a client sees what Kong\'s specs expect', async () => {
    const wrong: string[] = [];
    for (const c of KONG_PLUGIN_CASES) {
      const first = await send(gw, c.request);
      const again = c.expect.differsEachTime !== undefined ? await send(gw, c.request) : undefined;
      wrong.push(...differences(c, first, 'mock', again));
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${KONG_PLUGIN_CASES.length} cases differ from Kong`);
  });
});
