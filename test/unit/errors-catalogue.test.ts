// Every diagnostic says what to do: each entry of the one error catalogue has a hint, even when
// called without the optional details (a suggestion, a field-specific hint) some codes take.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogue, diag, type Code } from '../../src/errors.js';

test('every catalogue entry has a hint that says what to do', () => {
  const codes = Object.keys(catalogue) as Code[];
  assert.ok(codes.length >= 40, `${codes.length} codes`);
  const missing: string[] = [];
  for (const code of codes) {
    const entry = catalogue[code] as { hint: (...a: unknown[]) => unknown };
    const hint = entry.hint();
    if (typeof hint !== 'string' || hint.trim().length < 10) missing.push(code);
  }
  assert.deepEqual(missing, []);
});

test('a diagnostic built from a code carries its hint', () => {
  const d = diag('FD_INVALID_VALUE', ['services', 0, 'port'], '"port": must be at most 65535');
  assert.ok(d.hint && d.hint.length > 10);
});
