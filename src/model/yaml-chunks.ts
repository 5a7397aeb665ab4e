/**
 * A config file cut at its top level, so that an edit parses only the parts whose text changed.
 *
 * A Kong file is a mapping at column 0 (`_format_version`, `services`, `routes`, ...) whose
 * entity lists are block sequences. Each item of such a list, and each other top-level key with
 * its value, is a chunk: a text that parses to the same value alone as inside the file, because
 * nothing in YAML's block context crosses a line that starts a new item at the list's
 * indentation or a new key at column 0, provided no quoted scalar or flow collection is open
 * there (tracked across lines) and the file uses no aliases (an alias may name an anchor of
 * another chunk; the caller parses such files whole). Anything else this scanner does not
 * recognise (a top level that is not a plain-keyed mapping, a document marker or directive, a
 * tab, a CR, a BOM, a key written twice) gives `undefined`: the caller parses the whole text.
 * Being unsure costs reuse, never correctness: a line is a boundary only when every state
 * the scanner tracks is closed there.
 */

/** One top-level part of a file. */
export interface Chunk {
  /** The top-level key it belongs to. */
  key: string;
  /** `item`: one item of the key's block sequence (its text parses to a one-item list); `whole`: the key with its value (its text parses to `{ key: value }`). */
  kind: 'item' | 'whole';
  text: string;
  /** Nesting levels above the chunk's own text in the file (for the depth limit): 1 for an item indented under its key, else 0. */
  depthAbove: number;
}

/** The chunks of `text` in file order; undefined when the text must be parsed whole. */
export function splitTopLevel(text: string): Chunk[] | undefined {
  if (text.charCodeAt(0) === 0xfeff || text.includes('\r') || text.includes('\t')) return undefined;
  const chunks: Chunk[] = [];
  const keys = new Set<string>();
  /** The section being read: its key, whether its value may still turn out to be a block sequence, that sequence's indent. */
  let section: { key: string; open: boolean; seqIndent?: number } | undefined;
  let chunkStart = 0;
  let chunkKind: Chunk['kind'] = 'whole';
  let quote = 0; // the open quote's char code across lines, 0 outside quotes
  let flow = 0; // open [ and { outside quotes and comments (an over-count is only less reuse)
  const close = (end: number) => {
    if (!section) return;
    chunks.push({ key: section.key, kind: chunkKind, text: text.slice(chunkStart, end), depthAbove: chunkKind === 'item' && section.seqIndent! > 0 ? 1 : 0 });
  };
  for (let s = 0; s < text.length;) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    const lineStart = s;
    s = e + 1;
    const clean = quote === 0 && flow === 0;
    let i = lineStart;
    while (i < e && text.charCodeAt(i) === SPACE) i++;
    const indent = i - lineStart;
    if (clean && i < e && text.charCodeAt(i) !== HASH) {
      const dash = text.charCodeAt(i) === DASH && (i + 1 === e || text.charCodeAt(i + 1) === SPACE);
      if (indent === 0 && !dash) {
        // A new top-level key: the previous chunk ends here.
        const m = KEY.exec(text.slice(lineStart, e));
        if (!m || keys.has(m[1]!) || m[1] === '__proto__') return undefined;
        close(lineStart);
        keys.add(m[1]!);
        section = { key: m[1]!, open: m[2] === undefined };
        chunkStart = lineStart; chunkKind = 'whole';
      } else if (!section) {
        return undefined; // the file does not start with a key at column 0
      } else if (section.open && section.seqIndent === undefined) {
        if (!dash) section.open = false; // a mapping or scalar under the key: the section stays whole
        else {
          section.seqIndent = indent;
          chunkStart = lineStart; chunkKind = 'item'; // the header line alone says nothing: the list's items follow
        }
      } else if (section.seqIndent !== undefined) {
        if (indent < section.seqIndent) return undefined; // under the key, left of its list: not a file this scanner reads
        if (indent === section.seqIndent) {
          if (!dash) return undefined;
          close(lineStart);
          chunkStart = lineStart; chunkKind = 'item';
        }
      } else if (indent === 0) return undefined; // a dash at column 0 under a key whose value is not a list
    }
    if (i < e) ({ quote, flow } = scanLine(text, i, e, quote, flow));
  }
  if (quote !== 0 || flow !== 0) return undefined;
  close(text.length);
  return chunks.length ? chunks : undefined; // an empty or comment-only file is js-yaml's undefined, not an empty mapping
}

/** A plain top-level key, then nothing but a comment (`m[2]` undefined: its value may be a block under it) or an inline value. */
const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?:[ ]*(?:#.*)?$|( .*))/;

const SPACE = 32;
const HASH = 35;
const DASH = 45;
const BACKSLASH = 92;
const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;

/**
 * The quote and flow state after text[from, to): quotes open where a node may start (after
 * white space, `[`, `{`, `,` or `:`), a double-quoted scalar's backslash escapes, a
 * single-quoted one's `''`, a comment from ` #` outside quotes to the line's end.
 */
function scanLine(text: string, from: number, to: number, quote: number, flow: number): { quote: number; flow: number } {
  for (let c = from; c < to; c++) {
    const ch = text.charCodeAt(c);
    if (quote) {
      if (ch === BACKSLASH && quote === DOUBLE_QUOTE) c++;
      else if (ch === quote) {
        if (quote === SINGLE_QUOTE && text.charCodeAt(c + 1) === SINGLE_QUOTE) c++;
        else quote = 0;
      }
      continue;
    }
    if (ch === DOUBLE_QUOTE || ch === SINGLE_QUOTE) {
      if (c === from || OPENERS.has(text.charCodeAt(c - 1))) quote = ch;
      continue;
    }
    if (ch === HASH && (c === from || text.charCodeAt(c - 1) === SPACE)) break;
    if (ch === 91 || ch === 123) flow++; // [ {
    else if ((ch === 93 || ch === 125) && flow > 0) flow--; // ] }
  }
  return { quote, flow };
}

/** What may stand before a quote that opens a quoted scalar (tabs are refused before the scan). */
const OPENERS = new Set([SPACE, 91, 123, 44, 58]); // space [ { , :
