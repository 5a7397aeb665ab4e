import type { Json } from '../json.js';

/**
 * Kong's request-/response-transformer operations on bodies and query strings, pure: each part
 * is changed in Kong's order — remove, rename, replace (only what exists), add (only what does
 * not), append (turning a value into a list) — and returns undefined when nothing changed.
 */

export interface Pair { name: string; value: string }

export interface Operations {
  remove: string[];
  rename: Pair[];
  replace: Pair[];
  add: Pair[];
  append: Pair[];
  replace_types?: string[];
  add_types?: string[];
  append_types?: string[];
}

export function isEmpty(o: Operations | null | undefined): boolean {
  return !o || (!o.remove.length && !o.rename.length && !o.replace.length && !o.add.length && !o.append.length);
}


/** A value as the response-transformer's json_types says (string when not given). */
function typed(value: string, type: string | undefined): Json {
  if (type === 'number') { const n = Number(value); return Number.isFinite(n) ? n : value; }
  if (type === 'boolean') return value === 'true';
  return value;
}

/** A JSON object's fields; non-objects (arrays, scalars) are left as they are. */
export function transformJson(body: unknown, o: Operations): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const out: { [k: string]: Json } = { ...(body as { [k: string]: Json }) };
  for (const name of o.remove) delete out[name];
  for (const { name, value } of o.rename) if (name in out) { out[value] = out[name]!; delete out[name]; }
  o.replace.forEach(({ name, value }, i) => { if (name in out) out[name] = typed(value, o.replace_types?.[i]); });
  o.add.forEach(({ name, value }, i) => { if (!(name in out)) out[name] = typed(value, o.add_types?.[i]); });
  o.append.forEach(({ name, value }, i) => {
    const v = typed(value, o.append_types?.[i]);
    if (!(name in out)) out[name] = v;
    else out[name] = Array.isArray(out[name]) ? [...(out[name] as Json[]), v] : [out[name]!, v];
  });
  return out;
}

/** URL-encoded parameters (a form body or a query string), keeping the order of the rest. */
export function transformParams(params: URLSearchParams, o: Operations): URLSearchParams {
  const out = new URLSearchParams(params);
  for (const name of o.remove) out.delete(name);
  for (const { name, value } of o.rename) {
    if (!out.has(name)) continue;
    for (const v of out.getAll(name)) out.append(value, v);
    out.delete(name);
  }
  for (const { name, value } of o.replace) if (out.has(name)) out.set(name, value);
  for (const { name, value } of o.add) if (!out.has(name)) out.set(name, value);
  for (const { name, value } of o.append) out.append(name, value);
  return out;
}

/** A request path with its query string changed; the path itself is kept byte for byte. */
export function transformQuery(path: string, o: Operations): string {
  const q = path.indexOf('?');
  const base = q < 0 ? path : path.slice(0, q);
  const params = transformParams(new URLSearchParams(q < 0 ? '' : path.slice(q + 1)), o);
  const s = params.toString();
  return s ? `${base}?${s}` : base;
}

/** One part of a multipart body: its Content-Disposition name and its bytes, from its delimiter to the next one. */
interface Part { name: string | undefined; bytes: Buffer }

/** A part as lua-multipart's set_simple writes it: a name and a text value. */
function simplePart(boundary: string, name: string, value: Buffer | string): Part {
  return { name, bytes: Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n')]) };
}

/** A part's value: what follows its headers, without the line break before the next delimiter. */
function partValue(p: Part): Buffer {
  const headEnd = p.bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return Buffer.alloc(0);
  const end = p.bytes.subarray(p.bytes.length - 2).toString('latin1') === '\r\n' ? p.bytes.length - 2 : p.bytes.length;
  return p.bytes.subarray(headEnd + 4, Math.max(headEnd + 4, end));
}

/**
 * A multipart/form-data body changed as Kong's request-transformer changes one (its
 * transform_multipart_body, on lua-multipart): rename (a part's value under the new name, as a
 * plain text part), remove, replace (the part written anew, last), then add (a text part, last,
 * for a name not there); rename, remove and replace only when there is a body; append is not
 * applied to multipart, as in Kong. Parts no operation touches keep their bytes, as do the
 * preamble, the closing delimiter and the epilogue. A part found by name is the first of that
 * name; remove removes each. Undefined when nothing changed or the type names no boundary.
 */
export function transformMultipart(body: Buffer, contentType: string, o: Operations): Buffer | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const at: number[] = [];
  for (let i = body.indexOf(delimiter); i >= 0; i = body.indexOf(delimiter, i + delimiter.length)) at.push(i);
  const hasParts = at.length >= 2;
  const preamble = hasParts ? body.subarray(0, at[0]) : Buffer.alloc(0);
  const closing = hasParts ? body.subarray(at[at.length - 1]) : Buffer.from(`--${boundary}--\r\n`);
  let parts: Part[] = [];
  for (let k = 0; k + 1 < at.length; k++) {
    const bytes = body.subarray(at[k], at[k + 1]);
    const headEnd = bytes.indexOf('\r\n\r\n');
    const head = bytes.subarray(delimiter.length, headEnd < 0 ? bytes.length : headEnd).toString('latin1');
    parts.push({ name: /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(head)?.[1], bytes });
  }
  const find = (name: string) => parts.findIndex((p) => p.name === name);
  let changed = false;
  if (body.length) {
    for (const { name, value: to } of o.rename) {
      const i = find(name);
      if (i < 0 || name === to) continue;
      const renamed = simplePart(boundary, to, partValue(parts[i]!));
      const j = find(to);
      if (j >= 0) parts[j] = renamed;
      else parts.push(renamed);
      parts = parts.filter((p) => p.name !== name);
      changed = true;
    }
    for (const name of o.remove) {
      const before = parts.length;
      parts = parts.filter((p) => p.name !== name);
      changed ||= parts.length !== before;
    }
    for (const { name, value } of o.replace) {
      if (find(name) < 0) continue;
      parts = [...parts.filter((p) => p.name !== name), simplePart(boundary, name, value)];
      changed = true;
    }
  }
  for (const { name, value } of o.add) {
    if (find(name) >= 0) continue;
    parts.push(simplePart(boundary, name, value));
    changed = true;
  }
  return changed ? Buffer.concat([preamble, ...parts.map((p) => p.bytes), closing]) : undefined;
}

/**
 * A request or response body changed by `o`, by its content type: JSON objects and
 * form-urlencoded bodies; multipart/form-data request bodies as Kong's (transformMultipart);
 * anything else (or a body that does not parse) is left alone, as Kong leaves it.
 */
export function transformBody(body: Buffer, contentType: string | undefined, o: Operations, formToo: boolean): Buffer | undefined {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('json')) {
    let parsed: unknown = {};
    if (body.length) try { parsed = JSON.parse(body.toString('utf8')); } catch { return undefined; }
    // An empty request body is Kong's empty table, which only add and append write to.
    else if (!formToo || (!o.add.length && !o.append.length)) return undefined;
    return Buffer.from(JSON.stringify(transformJson(parsed, o)));
  }
  if (formToo && ct.includes('application/x-www-form-urlencoded')) {
    return Buffer.from(transformParams(new URLSearchParams(body.toString('utf8')), o).toString());
  }
  if (formToo && ct.startsWith('multipart/form-data')) return transformMultipart(body, contentType!, o);
  return undefined;
}
