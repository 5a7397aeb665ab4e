/**
 * The config watcher's debounce (Contour's hold-off / max-delay shape): an edit after a quiet
 * spell is reported at once when the file parses; an edit that does not parse yet (an editor
 * half-way through) waits for the burst to settle; a burst of edits is reported once; edits
 * that never stop are still reported by the maximum delay. The timings are chosen so that the
 * path taken shows in the reason reported, not in how long anything took.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseYamlSource } from '../../src/model/yaml-source.js';
import { ConfigWatcher, type ChangeReason } from '../../src/runtime/config-watcher.js';

const dir = mkdtempSync(join(tmpdir(), 'frontdesk-watcher-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = '_format_version: "3.0"\nservices: []\n';

function watcherOn(name: string, quietMs: number, maxDelayMs: number): { file: string; w: ConfigWatcher; reasons: ChangeReason[]; next: () => Promise<ChangeReason> } {
  const file = join(dir, name);
  writeFileSync(file, GOOD);
  const settled = () => {
    const text = readFileSync(file, 'utf8');
    return text.trim() !== '' && parseYamlSource({ file, text }).source !== undefined;
  };
  const w = new ConfigWatcher(file, { quietMs, maxDelayMs, settled });
  // The watcher does not hold the process open (a control plane has its servers for that): the test does.
  const keepAlive = setInterval(() => undefined, 1_000);
  const close = w.close.bind(w);
  w.close = () => { clearInterval(keepAlive); close(); };
  const reasons: ChangeReason[] = [];
  let waiting: ((r: ChangeReason) => void) | undefined;
  w.on('change', (r) => { reasons.push(r); waiting?.(r); waiting = undefined; });
  const next = () => new Promise<ChangeReason>((resolve) => { waiting = resolve; });
  return { file, w, reasons, next };
}

/** Resolves once `cond` holds (polled; the test's own timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

describe('config watcher', () => {
  test('an edit that parses, after a quiet spell, is reported at once (not after the quiet spell of a minute)', async () => {
    const { file, w, next } = watcherOn('immediate.yaml', 60_000, 120_000);
    w.start();
    try {
      const reported = next();
      writeFileSync(file, `${GOOD}# edited\n`);
      assert.equal(await reported, 'immediate');
    } finally {
      w.close();
    }
  });

  test('an edit that does not parse yet waits for the burst to settle, then is reported once', async () => {
    const { file, w, reasons, next } = watcherOn('unsettled.yaml', 300, 120_000);
    w.start();
    try {
      const reported = next();
      writeFileSync(file, '_format_version: "3.0"\nservices: [\n'); // cut short: an unclosed flow sequence
      assert.equal(await reported, 'quiet');
      await until(() => !w.pending);
      assert.deepEqual(reasons, ['quiet']);
    } finally {
      w.close();
    }
  });

  test('a burst of edits right after one is coalesced into one more report', async () => {
    const { file, w, reasons, next } = watcherOn('burst.yaml', 1_000, 120_000);
    w.start();
    try {
      let reported = next();
      writeFileSync(file, `${GOOD}# 0\n`);
      assert.equal(await reported, 'immediate');
      reported = next();
      for (let i = 1; i <= 5; i++) writeFileSync(file, `${GOOD}# ${i}\n`);
      assert.equal(await reported, 'quiet');
      await until(() => !w.pending);
      assert.deepEqual(reasons, ['immediate', 'quiet']);
    } finally {
      w.close();
    }
  });

  test('edits that keep coming are still reported, by the maximum delay', async () => {
    const { file, w, next } = watcherOn('endless.yaml', 5_000, 400);
    w.start();
    let i = 0;
    const writer = setInterval(() => writeFileSync(file, `${GOOD}# ${i++}\n`), 20);
    try {
      // The first edit is reported at once; the ones that follow every 20 ms never leave a 5 s quiet spell.
      assert.equal(await next(), 'immediate');
      assert.equal(await next(), 'max-delay');
    } finally {
      clearInterval(writer);
      w.close();
    }
  });
});
