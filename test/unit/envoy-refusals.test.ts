// Configurations Envoy would NACK are refused by validate, each with its code at the line:col
// of the entity that produced the resource; the same table is pushed to a real Envoy without
// the check in test/e2e/envoy-refusals.test.ts, to show that Envoy does refuse them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compileConfig } from '../../src/runtime/compile.js';
import { marked, REFUSALS } from '../support/envoy-refusals.js';

const ctx = { port: 8443, upstream: 'http://127.0.0.1:9' };

describe('configurations Envoy would refuse', () => {
  test('the table holds at least 20 of them', () => assert.ok(REFUSALS.length >= 20, `${REFUSALS.length} cases`));

  for (const c of REFUSALS) {
    test(`${c.name}: refused with ${c.code} where it is written`, () => {
      const { text, line, col } = marked(c.yaml(ctx));
      const r = compileConfig([{ file: 'gateway.yaml', text }]);
      assert.equal(r.ok, false, 'accepted');
      assert.equal(r.translation, undefined, 'a refused config has no resources to push');
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      const d = errors.find((x) => x.code === c.code);
      assert.ok(d, `no ${c.code} in ${JSON.stringify(errors.map((x) => x.code))}`);
      assert.deepEqual({ file: d.file, line: d.line, col: d.col }, { file: 'gateway.yaml', line, col }, d.message);
      assert.ok(d.message.includes(c.says), d.message);
      assert.ok(d.hint && d.hint.length > 10, 'a hint says what to do');
    });
  }

  test('without the marked mistake, the same files are accepted (the table tests one thing each)', () => {
    const good = compileConfig([{ file: 'gateway.yaml', text: marked(REFUSALS[0]!.yaml(ctx)).text.replace('/a\\nb', '/ab') }]);
    assert.equal(good.ok, true, JSON.stringify(good.diagnostics));
  });

  test('frontdesk validate prints the diagnostic as file:line:col and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frontdesk-refusal-'));
    try {
      for (const c of [REFUSALS[0]!, REFUSALS.find((x) => x.envoy === 'SDS')!]) {
        const { text, line, col } = marked(c.yaml(ctx));
        const file = join(dir, 'gateway.yaml');
        writeFileSync(file, text);
        const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/cli-entry.ts', 'validate', file], { encoding: 'utf8' });
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:${col}: error: Envoy would refuse`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
