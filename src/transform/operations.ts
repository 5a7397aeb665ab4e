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

/**
 * A multipart/form-data body without the parts named in `names` (by their Content-Disposition
 * name), every other byte as it came: the parts kept, the preamble, the closing delimiter and
 * the epilogue. Undefined when the type names no boundary or the body has no part.
 */
export function removeMultipartFields(body: Buffer, contentType: string, names: readonly string[]): Buffer | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || !names.length) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const at: number[] = [];
  for (let i = body.indexOf(delimiter); i >= 0; i = body.indexOf(delimiter, i + delimiter.length)) at.push(i);
  if (at.length < 2) return undefined;
  const drop = new Set(names);
  const kept: Buffer[] = [body.subarray(0, at[0])];
  for (let k = 0; k + 1 < at.length; k++) {
    const part = body.subarray(at[k], at[k + 1]);
    const headEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(delimiter.length, headEnd < 0 ? part.length : headEnd).toString('latin1');
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined || !drop.has(name)) kept.push(part);
  }
  kept.push(body.subarray(at[at.length - 1]));
  return Buffer.concat(kept);
}

/**
 * A request or response body changed by `o`, by its content type: JSON objects and
 * form-urlencoded bodies; a multipart/form-data request body loses the parts `o.remove` names
 * (its other operations are not applied to multipart); anything else (or a body that does not
 * parse) is left alone, as Kong leaves it.
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
  if (formToo && ct.startsWith('multipart/form-data')) return removeMultipartFields(body, contentType!, o.remove);
  return undefined;
}
