/**
 * Where a file edit is built and what its timeline records: an edit whose build is expected to
 * be quick is built on the event loop, every stage of the build in the timeline, in order; one
 * expected to be slow goes to the worker thread. The expectation before any edit is the build
 * from nothing divided by ten (an edit rebuilds only what it changed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { waitFor } from '../support/wait.js';

const config = (path: string) => `_format_version: "3.0"\nservices:\n  - name: web\n    url: http://127.0.0.1:9000\n    routes:\n      - name: home\n        paths: [${path}]\n`;

async function withControlPlane(quickBuildMs: number | undefined, run: (cp: ControlPlane, edit: (path: string) => Promise<void>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-edit-timeline-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, config('/a'));
  const cp = new ControlPlane({
    configPath: file, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
    settings: DEFAULT_SETTINGS, ir: { defaultListener: { address: '127.0.0.1', port: 8000 } }, logger: silentLogger(),
    ...(quickBuildMs !== undefined ? { quickBuildMs } : {}),
  });
  try {
    await cp.start();
    const edit = async (path: string) => {
      const before = cp.reloadCount;
      writeFileSync(`${file}.tmp`, config(path));
      renameSync(`${file}.tmp`, file);
      await waitFor(() => cp.reloadCount > before, 'the edit to be built');
    };
    await run(cp, edit);
  } finally {
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a file edit\'s build and timeline', () => {
  test('an edit expected to be quick is built on the event loop: read, load, IR, translation, checks and encoding in order, then handed to the streams', async () => {
    await withControlPlane(undefined, async (cp, edit) => {
      await edit('/b');
      const t = cp.lastEdit();
      assert.ok(t, 'the edit has a timeline');
      assert.equal(t.version, cp.ads.snapshot!.version);
      const order = ['read', 'load', 'files', 'ir', 'translate', 'check', 'encoded (snapshot)', 'handed to the streams'];
      const at = order.map((s) => t.steps[s]);
      assert.ok(at.every((x) => x !== undefined), JSON.stringify(t.steps));
      for (let i = 1; i < at.length; i++) assert.ok(at[i]! >= at[i - 1]!, `${order[i]} after ${order[i - 1]}`);
      assert.equal(t.steps['built (worker thread)'], undefined);
      const fired = Object.keys(t.steps).find((k) => k.startsWith('debounce fired'));
      assert.ok(fired && t.steps[fired]! <= t.steps.read!, 'the debounce fired before the read');
    });
  });

  test('an edit expected to take longer than the bound goes to the worker thread, and so do the edits after it', async () => {
    // A bound of 0 ms: no build is expected to be quicker.
    await withControlPlane(0, async (cp, edit) => {
      for (const path of ['/b', '/c']) {
        await edit(path);
        const t = cp.lastEdit();
        assert.equal(t?.version, cp.ads.snapshot!.version);
        assert.ok(t.steps['built (worker thread)'] !== undefined, JSON.stringify(t.steps));
        assert.equal(t.steps.load, undefined, 'not built on the event loop');
      }
    });
  });

  test('a first build under ten times the bound has the first edit built on the event loop', async () => {
    let first = 0;
    await withControlPlane(undefined, async (cp) => { first = cp.buildSamples[0]!.ms; });
    // A bound well over a tenth of the build from nothing (measured above on the same config), and under the build itself.
    await withControlPlane(first / 2, async (cp, edit) => {
      await edit('/b');
      assert.ok(cp.lastEdit()?.steps.load !== undefined, JSON.stringify(cp.lastEdit()));
    });
  });
});
