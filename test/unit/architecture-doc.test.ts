/**
 * docs/architecture.md quotes the filter-order table; the quote is the table in
 * src/resources/filters/index.ts, line for line, so the document cannot drift from the order
 * Envoy runs the filters in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The lines of the first `const CHAIN` array literal in a text. */
function chainOf(text: string, where: string): string[] {
  const m = /const CHAIN: readonly ChainEntry\[\] = \[\n([\s\S]*?)\n\];/.exec(text);
  assert.ok(m, `${where} holds the CHAIN table`);
  return m[1]!.split('\n').map((l) => l.trim());
}

test("docs/architecture.md's filter-order table is the one translate uses", () => {
  const source = chainOf(read('src/resources/filters/index.ts'), 'src/resources/filters/index.ts');
  assert.ok(source.some((l) => l.startsWith('routerFilter,')), 'the router is in the table');
  assert.deepEqual(chainOf(read('docs/architecture.md'), 'docs/architecture.md'), source);
});
