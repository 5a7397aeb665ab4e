// The config watcher parses an edited file to see that it is complete, and the build then
// loads it: the build takes that parse (parseYamlAhead), but only for the very same text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlAhead, parseYamlSource } from '../../src/model/yaml-source.js';

test('a file parsed ahead is taken once, by a parse of the same file and text only', () => {
  const src = { file: 'gateway.yaml', text: '_format_version: "3.0"\nservices:\n  - name: a\n    url: http://127.0.0.1:9000\n' };
  const early = parseYamlAhead(src);
  const taken = parseYamlSource({ ...src });
  assert.equal(taken, early, 'the same text: the parse done ahead');
  assert.notEqual(parseYamlSource(src), early, 'taken once: the next parse is its own');

  const second = parseYamlAhead(src);
  const edited = parseYamlSource({ file: src.file, text: src.text.replace('name: a', 'name: b') });
  assert.equal((edited.source!.data as { services: { name: string }[] }).services[0]!.name, 'b', 'another text is parsed, not taken from the one ahead');
  assert.notEqual(parseYamlSource(src), second, 'and the one ahead was dropped');

  const third = parseYamlAhead(src);
  const other = parseYamlSource({ file: 'other.yaml', text: src.text });
  assert.notEqual(other, third);
  assert.equal(other.source!.file, 'other.yaml', 'another file of the same text: parsed for its own name');
});

test('a file parsed ahead with a syntax error gives its diagnostics with their position to the build', () => {
  const src = { file: 'gateway.yaml', text: '_format_version: "3.0"\nservices: [\n' };
  const early = parseYamlAhead(src);
  assert.equal(early.source, undefined);
  const d = parseYamlSource(src).diagnostics[0]!;
  assert.equal(d.code, 'FD_YAML_SYNTAX');
  assert.equal(d.file, 'gateway.yaml');
  assert.ok(d.line! >= 2, `at line ${d.line}`);
});
