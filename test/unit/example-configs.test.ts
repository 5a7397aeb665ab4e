// Every example under config/ loads and compiles with no error (they are documented as
// runnable as they are).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatDiagnostic } from '../../src/errors.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { readConfigTexts } from '../../src/runtime/config-files.js';

const examples = ['config', ...readdirSync('config/examples').filter((f) => f.endsWith('.yaml')).map((f) => join('config/examples', f))];

for (const path of examples) {
  test(`${path} compiles without errors or warnings`, () => {
    const r = compileConfig(readConfigTexts(path));
    assert.ok(r.ok, r.diagnostics.map(formatDiagnostic).join('\n'));
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
    assert.ok(r.ir!.routes.length > 0);
  });
}
