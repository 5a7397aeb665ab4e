// Kong's router behaviours at the edges of a path, through a real Envoy, each expected value
// taken from Kong's source or its own router spec (spec/02-integration/05-proxy/02-router_spec.lua):
// a percent sign in a stripped prefix, "./" left at the start of the stripped rest
// (kong/router/utils.lua sanitize_uri_postfix), duplicate slashes merged before matching
// (kong/tools/uri.lua normalize, as Kong's "Request path" docs say).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;

function get(gw: Gateway, path: string): Promise<{ status: number; body: Partial<EchoReply> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Kong path edge cases through Envoy', () => {
  let up: Upstream;
  let gw: Gateway;

  before(async () => {
    up = await startEchoUpstream('up');
    gw = await startGateway(`
_format_version: "3.0"
services:
  - name: svc
    url: ${up.url}/service
    routes:
      - name: percent
        paths: ["/endel%2Fst"]
      - name: sanitize
        paths: [/route]
      - name: merged
        paths: [/foo/bar]
        strip_path: false
  - name: other
    url: ${up.url}
    routes:
      - name: other-root
        paths: [/other]
`);
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  test('a stripped prefix holding "%" keeps the whole route configuration served (Kong: "/endel%2Fst" routes)', async () => {
    const r = await get(gw, '/endel%2Fst/x');
    assert.equal(r.status, 200);
    assert.equal(r.body.path, '/service/x');
    assert.equal(r.body.headers?.['x-forwarded-prefix'], '/endel%2Fst');
    // The other routes of the listener are served too (a refused RouteConfiguration would 404 them all).
    assert.equal((await get(gw, '/other/y')).body.path, '/y');
  });

  test('"./" at the start of the stripped rest is dropped, as sanitize_uri_postfix does', async () => {
    assert.equal((await get(gw, '/route%2E/req')).body.path, '/service/req');
    assert.equal((await get(gw, '/route./req')).body.path, '/service/req');
    assert.equal((await get(gw, '/route../req')).body.path, '/service/req');
    assert.equal((await get(gw, '/route/req')).body.path, '/service/req');
  });

  test('duplicate slashes are merged before matching', async () => {
    const r = await get(gw, '/foo//bar');
    assert.equal(r.status, 200);
    assert.equal(r.body.path, '/service/foo/bar');
  });
});
