import { RE2JS } from 're2js';
import { hasTemplate, parseTemplate, renderTemplate, type TemplateEnv, type TemplatePart } from '../kong-template.js';
import type { Operations, Pair } from './operations.js';

/**
 * request-transformer's `$(...)` templates in the companion: the request as it arrived (its
 * headers, query string and the captures of the route's regex path) as Kong's template
 * environment, the templated values rendered, and Kong's header operations done on a copy of the
 * headers, whose difference becomes ext_proc's header mutation. Pure.
 */

/** A header as ext_proc gives it: the value as a string. */
export interface RequestHeader { key: string; value: string }

/** Kong's query arguments (ngx.decode_args): `+` and %XX decoded, a repeated name a list, a name without `=` true. */
export function queryArguments(path: string): Map<string, string | string[] | true> {
  const out = new Map<string, string | string[] | true>();
  const q = path.indexOf('?');
  if (q < 0) return out;
  const decode = (s: string) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
  for (const part of path.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value: string | true = eq < 0 ? true : decode(part.slice(eq + 1));
    const had = out.get(name);
    if (had === undefined) out.set(name, value);
    else if (value !== true) out.set(name, Array.isArray(had) ? [...had, value] : had === true ? [value] : [had, value]);
  }
  return out;
}

const compiled = new Map<string, RE2JS>();

/** The captures of the route's regex path on the request's path (query string off): numbered from 0 (the whole match) and by name. */
export function uriCaptures(pathRegex: string, path: string): Map<string | number, string> {
  const out = new Map<string | number, string>();
  if (!pathRegex) return out;
  let re = compiled.get(pathRegex);
  if (!re) {
    re = RE2JS.compile(pathRegex);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pathRegex, re);
  }
  const q = path.indexOf('?');
  const m = re.matcher(q < 0 ? path : path.slice(0, q));
  if (!m.lookingAt()) return out;
  for (let i = 0; i <= m.groupCount(); i++) {
    const g = m.group(i);
    if (g !== null && g !== undefined) out.set(i, g);
  }
  for (const [name, i] of Object.entries(re.namedGroups() as Record<string, number>)) {
    const g = m.group(i);
    if (g !== null && g !== undefined) out.set(name, g);
  }
  return out;
}

/** The request's headers by lower-case name (a repeated header a list); Envoy's :authority is Kong's Host. */
export function headerTable(headers: readonly RequestHeader[]): Map<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  for (const { key, value } of headers) {
    const name = key === ':authority' ? 'host' : key.toLowerCase();
    if (name.startsWith(':')) continue;
    const had = out.get(name);
    out.set(name, had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value]);
  }
  return out;
}

const parsed = new Map<string, TemplatePart[]>();

/** A value rendered (a value without `$(` as it is), or Kong's render error. */
export function render(value: string, env: TemplateEnv): { value: string } | { error: string } {
  if (!hasTemplate(value)) return { value };
  let parts = parsed.get(value);
  if (!parts) {
    const t = parseTemplate(value);
    if ('error' in t) return t; // refused at load: not reached with a config the control plane sent
    parts = t.parts;
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(value, parts);
  }
  return renderTemplate(parts, env);
}

/** Operations with their values rendered (names are never templates: refused at load), or the first render error. */
export function renderOperations(o: Operations, env: TemplateEnv): Operations | { error: string } {
  const pairs = (list: Pair[]): Pair[] | { error: string } => {
    const out: Pair[] = [];
    for (const p of list) {
      const r = render(p.value, env);
      if ('error' in r) return r;
      out.push({ name: p.name, value: r.value });
    }
    return out;
  };
  const replace = pairs(o.replace);
  if ('error' in replace) return replace;
  const add = pairs(o.add);
  if ('error' in add) return add;
  const append = pairs(o.append);
  if ('error' in append) return append;
  return { ...o, replace, add, append };
}

/**
 * Kong's header operations (transform_headers) on the request's headers, names lower case:
 * remove, rename (only a header that is there), replace (likewise), add (only one that is not),
 * append. Returns the names to remove and the names to set with their values, in order.
 */
export function headerChanges(headers: ReadonlyMap<string, string | string[]>, o: Operations): { remove: string[]; set: [string, string[]][] } {
  const now = new Map<string, string[]>([...headers].map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  for (const name of o.remove) now.delete(name);
  for (const { name, value: to } of o.rename) {
    const v = now.get(name);
    if (v === undefined) continue;
    now.delete(name);
    now.set(to, v);
  }
  for (const { name, value } of o.replace) if (now.has(name)) now.set(name, [value]);
  for (const { name, value } of o.add) if (!now.has(name)) now.set(name, [value]);
  for (const { name, value } of o.append) now.set(name, [...(now.get(name) ?? []), value]);
  const remove: string[] = [];
  const set: [string, string[]][] = [];
  for (const name of headers.keys()) if (!now.has(name)) remove.push(name);
  for (const [name, values] of now) {
    const was = headers.get(name);
    const before = was === undefined ? undefined : Array.isArray(was) ? was : [was];
    if (!before || before.length !== values.length || before.some((v, i) => v !== values[i])) set.push([name, values]);
  }
  return { remove, set };
}
