// Hostile YAML is refused with a diagnostic at the place it starts, not a stack overflow or 1:1:
// an alias bomb ("billion laughs") and nesting thousands of levels deep, in flow and block style.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConfig } from '../../src/runtime/compile.js';

const refuse = (text: string) => {
  const started = Date.now();
  const r = compileConfig([{ file: 'gateway.yaml', text }]);
  assert.equal(r.ok, false);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  return { d: errors[0]!, lines: text.split('\n'), ms: Date.now() - started };
};

test('billion laughs: refused at an alias, before expanding it', () => {
  const rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f'], ['h', 'g'], ['i', 'h']]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  const { d, lines } = refuse(`_format_version: "3.0"\n${rows.join('\n')}\nservices: []\n`);
  assert.equal(d.code, 'FD_YAML_ALIAS_EXPANSION');
  assert.match(d.message, /aliases expand to more than/);
  assert.ok(d.line! > 2 && d.line! <= 10, `line ${d.line}`);
  assert.equal(lines[d.line! - 1]![d.col! - 1], '*', 'the position is an alias');
});

test('5,000 nested flow sequences: refused on their line, inside the brackets', () => {
  const { d, lines } = refuse(`_format_version: "3.0"\nservices:\n  - name: s\n    url: http://x:1\n    tags: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
  assert.equal(d.code, 'FD_YAML_TOO_DEEP');
  assert.equal(d.line, 5);
  assert.equal(lines[4]![d.col! - 1], '[');
  assert.doesNotMatch(d.message, /call stack/);
});

test('5,000 nested block mappings: refused at a line of the nesting, not 1:1', () => {
  const nested = Array.from({ length: 5000 }, (_, i) => `${' '.repeat(2 * i + 2)}k${i}:`).join('\n');
  const { d } = refuse(`_format_version: "3.0"\nservices:\n${nested} 1\n`);
  assert.equal(d.code, 'FD_YAML_TOO_DEEP');
  assert.ok(d.line! > 3 && d.line! < 5003, `line ${d.line}`);
});

test('ordinary anchors and aliases, and PEM block scalars, still load', () => {
  const r = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
x-timeouts: &timeouts { connect_timeout: 5000, read_timeout: 10000, write_timeout: 10000 }
services:
  - name: a
    url: http://127.0.0.1:9
    <<: *timeouts
    routes: [{ name: ra, paths: [/a] }]
  - name: b
    url: http://127.0.0.1:9
    <<: *timeouts
    routes: [{ name: rb, paths: [/b] }]
`.replace('x-timeouts: &timeouts', '_comment: &timeouts') }]);
  assert.equal(r.diagnostics.some((d) => d.code === 'FD_YAML_TOO_DEEP' || d.code === 'FD_YAML_ALIAS_EXPANSION'), false, JSON.stringify(r.diagnostics));
});
