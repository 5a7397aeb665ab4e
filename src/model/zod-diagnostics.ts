import type { z } from 'zod';
import { closest, diag, type Diagnostic, type YamlPath } from '../errors.js';
import { kongNotServed } from './plugins/kong-entities.js';

/**
 * Turns zod issues into catalogue diagnostics: unknown keys with a "did you mean" taken from
 * the schema's own keys, missing fields, wrong types and out-of-range values, each with the
 * full YAML path so the loader can add line:col.
 */
export function issuesToDiagnostics(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], prefix: YamlPath, input?: unknown): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const rel = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const path = [...prefix, ...rel];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = keysAt(schema, rel);
        const at = objectsAt(schema, rel);
        for (const key of issue.keys) {
          const kong = kongNotServed(at, key);
          out.push(kong ? diag('FD_KONG_NOT_SERVED', [...path, key], key, kong.why, kong.todo) : diag('FD_UNKNOWN_KEY', [...path, key], key, closest(key, known)));
        }
        break;
      }
      case 'invalid_type': {
        const missing = valueAt(input, rel) === undefined;
        if (missing) out.push(diag('FD_REQUIRED', path, String(rel[rel.length - 1] ?? 'value')));
        else out.push(diag('FD_WRONG_TYPE', path, `${describe(rel)} must be ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`));
        break;
      }
      case 'invalid_value':
        out.push(diag('FD_INVALID_VALUE', path, `${describe(rel)} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`));
        break;
      case 'invalid_union': {
        out.push(diag('FD_WRONG_TYPE', path, `${describe(rel)} has the wrong shape`));
        break;
      }
      default:
        out.push(diag('FD_INVALID_VALUE', path, `${describe(rel)}: ${issue.message}`));
    }
  }
  return out;
}

function valueAt(input: unknown, rel: ReadonlyArray<string | number>): unknown {
  let v = input;
  for (const seg of rel) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function describe(rel: ReadonlyArray<string | number>): string {
  const last = [...rel].reverse().find((p) => typeof p === 'string');
  return last ? `"${last}"` : 'the value';
}

interface Def { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[]; valueType?: z.ZodType }

function defOf(s: z.ZodType): Def {
  return s._zod.def as Def;
}

function unwrap(s: z.ZodType): z.ZodType[] {
  const d = defOf(s);
  if (d.innerType) return unwrap(d.innerType);
  if (d.type === 'pipe' && d.in) return unwrap(d.in);
  if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
  return [s];
}

/** The keys an object schema accepts at `path` (through arrays, records, optionals, unions). */
export function keysAt(schema: z.ZodType, path: ReadonlyArray<string | number>): string[] {
  return objectsAt(schema, path).flatMap((s) => Object.keys(defOf(s).shape ?? {}));
}

/** The object schemas at `path` (through arrays, records, optionals, unions). */
function objectsAt(schema: z.ZodType, path: ReadonlyArray<string | number>): z.ZodType[] {
  let current = unwrap(schema);
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const s of current) {
      const d = defOf(s);
      if (d.type === 'object' && typeof seg === 'string' && d.shape?.[seg]) next.push(...unwrap(d.shape[seg]!));
      else if (d.type === 'array' && typeof seg === 'number' && d.element) next.push(...unwrap(d.element));
      else if (d.type === 'record' && d.valueType) next.push(...unwrap(d.valueType));
    }
    current = next;
  }
  return current.filter((s) => defOf(s).type === 'object' && defOf(s).shape);
}

/**
 * Frozen values found to hold no null key: a file's unchanged chunks are the same frozen
 * objects load after load (yaml-source.ts), walked once.
 */
const NO_NULLS = new WeakSet<object>();

/**
 * Removes keys whose value is null, recursively: in Kong's files `null` means "the default".
 * A value with no null key inside is returned as it is (no copy); one with some is copied
 * along the way to them.
 */
export function stripNulls(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || NO_NULLS.has(v)) return v;
  const out = stripNullsOnce(v);
  if (out === v && Object.isFrozen(v)) NO_NULLS.add(v);
  return out;
}

function stripNullsOnce(v: object): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = stripNulls(v[i]);
      if (x !== v[i]) (out ??= v.slice(0, i)).push(x);
      else out?.push(x);
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o); // not Object.entries: no pair array per key, for every entity of every load
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const x = o[k];
    const y = x === null ? undefined : stripNulls(x);
    if (out) { if (x !== null) out[k] = y; continue; }
    if (x === null || y !== x) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]!] = o[keys[j]!];
      if (x !== null) out[k] = y;
    }
  }
  return out ?? v;
}
