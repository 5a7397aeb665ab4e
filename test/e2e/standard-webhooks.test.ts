// Kong's standard-webhooks through a real Envoy: Envoy's ext_proc filter buffers the webhook's
// body and the transform companion checks its signature before the request goes on. The
// signatures are made here with node:crypto as the Standard Webhooks scheme says; the answers
// expected are Kong's (kong/plugins/standard-webhooks/internal.lua: 400 "Bad request").
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import type { RunningCompanion } from '../../src/runtime/companions.js';
import { startTransformService } from '../../src/transform/service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'e2e-webhook-secret';
const sign = (id: string, ts: number, body: string) => `v1,${createHmac('sha256', SECRET).update(`${id}.${ts}.${body}`).digest('base64')}`;
const webhook = (id: string, body: string, ts = Math.floor(Date.now() / 1000)) => ({
  'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(id, ts, body),
});

describe('standard-webhooks through Envoy and the transform companion', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  let transform: RunningCompanion;

  before(async () => {
    upstream = await startEchoUpstream('hooks');
    const transformPort = await freePort();
    gw = await startGateway(`_format_version: "3.0"
services:
  - name: hooks
    url: ${upstream.url}
    plugins:
      - name: standard-webhooks
        config: { secret_v1: ${SECRET}, tolerance_second: 120 }
    routes:
      - name: events
        paths: [/events]
      - name: stamped
        paths: [/stamped]
        plugins:
          - name: request-transformer
            config: { add: { body: ["received_by: frontdesk"] } }
  - name: open
    url: ${upstream.url}
    routes:
      - name: open
        paths: [/open]
`, { settings: { transform: { ...DEFAULT_SETTINGS.transform, port: transformPort } } });
    transform = await startTransformService({ xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: transformPort, nodeId: 'webhooks-test', logger: silentLogger() });
    await waitFor(() => transform.ready(), 'the transform companion to get its routes');
  });

  after(async () => {
    await transform?.stop();
    await gw?.stop();
    await upstream?.close();
  });

  test('HTTP/1.1: a signed webhook reaches the upstream with its body and headers as sent', async () => {
    const body = JSON.stringify({ type: 'invoice.paid', id: 42 });
    const r = await proxyRequest(gw, { method: 'POST', path: '/events', headers: webhook('msg_1', body), body });
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text) as { body: string; headers: Record<string, string> };
    assert.equal(seen.body, body);
    assert.equal(seen.headers['webhook-id'], 'msg_1');
  });

  test('Kong\'s 400 for a changed body, a missing header, an old timestamp and no body; none reaches the upstream', async () => {
    const before = upstream.requests.length;
    const body = '{"amount":10}';
    const cases: { name: string; headers: Record<string, string>; body?: string }[] = [
      { name: 'changed body', headers: webhook('msg_2', body), body: '{"amount":1000}' },
      { name: 'no signature', headers: (({ 'webhook-signature': _s, ...h }) => h)(webhook('msg_3', body)), body },
      { name: 'older than tolerance_second', headers: webhook('msg_4', body, Math.floor(Date.now() / 1000) - 300), body },
      { name: 'no body', headers: webhook('msg_5', '') },
    ];
    for (const c of cases) {
      const r = await proxyRequest(gw, { method: 'POST', path: '/events', headers: c.headers, ...(c.body !== undefined ? { body: c.body } : {}) });
      assert.equal(r.status, 400, `${c.name}: ${r.text}`);
      assert.deepEqual(JSON.parse(r.text), { message: 'Bad request' }, c.name);
      assert.match(String(r.headers['content-type']), /application\/json/, c.name);
    }
    assert.equal(upstream.requests.length, before, 'refused webhooks never reach the upstream');
  });

  test('HTTP/2: a body sent in several DATA frames is checked whole', async () => {
    const session = connect(`http://127.0.0.1:${gw.proxyPort}`);
    try {
      const parts = ['{"type":"order.created",', '"items":[1,2,3],', '"note":"split"}'];
      const body = parts.join('');
      const status = await new Promise<number>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/events', ...webhook('msg_h2', body) });
        s.on('response', (h) => resolve(Number(h[':status'])));
        s.on('error', reject);
        s.resume();
        const next = (i: number) => { if (i === parts.length) s.end(); else s.write(parts[i], () => next(i + 1)); };
        next(0);
      });
      assert.equal(status, 200);
      assert.equal(upstream.requests.at(-1)!.body, body);
    } finally {
      session.close();
    }
  });

  test('the signature covers the bytes the sender signed; request-transformer then edits the body', async () => {
    const body = '{"event":"ping"}';
    const r = await proxyRequest(gw, { method: 'POST', path: '/stamped', headers: webhook('msg_6', body), body });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse((JSON.parse(r.text) as { body: string }).body), { event: 'ping', received_by: 'frontdesk' });
  });

  test('a route without the plugin is not checked; a body over Envoy\'s 32 KiB buffer is refused with 413 where it is', async () => {
    const open = await proxyRequest(gw, { method: 'POST', path: '/open', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(open.status, 200);
    const big = JSON.stringify({ pad: 'x'.repeat(40_000) });
    const r = await proxyRequest(gw, { method: 'POST', path: '/events', headers: webhook('msg_7', big), body: big });
    assert.equal(r.status, 413);
  });
});
