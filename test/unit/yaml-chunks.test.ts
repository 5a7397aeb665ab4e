// A file is parsed chunk by chunk (each item of a top-level list, each other top-level key) so
// that an edit parses only what changed. The data must be what js-yaml gives for the whole text,
// for every file and every edit: js-yaml's own whole-file parse is the expected value here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import jsyaml, { types as yamlTypes } from 'js-yaml';
import { parseYamlSource } from '../../src/model/yaml-source.js';
import { splitTopLevel } from '../../src/model/yaml-chunks.js';

/** The schema the loader reads files with (yaml-source.ts): YAML 1.2's core schema and merge keys. */
const SCHEMA = jsyaml.CORE_SCHEMA.extend([yamlTypes.merge]);

/** js-yaml's whole-file result, or 'error'. */
function whole(text: string): unknown {
  try { return jsyaml.load(text, { schema: SCHEMA }); } catch { return 'error'; }
}

/**
 * What the loader gives for a text js-yaml refuses: the answer of its whole-file path (the
 * `yaml` package's diagnostics, or its data where it accepts what js-yaml does not, such as a
 * key written twice with the same value). A tab in a trailing comment changes nothing in the
 * data and keeps the chunker out.
 */
function loadedWhole(text: string): unknown {
  return loaded(`${text}${text.endsWith('\n') || text === '' ? '' : '\n'}#\t\n`);
}

/** The loader's parse must be js-yaml's where js-yaml reads the text, and the whole-file path's where it does not. */
function assertSameAsWhole(text: string, what: string): void {
  const expected = whole(text);
  assert.deepEqual(loaded(text), expected === 'error' ? loadedWhole(text) : expected, what);
}

/** What the loader's parse gives: its data, or 'error' when it reports a diagnostic that stops the file. */
function loaded(text: string, file = 'gateway.yaml'): unknown {
  const r = parseYamlSource({ file, text });
  return r.source ? r.source.data : 'error';
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

test("every YAML file of the project parses by chunks to js-yaml's whole-file data", () => {
  const files = [...yamlFiles('config'), ...yamlFiles('test')];
  assert.ok(files.length > 20, `${files.length} files`);
  let cut = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const expected = whole(text);
    if (expected === 'error') continue; // a file meant to be refused: its diagnostics are yaml-limits.test.ts's
    if (splitTopLevel(text)) cut++;
    assert.deepEqual(loaded(text, f), expected, f);
    assert.deepEqual(loaded(text, f), expected, `${f}, parsed again from its chunks`);
  }
  assert.ok(cut > files.length / 2, `most files are cut into chunks (${cut} of ${files.length})`);
});

/** Texts where a line that looks like a new item or key is inside something else, and other shapes the scanner must read as js-yaml does. */
const TRICKY: Record<string, string> = {
  'a double-quoted scalar over an item line': 'services:\n  - name: "a\n  - b"\n    url: http://x\n  - name: c\n',
  "a single-quoted scalar with '' over an item line": "services:\n  - name: 'it''s\n  - b'\n  - name: c\n",
  'a single-quoted scalar ending in an escaped quote': "services:\n  - name: 'a'''\n  - name: b\n",
  'a double-quoted scalar with an escaped quote over a key line': 'a: "x\\"\nb: 1"\nc: 2\n',
  'a flow sequence over item lines': 'services:\n  - paths: [ /a,\n  - /b ]\n  - name: c\n',
  'a flow mapping over a key line': 'a: { x: 1,\nb: 2 }\nc: 3\n',
  'a block scalar holding item and key lines': 'services:\n  - name: a\n    script: |\n      - not an item\n      key: not a key\n\n      end\n  - name: b\nroutes: []\n',
  'a folded scalar at the top level': 'doc: >\n  - x\n  y\nservices:\n- name: a\n',
  'items at column 0': 'services:\n- name: a\n  url: http://a\n- name: b\nroutes:\n- paths: [/]\n',
  'comments between items and at column 0': 'services: # the services\n  # first\n  - name: a # a\n# a comment at column 0\n  - name: b\n\n\n',
  'an empty list and an empty key': 'services:\nroutes:\n  # nothing\nplugins: []\n',
  'an empty item': 'services:\n  -\n  - name: b\n  - \n',
  'a mapping under a key': '_info:\n  select_tags: [a, b]\n  defaults: {}\nservices: []\n',
  'a scalar under a key': '_format_version:\n  "3.0"\nservices: []\n',
  'a plain scalar over lines': 'services:\n  - name: a\n    description: one\n      two\n  - name: b\n',
  'an anchor without an alias': 'services:\n  - &s name: a\n  - name: b\n',
  'a merge key with an inline mapping': 'services:\n  - <<: { port: 80 }\n    name: a\n',
  'a quote inside a plain scalar': "services:\n  - name: it's\n  - description: don 't\n  - name: c\n",
  'a hash inside a value': 'services:\n  - name: a#b\n  - url: "http://x/#y" # z\n',
  'a bracket inside a plain scalar': 'routes:\n  - paths: [ "~/a[0-9]" ]\n  - paths: ~/b[\n  - name: c\n',
  'nested lists': 'services:\n  - name: a\n    routes:\n    - paths: [/a]\n    - paths: [/b]\n  - name: b\n',
  'a key written twice at the top level': 'services: []\nroutes: []\nservices: []\n',
  'a key written twice in an item': 'services:\n  - name: a\n    name: b\n',
  'an item line left of its list': 'services:\n    - name: a\n  - name: b\n',
  'a document marker': '---\nservices: []\n',
  'two documents': 'services: []\n---\nroutes: []\n',
  'a directive': '%YAML 1.2\n---\nservices: []\n',
  'a top-level list': '- a\n- b\n',
  'a tab': 'services:\n  - name:\ta\n',
  'CRLF line ends': 'services:\r\n  - name: a\r\n  - name: b\r\n',
  'a quoted top-level key': '"services":\n  - name: a\n',
  'a top-level __proto__': '__proto__:\n  - a\n',
  'an alias': 'x: &a 1\ny: *a\n',
  'an unclosed quote': 'services:\n  - name: "a\n',
  'an unclosed flow sequence': 'services: [\n',
  'a key without a space after the colon': 'a:b\nc: 1\n',
  'a complex key': '? a\n: 1\n',
  'a bare scalar file': 'just text\n',
  'no newline at the end': 'services:\n  - name: a',
  'an empty file': '',
  'a comment only': '# nothing yet\n\n',
  'an item then a deeper line': 'services:\n  - name: a\n      weird: 1\n',
};

test("tricky shapes parse to js-yaml's whole-file data, or fail where it fails", () => {
  for (const [what, text] of Object.entries(TRICKY)) {
    assertSameAsWhole(text, what);
    assertSameAsWhole(text, `${what}, again`);
  }
});

/** A Kong file of `n` services, a route each, some consumers with credentials. */
function kongFile(n: number): string {
  const lines = ['_format_version: "3.0"', 'services:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  - name: svc-${i}`, `    url: http://10.0.0.${i % 250}:8080`, '    routes:', `      - name: r-${i}`, `        paths: ["/p${i}", '/q${i}']`, '        strip_path: true');
    if (i % 3 === 0) lines.push('        plugins:', '          - name: key-auth', '            config: { key_names: [apikey] }');
  }
  lines.push('consumers:');
  for (let i = 0; i < n / 2; i++) lines.push(`- username: u${i}`, '  keyauth_credentials:', `  - key: "k-${i}"`);
  lines.push('plugins:', '  - name: cors', '    config:', '      origins: ["*"]', '      headers: |', '        - x', '        y: z');
  return lines.join('\n') + '\n';
}

/** A small deterministic PRNG (mulberry32), so that a failing edit can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("random edits of a Kong file parse to js-yaml's whole-file data, one after another", () => {
  const rand = prng(20261201);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  // Edits a person makes, and the characters that open or close what the scanner tracks.
  const inserts = ['"', "'", "''", '[', ']', '{', '}', ' #', '|', '- ', '  ', ': ', '\n', '\n  - name: new\n', '\nroutes:\n', '&a ', '\\'];
  // Edits start mostly from the last text the chunker read (as an operator's file mostly is),
  // sometimes from the last edit, broken or not.
  let good = kongFile(40);
  let last = good;
  let chunked = 0;
  for (let i = 0; i < 600; i++) {
    const lines = (rand() < 0.2 ? last : good).split('\n');
    const at = Math.floor(rand() * lines.length);
    const line = lines[at]!;
    const kind = rand();
    if (kind < 0.4) { const c = Math.floor(rand() * (line.length + 1)); lines[at] = line.slice(0, c) + pick(inserts) + line.slice(c); }
    else if (kind < 0.55) lines.splice(at, 1);
    else if (kind < 0.7) lines.splice(at, 0, line);
    else if (kind < 0.85) lines[at] = line.replace(/\d+/, String(Math.floor(rand() * 1000)));
    else { const c = Math.floor(rand() * line.length); lines[at] = line.slice(0, c) + line.slice(c + 1); }
    const edited = lines.join('\n');
    const cut = splitTopLevel(edited) !== undefined;
    if (cut) chunked++;
    assertSameAsWhole(edited, `edit ${i}:\n${edited}`);
    if (cut && whole(edited) !== 'error') good = edited;
    last = edited;
  }
  assert.ok(chunked > 400, `edits read by chunks: ${chunked} of 600`);
});

test('an edit hands back every unchanged item as the same frozen object, and the edited one anew', () => {
  const file = 'reuse.yaml';
  const text = kongFile(10);
  const first = loaded(text, file) as { services: object[]; consumers: object[]; plugins: object[] };
  const edited = text.replace('url: http://10.0.0.3:8080', 'url: http://10.0.0.3:9090');
  const second = loaded(edited, file) as typeof first;
  assert.deepEqual(second, whole(edited));
  for (let i = 0; i < 10; i++) {
    if (i === 3) assert.notEqual(second.services[i], first.services[i], 'the edited service is parsed anew');
    else assert.equal(second.services[i], first.services[i], `service ${i} is the object parsed last time`);
  }
  assert.equal(second.consumers[2], first.consumers[2]);
  assert.equal(second.plugins[0], first.plugins[0]);
  assert.ok(Object.isFrozen(second.services[0]) && Object.isFrozen((second.services[0] as { routes: object[] }).routes[0]), 'shared values are frozen, deeply');
  assert.throws(() => { (second.services[0] as { name: string }).name = 'x'; }, TypeError);

  const twice = 'services:\n  - name: a\n  - name: a\n';
  const t = loaded(twice, file) as { services: object[] };
  assert.notEqual(t.services[0], t.services[1], 'the same text twice in one file: an object each');
  const t2 = loaded(twice, file) as { services: object[] };
  assert.notEqual(t2.services[0], t2.services[1]);
});

test('too deep inside a chunk is refused with the position the whole-file scan gives', () => {
  const deep = (n: number) => 'services:\n  - name: a\n    x:\n' + Array.from({ length: n }, (_, i) => `${'  '.repeat(i + 3)}k${i}:`).join('\n') + ' 1\n';
  const ok = parseYamlSource({ file: 'deep.yaml', text: deep(58) });
  assert.ok(ok.source, 'just under the limit: parsed');
  const r = parseYamlSource({ file: 'deep.yaml', text: deep(70) });
  assert.equal(r.source, undefined);
  const d = r.diagnostics[0]!;
  assert.equal(d.code, 'FD_YAML_TOO_DEEP');
  // Line 4 + i holds k<i>, at depth 4 + i (the top level, the list, the item, x): k61, line 65, is the first past 64.
  assert.equal(d.line, 65, 'the first line past 64 levels');
});
