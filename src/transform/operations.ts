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
 * A request or response body changed by `o`, by its content type: JSON objects and
 * form-urlencoded bodies; anything else (or a body that does not parse) is left alone, as
 * Kong leaves it.
 */
export function transformBody(body: Buffer, contentType: string | undefined, o: Operations, formToo: boolean): Buffer | undefined {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('json')) {
    let parsed: unknown;
    try { parsed = JSON.parse(body.toString('utf8')); } catch { return undefined; }
    return Buffer.from(JSON.stringify(transformJson(parsed, o)));
  }
  if (formToo && ct.includes('application/x-www-form-urlencoded')) {
    return Buffer.from(transformParams(new URLSearchParams(body.toString('utf8')), o).toString());
  }
  return undefined;
}
