/**
 * Kong's `$(...)` templates in request-transformer values (Kong renders them with Penlight's
 * template against the request as it arrived: `headers`, `query_params`, `uri_captures`). Kong
 * evaluates the inside of `$(...)` as a sandboxed Lua expression; Frontdesk evaluates the forms
 * Kong documents, and refuses any other expression at load:
 *
 *   headers.NAME  headers["Name"]  query_params.NAME  query_params["name"]
 *   uri_captures.NAME  uri_captures["name"]  uri_captures[N]  'text'  "text"  A or B or ...
 *
 * As Kong's: a header is looked up case-insensitively, with `_` read as `-` (ngx's header
 * table); a missing value renders as the empty string (Penlight writes `(expr or '')`); a value
 * that is not a string (a repeated header or query argument, which Lua holds as a table, or a
 * query argument without `=`, which it holds as `true`) fails the render, which Kong answers
 * with a 500. Escaping is Kong's too: `$('$(literal)')` renders `$(literal)`. Pure: shared by
 * the model (checks at load) and the transform companion (renders per request).
 */

/** What a template reads: `source` then `key` (a number for `uri_captures[N]`). */
export type TemplateRef = { source: 'headers' | 'query_params' | 'uri_captures'; key: string | number };
/** One operand of an `or` chain. */
export type TemplateOperand = { literal: string } | { ref: TemplateRef };
/** A template: literal text and expressions, in order. */
export type TemplatePart = string | TemplateOperand[];

/** A request value as Kong's Lua tables hold it: a string, a list (repeated), `true` (an argument without `=`), or absent. */
export type TemplateValue = string | string[] | true | undefined;

/** What a render reads, per request. */
export interface TemplateEnv {
  /** Header names lower case. */
  headers: ReadonlyMap<string, string | string[]>;
  query: ReadonlyMap<string, string | string[] | true>;
  /** Named and numbered (0: the whole match) captures of the route's regex path. */
  captures: ReadonlyMap<string | number, string>;
}

const SOURCES = new Set(['headers', 'query_params', 'uri_captures']);

/** Whether a value holds a template (Kong renders any `$(`...`)`). */
export function hasTemplate(value: string): boolean {
  return value.includes('$(');
}

/** The end (exclusive) of the balanced parentheses opening at `open`, as Lua's `%b()`; -1 if unbalanced. */
function balanced(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

type Token = { kind: 'name' | 'string' | 'number' | 'punct'; text: string };

function tokenize(expr: string): Token[] | string {
  // Any other character is a token of its own, which the parser then names.
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'") {
      let text = '';
      let j = i + 1;
      for (; j < expr.length && expr[j] !== c; j++) {
        if (expr[j] === '\\') {
          const n = expr[++j];
          if (n === undefined) break;
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        } else {
          text += expr[j];
        }
      }
      if (j >= expr.length) return 'a string is not closed';
      out.push({ kind: 'string', text });
      i = j + 1;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expr.slice(i));
    if (name) { out.push({ kind: 'name', text: name[0] }); i += name[0].length; continue; }
    const num = /^[0-9]+/.exec(expr.slice(i));
    if (num) { out.push({ kind: 'number', text: num[0] }); i += num[0].length; continue; }
    out.push({ kind: 'punct', text: c });
    i++;
  }
  return out;
}

/** The `or` chain of one `$(...)`, or what is wrong with it. */
function parseExpression(expr: string): TemplateOperand[] | string {
  const tokens = tokenize(expr);
  if (typeof tokens === 'string') return tokens;
  const operands: TemplateOperand[] = [];
  let i = 0;
  const next = () => tokens[i++];
  for (;;) {
    const t = next();
    if (!t) return 'an operand is missing';
    if (t.kind === 'string') {
      operands.push({ literal: t.text });
    } else if (t.kind === 'name' && SOURCES.has(t.text)) {
      const source = t.text as TemplateRef['source'];
      const p = next();
      if (p?.text === '.') {
        const key = next();
        if (key?.kind !== 'name') return `"${source}." must be followed by a name`;
        operands.push({ ref: { source, key: key.text } });
      } else if (p?.text === '[') {
        const key = next();
        if (next()?.text !== ']' || !key || (key.kind !== 'string' && key.kind !== 'number')) return `"${source}[" must hold a quoted name or a number, then "]"`;
        operands.push({ ref: { source, key: key.kind === 'number' ? Number(key.text) : key.text } });
      } else {
        return `"${source}" must be followed by ".name" or ["name"]`;
      }
    } else {
      return `"${t.text}" is not headers, query_params, uri_captures or a quoted string`;
    }
    const sep = next();
    if (!sep) return operands;
    if (sep.kind !== 'name' || sep.text !== 'or') return `"${sep.text}" where "or" or the end was expected`;
  }
}

/** The forms a template may use, for the message that refuses another. */
export const TEMPLATE_FORMS = 'headers.NAME, query_params.NAME, uri_captures.NAME (or ["name"], uri_captures[N]) and quoted strings, joined by "or"';

/**
 * A template's parts, or an error naming what Frontdesk does not evaluate. A value without
 * `$(` is one literal part.
 */
export function parseTemplate(value: string): { parts: TemplatePart[] } | { error: string } {
  const parts: TemplatePart[] = [];
  let from = 0;
  for (;;) {
    const at = value.indexOf('$(', from);
    if (at < 0) break;
    const end = balanced(value, at + 1);
    if (end < 0) break; // Penlight leaves an unbalanced "$(" as text
    if (at > from) parts.push(value.slice(from, at));
    const inner = value.slice(at + 2, end - 1);
    const ops = parseExpression(inner);
    if (typeof ops === 'string') {
      return { error: `$(${inner}): ${ops}` };
    }
    parts.push(ops);
    from = end;
  }
  if (from < value.length) parts.push(value.slice(from));
  return { parts };
}

function lookup(env: TemplateEnv, ref: TemplateRef): TemplateValue {
  if (ref.source === 'uri_captures') return env.captures.get(ref.key);
  if (typeof ref.key === 'number') return undefined;
  if (ref.source === 'query_params') return env.query.get(ref.key);
  return env.headers.get(ref.key.toLowerCase().replace(/_/g, '-'));
}

/** A template rendered against one request, or Kong's render error (which Kong answers with a 500). */
export function renderTemplate(parts: readonly TemplatePart[], env: TemplateEnv): { value: string } | { error: string } {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') { out += part; continue; }
    // Lua's `or`: the first operand that is neither nil nor false (an empty string is kept).
    let v: TemplateValue;
    for (const op of part) {
      v = 'literal' in op ? op.literal : lookup(env, op.ref);
      if (v !== undefined) break;
    }
    if (v === undefined) continue;
    if (typeof v !== 'string') return { error: `attempt to concatenate a ${v === true ? 'boolean' : 'table'} value` };
    out += v;
  }
  return { value: out };
}
