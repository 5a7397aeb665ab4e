// The dashboard at /ui in a real headless Chromium, with a real Envoy behind the control
// plane: the page shows services, routes and who enforces each plugin, the fleet and the
// reload history, and it follows an edit of the YAML live, without a reload of the page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, type Browser, type Page } from '../support/chromium.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const yaml = (extra = '') => `_format_version: "3.0"
services:
  - name: hello
    url: http://127.0.0.1:9
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: hello
        paths: [/hello]
        plugins:
          - name: request-termination
            config: { status_code: 200, message: hi }
          - name: key-auth
${extra}consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-secret-key
`;

let gw: Gateway;
let browser: Browser;
let page: Page;
const text = (sel: string) => page.evaluate<string>(`document.querySelector(${JSON.stringify(sel)})?.innerText ?? ''`);

before(async () => {
  gw = await startGateway(yaml());
  browser = await launchChromium();
  page = await browser.open(`${gw.admin}/ui`);
});
after(async () => {
  try {
    await browser?.close();
  } finally {
    await gw?.stop();
  }
});

test('the page shows the services, routes and who enforces each plugin, and the fleet', async () => {
  await waitFor(async () => (await text('#routes tbody')).includes('hello'), 'the routes table to fill');
  const routes = await text('#routes tbody');
  // docs/plugins.md: request-termination is an Envoy direct_response; key-auth is checked by Envoy itself by default.
  assert.match(routes, /request-termination · envoy/);
  assert.match(routes, /key-auth · envoy/);
  assert.match(routes, /\/hello/);
  assert.doesNotMatch(await page.evaluate<string>('document.body.innerHTML'), /alice-secret-key/, 'no secret reaches the page');
  assert.equal(await page.evaluate<boolean>('document.querySelector("#acme-section").hidden'), true, 'no certificates card without the acme plugin');
  await waitFor(async () => (await text('#fleet tbody')).includes(`e2e-${gw.proxyPort}`), 'the Envoy node to show');
  assert.match(await text('#summary'), new RegExp(`version ${gw.cp.ads.snapshot!.version}`));
  assert.match(await text('#history tbody'), /applied/);
});

test('an edit of the YAML shows on the open page; a bad one shows its file:line:col', async () => {
  const before = gw.cp.ads.snapshot!.version;
  await gw.edit(yaml(`  - name: greetings
    url: http://127.0.0.1:9
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: greetings
        paths: [/greetings]
        plugins:
          - name: rate-limiting
            config: { minute: 5, policy: local }
`));
  const after = gw.cp.ads.snapshot!.version;
  assert.notEqual(after, before);
  await waitFor(async () => (await page.evaluate<string>('document.body.dataset.version')) === after, 'the page to show the new version');
  const routes = await text('#routes tbody');
  assert.match(routes, /greetings/);
  assert.match(routes, /rate-limiting · ratelimit/, 'docs/plugins.md: rate-limiting is served by the ratelimit companion');
  assert.equal(await page.evaluate<boolean>('document.querySelector("#error-section").hidden'), true);

  const reloads = gw.cp.reloadCount;
  gw.write(yaml().replace('    read_timeout: 10000\n', '    read_timeout: 10000\n    retrys: 2\n'));
  await waitFor(() => gw.cp.reloadCount > reloads, 'the bad edit to be loaded');
  await waitFor(async () => !(await page.evaluate<boolean>('document.querySelector("#error-section").hidden')), 'the error to show');
  const error = await text('#last-error');
  assert.match(error, new RegExp(`${gw.configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:5: error: unknown key "retrys"`));
  assert.match(error, /the last good version keeps serving/);
  assert.match(await text('#history tbody'), /rejected/);
  assert.equal(await page.evaluate<string>('document.body.dataset.version'), after, 'the last good version is still the one shown');
});
