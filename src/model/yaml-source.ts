import jsyaml, { types as yamlTypes } from 'js-yaml';
import { isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { diag, type Diagnostic, type YamlPath } from '../errors.js';
import { deepFreeze } from './deep-freeze.js';
import { splitTopLevel } from './yaml-chunks.js';

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
export function parseYamlSource(src: SourceText): ParsedYaml {
  const early = ahead;
  ahead = undefined;
  if (early && early.file === src.file && early.text === src.text) return early.parsed;
  return parseNow(src);
}

export interface ParsedYaml { source?: YamlSource; diagnostics: Diagnostic[] }

/** The one file parsed ahead, waiting for the parseYamlSource of the same text. */
let ahead: { file: string; text: string; parsed: ParsedYaml } | undefined;

/**
 * Parses `src` for a parseYamlSource of the very same text that comes next (the config
 * watcher checks that an edited file is complete, then the build loads it): that call takes
 * this result instead of parsing the file again. One file is kept, and taken once; any other
 * parseYamlSource drops it.
 */
export function parseYamlAhead(src: SourceText): ParsedYaml {
  const parsed = parseNow(src);
  ahead = { file: src.file, text: src.text, parsed };
  return parsed;
}

/** Forgets the file parsed ahead (its build runs elsewhere: the parse would only hold memory). */
export function dropYamlAhead(): void {
  ahead = undefined;
}

function parseNow(src: SourceText): ParsedYaml {
  const noAliases = !/(^|[\s[{,:])\*[^\s,\]}]/m.test(src.text);
  const chunked = noAliases ? parseChunks(src) : undefined;
  if (chunked !== undefined) return { source: fastSource(src, chunked), diagnostics: [] };
  chunkMemo.delete(src.file);
  // Both parsers recurse per level: a deeply nested file would end in a stack overflow.
  const deep = tooDeep(src.text);
  if (deep) return { diagnostics: [{ ...diag('FD_YAML_TOO_DEEP', [], MAX_DEPTH), file: src.file, line: deep.line, col: deep.col }] };
  if (noAliases) {
    try {
      return { source: fastSource(src, jsyaml.load(src.text, { schema: FAST_SCHEMA, filename: src.file }) as unknown), diagnostics: [] };
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
  const bomb = aliasBomb(doc);
  if (bomb !== undefined) {
    const pos = lineCounter.linePos(bomb);
    return { diagnostics: [{ ...diag('FD_YAML_ALIAS_EXPANSION', [], MAX_ALIAS_EXPANSION), file: src.file, line: pos.line, col: pos.col }] };
  }
  for (const d of duplicateKeys(doc, doc.contents, [])) {
    const pos = lineCounter.linePos(d.offset);
    diagnostics.push({ ...d.diagnostic, file: src.file, line: pos.line, col: pos.col });
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const data = doc.toJS({ maxAliasCount: -1 }) as unknown;
  return { source: { file: src.file, data, locate: (path, key) => locate(doc, lineCounter, path, key) }, diagnostics };
}

/** js-yaml's data, with positions from the `yaml` package's document, parsed only when a diagnostic needs one. */
function fastSource(src: SourceText, data: unknown): YamlSource {
  let doc: { doc: Document; lc: LineCounter } | undefined;
  const locateLazily = (path: YamlPath, key?: boolean) => {
    if (!doc) { const lc = new LineCounter(); doc = { doc: parseDocument(src.text, { lineCounter: lc, merge: true }), lc }; }
    return locate(doc.doc, doc.lc, path, key);
  };
  return { file: src.file, data, locate: locateLazily };
}

/**
 * Each file's last parse by chunk (yaml-chunks.ts): a chunk's text → its value. Values are
 * frozen, so that the same object can be handed to the next parse of the same text: a load
 * then finds every unchanged entity by identity. Bounded by the files parsed; a file parsed
 * whole (or refused) has its entry dropped.
 */
const chunkMemo = new Map<string, Map<string, unknown>>();
const MAX_MEMO_FILES = 64;

/**
 * The file's data assembled from its chunks, each chunk whose text was in the file's last parse
 * taken from it (the same object), the others parsed alone; undefined when the file must be
 * parsed whole: not cut into chunks, a chunk too deep or refused by the parser (the whole parse
 * then reports it, with its position).
 */
function parseChunks(src: SourceText): Record<string, unknown> | undefined {
  const chunks = splitTopLevel(src.text);
  if (!chunks) return undefined;
  const last = chunkMemo.get(src.file);
  const next = new Map<string, unknown>();
  const data: Record<string, unknown> = {};
  for (const c of chunks) {
    let value: unknown;
    if (last?.has(c.text) && !next.has(c.text)) value = last.get(c.text); // a text written twice in one file gets an object each
    else {
      if (tooDeep(c.text, c.depthAbove)) return undefined;
      let parsed: unknown;
      try { parsed = jsyaml.load(c.text, { schema: FAST_SCHEMA, filename: src.file }); } catch { return undefined; }
      if (c.kind === 'item') {
        if (!Array.isArray(parsed) || parsed.length !== 1) return undefined;
        value = parsed[0];
      } else {
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
        const keys = Object.keys(parsed);
        if (keys.length !== 1 || keys[0] !== c.key) return undefined;
        value = (parsed as Record<string, unknown>)[c.key];
      }
      deepFreeze(value);
    }
    if (!next.has(c.text)) next.set(c.text, value);
    if (c.kind === 'item') ((data[c.key] ??= []) as unknown[]).push(value);
    else data[c.key] = value;
  }
  chunkMemo.delete(src.file);
  if (chunkMemo.size >= MAX_MEMO_FILES) chunkMemo.delete(chunkMemo.keys().next().value!);
  chunkMemo.set(src.file, next);
  return data;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/**
 * Keys written twice in one mapping. Kong's YAML loader keeps the last one: when both hold the
 * same value nothing is lost, a warning; when they differ, one of the two values would be
 * dropped without a word, an error.
 */
function duplicateKeys(doc: Document, node: unknown, path: YamlPath): { offset: number; diagnostic: Diagnostic }[] {
  const out: { offset: number; diagnostic: Diagnostic }[] = [];
  if (isSeq(node)) node.items.forEach((item, i) => out.push(...duplicateKeys(doc, item, [...path, i])));
  if (!isMap(node)) return out;
  // Values are compared only for a repeated key, resolved in the document (aliases and merges).
  const value = (n: unknown) => JSON.stringify(isNode(n) ? n.toJS(doc, { maxAliasCount: -1 }) ?? null : null);
  const first = new Map<string, unknown>();
  for (const pair of node.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const offset = rangeStart(pair.key) ?? 0;
    if (first.has(key)) {
      const code = value(first.get(key)) === value(pair.value) ? 'FD_YAML_DUPLICATE_KEY_SAME' : 'FD_YAML_DUPLICATE_KEY';
      out.push({ offset, diagnostic: diag(code, [...path, key], key) });
    } else first.set(key, pair.value);
    out.push(...duplicateKeys(doc, pair.value, [...path, key]));
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

/** Deeper than any gateway file needs, far below what the parsers' recursion can take. */
export const MAX_DEPTH = 64;
/** Values that aliases may add to a file once expanded, in all (a "billion laughs" file adds billions). */
export const MAX_ALIAS_EXPANSION = 10_000;

/**
 * The position where nesting first passes MAX_DEPTH: block levels by indentation (and each
 * "- " of a compact sequence), flow levels by brackets outside quotes and comments.
 */
function tooDeep(text: string, depthAbove = 0): { line: number; col: number } | undefined {
  const indents: number[] = [];
  let flow = 0;
  let blockScalarIndent: number | undefined;
  // Line by line over the text itself (no array of lines, no string per line: this runs on every edit).
  for (let n = 0, s = 0; s <= text.length; n++) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    const lineStart = s;
    s = e + 1;
    let i = lineStart;
    while (text.charCodeAt(i) === SPACE && i < e) i++;
    if (i === e || text.charCodeAt(i) === HASH) continue;
    const indent = i - lineStart;
    if (blockScalarIndent !== undefined) {
      if (indent > blockScalarIndent) continue; // the text of a | or > scalar
      blockScalarIndent = undefined;
    }
    if (flow === 0) {
      while (indents.length && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      let depth = depthAbove + indents.length;
      while (text.startsWith('- ', i) || text.startsWith('? ', i)) { depth++; i += 2; while (text.charCodeAt(i) === SPACE && i < e) i++; }
      if (depth > MAX_DEPTH) return { line: n + 1, col: i - lineStart + 1 };
    }
    let quote = 0; // the char code of the open quote, 0 outside quotes
    for (let c = i; c < e; c++) {
      const ch = text.charCodeAt(c);
      if (quote) {
        if (ch === BACKSLASH && quote === DOUBLE_QUOTE) c++;
        else if (ch === quote) quote = 0;
        continue;
      }
      if (ch === DOUBLE_QUOTE || ch === SINGLE_QUOTE) { if (c === lineStart || QUOTE_OPENERS.has(text.charCodeAt(c - 1))) quote = ch; continue; }
      if (ch === HASH && (c === lineStart || text.charCodeAt(c - 1) === SPACE)) break;
      if (ch === 91 || ch === 123) { // [ {
        flow++;
        if (depthAbove + indents.length + flow > MAX_DEPTH) return { line: n + 1, col: c - lineStart + 1 };
      } else if ((ch === 93 || ch === 125) && flow > 0) flow--; // ] }
    }
    if (flow === 0 && hasScalarMark(text, lineStart, e) && /(^|[\s:-])[|>][+-]?\d*\s*(#.*)?$/.test(text.slice(lineStart, e))) blockScalarIndent = indents[indents.length - 1]!;
  }
  return undefined;
}

const SPACE = 32;
const HASH = 35;
const BACKSLASH = 92;
const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;
/** What may stand before a quote that opens a quoted scalar: white space (\s) or one of [ { , : */
const QUOTE_OPENERS = new Set([...' \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff[{,:'].map((c) => c.charCodeAt(0)));

/** Whether text[from, to) holds a | or a > (a line that may start a block scalar: only those are matched against the pattern). */
function hasScalarMark(text: string, from: number, to: number): boolean {
  for (let c = from; c < to; c++) { const k = text.charCodeAt(c); if (k === 124 || k === 62) return true; }
  return false;
}

/** The offset of the alias whose expansion takes the file past MAX_ALIAS_EXPANSION, if one does. */
function aliasBomb(doc: Document): number | undefined {
  const sizes = new Map<unknown, number>();
  const size = (node: unknown, depth = 0): number => {
    if (depth > MAX_DEPTH) return Infinity;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let n = 1;
    if (isAlias(node)) n = size(node.resolve(doc), depth + 1);
    else if (isPair(node)) n = size(node.key, depth + 1) + size(node.value, depth + 1);
    else if (isCollection(node)) for (const item of node.items) n += size(item, depth + 1);
    sizes.set(node, n);
    return n;
  };
  let total = 0;
  let at: number | undefined;
  visit(doc, {
    Alias(_, node) {
      total += size(node);
      if (total > MAX_ALIAS_EXPANSION) { at = node.range?.[0] ?? 0; return visit.BREAK; }
      return undefined;
    },
  });
  return at;
}
