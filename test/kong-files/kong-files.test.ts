/**
 * Kong declarative files in the shapes real ones come in (formats 1.1, 2.1 and 3.0; nested and
 * flat; deck dumps; references by name, by id and by the ids Kong generates; Kong's entities and
 * plugins Frontdesk does not serve), each beside its expected result, `<name>.expected`:
 *   loads | refused
 *   <severity> <code> <line>:<col> <start of the message>     (every diagnostic, in order)
 * The expectations are written by hand from Kong's behaviour and the diagnostic catalogue.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatDiagnostic } from '../../src/errors.js';
import { loadConfig } from '../../src/model/load.js';

const dir = new URL('.', import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith('.yml')).sort();

interface Expected { loads: boolean; diagnostics: { head: string; message: string }[] }

function expected(file: string): Expected {
  const [first, ...lines] = readFileSync(join(dir, file.replace(/\.yml$/, '.expected')), 'utf8').split('\n').filter((l) => l.trim());
  assert.ok(first === 'loads' || first === 'refused', `${file}: the first line says loads or refused`);
  return {
    loads: first === 'loads',
    diagnostics: lines.map((l) => {
      const m = /^(\S+ \S+ \d+:\d+) (.*)$/.exec(l);
      assert.ok(m, `${file}: "${l}" is <severity> <code> <line>:<col> <message start>`);
      return { head: m[1]!, message: m[2]! };
    }),
  };
}

describe('Kong files', () => {
  test('there are at least 30 of them, each with its expected result', () => {
    assert.ok(files.length >= 30, `${files.length} files`);
  });

  for (const file of files) {
    test(file, () => {
      const want = expected(file);
      const r = loadConfig([{ file, text: readFileSync(join(dir, file), 'utf8') }]);
      const got = r.diagnostics.map((d) => ({ head: `${d.severity} ${d.code} ${d.line}:${d.col}`, message: d.message, text: formatDiagnostic(d) }));
      const report = got.map((g) => g.text).join('\n');
      assert.equal(r.model !== undefined, want.loads, `${file} ${want.loads ? 'should load' : 'should be refused'}:\n${report}`);
      assert.deepEqual(got.map((g) => g.head), want.diagnostics.map((d) => d.head), report);
      got.forEach((g, i) => assert.ok(g.message.startsWith(want.diagnostics[i]!.message), `${g.message}\n  should start with\n${want.diagnostics[i]!.message}`));
    });
  }
});
