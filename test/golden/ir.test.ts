/**
 * The IR layer's golden files (test/support/ir-golden.ts): for every case with an ir.json, the
 * IR its in.yaml compiles to, with credentials redacted. A reviewed diff, like out.json: it
 * shows what the model → IR step produced, apart from the Envoy resources made from it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { irGoldenCases, renderIr } from '../support/ir-golden.js';

describe('golden: YAML → IR', () => {
  const cases = irGoldenCases();
  test('several cases pin the IR', () => assert.ok(cases.length >= 4, `${cases.length} cases have an ir.json`));
  for (const c of cases) {
    test(c.name, () => {
      const r = renderIr(readFileSync(c.input, 'utf8'));
      assert.equal(r.errors, '');
      assert.equal(r.text, readFileSync(c.irFile, 'utf8'));
    });
  }
  test('no credential reaches an ir.json', () => {
    for (const c of cases) {
      const text = readFileSync(c.irFile, 'utf8');
      for (const m of text.matchAll(/"(secret|password|keyPem|key_pem)": "([^"]*)"/g)) assert.equal(m[2], '<redacted>', `${c.name}: ${m[1]}`);
    }
  });
});
