// Proof that the resource check matches Envoy: configurations of the refusal table, compiled
// with the check turned off and pushed to a real Envoy, are NACKed by Envoy for the resource
// type the table names, while Envoy keeps serving its last good routes. And a NACK that still
// happens is shown in /status as Envoy's reason, in one readable line.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileConfig } from '../../src/runtime/compile.js';
import { buildSnapshot } from '../../src/xds/snapshot.js';
import { marked, REFUSALS } from '../support/envoy-refusals.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

interface StatusNode { types: Record<string, { lastNack?: { version: string; detail: string; at: string } }> }

describe('what the resource check refuses, Envoy refuses', () => {
  let gw: Gateway;
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;

  before(async () => {
    upstream = await startEchoUpstream('app');
    gw = await startGateway(`_format_version: "3.0"\nservices:\n  - name: app\n    url: ${upstream.url}\n    routes:\n      - name: r\n        paths: ["/ok"]\n`);
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  /** Compiles `text` without the check, pushes it to Envoy, and resolves with Envoy's NACK of `type`, as /status shows it. */
  async function pushUnchecked(text: string, type: string): Promise<string> {
    const checked = compileConfig([{ file: 'gateway.yaml', text }], { ir: { defaultListener: { address: '127.0.0.1', port: gw.proxyPort } } });
    assert.equal(checked.ok, false, 'the check refuses it');
    const r = compileConfig([{ file: 'gateway.yaml', text }], { ir: { defaultListener: { address: '127.0.0.1', port: gw.proxyPort } }, checkResources: false });
    assert.ok(r.ok && r.translation, JSON.stringify(r.diagnostics));
    const since = Date.now();
    const snapshot = buildSnapshot(r.translation, since, gw.cp.ads.snapshot);
    gw.cp.ads.setSnapshot(snapshot);
    return waitFor(async () => {
      const status = await (await fetch(`${gw.admin}/status`)).json() as { nodes: StatusNode[] };
      const nack = status.nodes[0]?.types[type]?.lastNack;
      return nack && Date.parse(nack.at) >= since ? nack.detail : undefined;
    }, `Envoy to NACK the ${type} of "${text.slice(0, 40)}..."`, 15_000);
  }

  for (const c of REFUSALS.filter((x) => x.envoy)) {
    test(`${c.name}: Envoy NACKs the ${c.envoy} and keeps serving the last good routes`, async () => {
      const port = await freePort();
      const detail = await pushUnchecked(marked(c.yaml({ port, upstream: upstream.url })).text, c.envoy!);
      assert.ok(detail.length > 0);
      assert.equal((await fetch(`${gw.proxy}/ok`)).status, 200);
    });
  }

  test('a NACK is shown as Envoy\'s reason in one readable line, not a dump of the resource', async () => {
    const zeroTimeout = REFUSALS.find((x) => x.name.includes('zero timeout'))!;
    // Another interval than the table's case: a version Envoy refused once is never resent.
    const detail = await pushUnchecked(marked(zeroTimeout.yaml({ port: 0, upstream: upstream.url })).text.replace('interval: 5', 'interval: 7'), 'CDS');
    assert.equal(detail, 'service:app: health_checks[0].timeout: value must be greater than 0s');
  });

  test('a NACK whose reason Envoy cut off (a resource past 4 KB) says so in one line', async () => {
    const long = REFUSALS.find((x) => x.name.startsWith('a path longer'))!;
    const detail = await pushUnchecked(marked(long.yaml({ port: 0, upstream: upstream.url })).text, 'RDS');
    assert.doesNotMatch(detail, /\n|aaaaaaaa|\(truncated\)/);
    assert.match(detail, /^listener:proxy#[\w-]+: refused; Envoy cut its message before the reason/);
  });
});
