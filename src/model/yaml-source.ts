import jsyaml, { types as yamlTypes } from 'js-yaml';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { diag, type Diagnostic, type YamlPath } from '../errors.js';

/**
 * One YAML text parsed with positions kept, so that any YAML path inside it can be turned
 * back into `line:col` for a diagnostic.
 */
export interface YamlSource {
  file: string;
  data: unknown;
  /** Position of the value at `path` (or of its key, when `key` is set). */
  locate(path: YamlPath, key?: boolean): { line: number; col: number };
}

export interface SourceText {
  file: string;
  text: string;
}

/** js-yaml's YAML 1.2 core schema plus merge keys (`<<`), as the `yaml` package reads files. */
const FAST_SCHEMA = jsyaml.CORE_SCHEMA.extend([yamlTypes.merge]);

/**
 * Parses one file; syntax errors come back as diagnostics with their positions. Data comes
 * from js-yaml (an order of magnitude faster on large files); positions come from the `yaml`
 * package's document, parsed only when a diagnostic needs one. A file with a syntax error or
 * with aliases (expansion is bounded there) takes the `yaml` path throughout.
 */
export function parseYamlSource(src: SourceText): { source?: YamlSource; diagnostics: Diagnostic[] } {
  if (!/(^|[\s[{,:])\*[^\s,\]}]/m.test(src.text)) {
    try {
      const data = jsyaml.load(src.text, { schema: FAST_SCHEMA, filename: src.file }) as unknown;
      let doc: { doc: Document; lc: LineCounter } | undefined;
      const locateLazily = (path: YamlPath, key?: boolean) => {
        if (!doc) { const lc = new LineCounter(); doc = { doc: parseDocument(src.text, { lineCounter: lc, merge: true }), lc }; }
        return locate(doc.doc, doc.lc, path, key);
      };
      return { source: { file: src.file, data, locate: locateLazily }, diagnostics: [] };
    } catch {
      // Fall through: the `yaml` package reports the error with its position.
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(src.text, { lineCounter, uniqueKeys: false, prettyErrors: false, merge: true });
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    diagnostics.push({ ...diag('FD_YAML_SYNTAX', [], firstLine(e.message)), file: src.file, line: pos.line, col: pos.col });
  }
  if (diagnostics.length) return { diagnostics };
  for (const d of duplicateKeys(doc.contents, [])) {
    const pos = lineCounter.linePos(d.offset);
    diagnostics.push({ ...d.diagnostic, file: src.file, line: pos.line, col: pos.col });
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  return { source: { file: src.file, data, locate: (path, key) => locate(doc, lineCounter, path, key) }, diagnostics };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/**
 * Keys written twice in one mapping. Kong's YAML loader keeps the last one: when both hold the
 * same value nothing is lost, a warning; when they differ, one of the two values would be
 * dropped without a word, an error.
 */
function duplicateKeys(node: unknown, path: YamlPath): { offset: number; diagnostic: Diagnostic }[] {
  const out: { offset: number; diagnostic: Diagnostic }[] = [];
  if (isSeq(node)) node.items.forEach((item, i) => out.push(...duplicateKeys(item, [...path, i])));
  if (!isMap(node)) return out;
  const first = new Map<string, { value: string }>();
  for (const pair of node.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const value = JSON.stringify((pair.value as Node | null)?.toJSON?.() ?? null);
    const earlier = first.get(key);
    const offset = rangeStart(pair.key) ?? 0;
    if (earlier) {
      const code = earlier.value === value ? 'FD_YAML_DUPLICATE_KEY_SAME' : 'FD_YAML_DUPLICATE_KEY';
      out.push({ offset, diagnostic: diag(code, [...path, key], key) });
    } else first.set(key, { value });
    out.push(...duplicateKeys(pair.value, [...path, key]));
  }
  return out;
}

function locate(doc: Document, lc: LineCounter, path: YamlPath, key = false): { line: number; col: number } {
  let node: unknown = doc.contents;
  let best: number | undefined = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (last && key) { best = rangeStart(pair.key) ?? best; break; }
      node = pair.value;
      best = rangeStart(node) ?? rangeStart(pair.key) ?? best;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      best = rangeStart(node) ?? best;
      if (node === undefined) break;
    } else break;
  }
  const pos = lc.linePos(best ?? 0);
  return { line: pos.line, col: pos.col };
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as Node | undefined)?.range;
  return r ? r[0] : undefined;
}
