// The shipped config/gateway.yaml, served by a real Envoy: it answers on its own, and the
// control plane's admin API is not reachable through the proxy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';

let gw: Gateway;
before(async () => { gw = await startGateway(readFileSync('config/gateway.yaml', 'utf8')); });
after(async () => { await gw?.stop(); });

test('the example route answers without any upstream running', async () => {
  const res = await fetch(`${gw.proxy}/hello`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await res.json(), { message: 'hello from Frontdesk' });
});

test('the admin API is not behind the proxy: /status and /frontdesk/status get Kong\'s 404', async () => {
  for (const path of ['/status', '/frontdesk/status', '/config']) {
    const res = await fetch(`${gw.proxy}${path}`);
    assert.equal(res.status, 404, path);
    assert.deepEqual(await res.json(), { message: 'no Route matched with those values' });
  }
  const direct = await fetch(`${gw.admin}/status`);
  assert.equal(direct.status, 200, 'the admin API answers on its own port');
});
