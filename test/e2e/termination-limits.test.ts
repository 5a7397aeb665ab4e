// Kong runs rate-limiting (priority 910) before redirect (779) and request-termination (2): on
// a redirected or terminated route the limit still counts, and once it is spent the client gets
// the limit's 429, not the plugin's answer. Through a real Envoy and the ratelimit companion (whose limits Envoy reads from
// a route action, which a direct_response has not: the responder filter answers instead).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { proxyRequest } from '../support/proxy-request.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';

describe('request-termination and redirect behind the ratelimit companion\'s limits', () => {
  let gw: Gateway;
  let svc: TestRateLimitService;
  before(async () => {
    const rlPort = await freePort();
    gw = await startGateway(`_format_version: "3.0"
services:
  - name: shop
    url: http://127.0.0.1:9
    routes:
      - name: closed
        paths: [/closed]
        plugins:
          - { name: rate-limiting, config: { minute: 2, limit_by: ip, enforcer: companion } }
          - { name: request-termination, config: { status_code: 503, message: "Back at 9 \\"sharp\\" — promise" } }
      - name: teapot
        paths: [/teapot]
        plugins:
          - { name: rate-limiting, config: { minute: 5, limit_by: ip, enforcer: companion } }
          - { name: request-termination, config: { status_code: 418, body: "short and stout", content_type: text/x-tea } }
      - name: moved
        paths: [/moved]
        plugins:
          - { name: rate-limiting, config: { minute: 2, limit_by: ip, enforcer: companion } }
          - { name: redirect, config: { status_code: 308, location: "https://new.example.test/base?x=1", keep_incoming_path: true } }
`, { settings: { ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: rlPort, timeoutMs: 1000 } } });
    svc = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort });
    await gw.converged();
  });
  after(async () => {
    await svc?.stop();
    await gw?.stop();
  });

  test('the termination answers while the limit lasts, with its status, JSON message and rate-limit headers; then the limit\'s 429', async () => {
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await proxyRequest(gw, { path: '/closed' }));
    assert.deepEqual(replies.map((r) => r.status), [503, 503, 429]);
    assert.deepEqual(JSON.parse(replies[0]!.text), { message: 'Back at 9 "sharp" — promise' });
    assert.match(String(replies[0]!.headers['content-type']), /^application\/json/);
    assert.equal(replies[0]!.headers['x-ratelimit-remaining-minute'], '1', 'the termination was counted');
    assert.deepEqual(JSON.parse(replies[2]!.text), { message: 'API rate limit exceeded' });
  });

  test('a raw body and its content type come out as written by the responder', async () => {
    const r = await proxyRequest(gw, { path: '/teapot' });
    assert.equal(r.status, 418);
    assert.equal(r.text, 'short and stout');
    assert.equal(r.headers['content-type'], 'text/x-tea');
    const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump`)).text();
    assert.ok(dump.includes('frontdesk.request_termination_responder'), 'the companion-limited routes are answered by the responder');
  });

  test('redirect: Kong\'s answer with the incoming path kept while the limit lasts, then the limit\'s 429', async () => {
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await proxyRequest(gw, { path: `/moved/a/b?page=${i}` }));
    assert.deepEqual(replies.map((r) => r.status), [308, 308, 429]);
    assert.equal(replies[1]!.headers.location, 'https://new.example.test/moved/a/b?page=1');
    assert.equal(replies[0]!.text, 'redirecting');
  });
});
