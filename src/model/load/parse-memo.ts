import type { z } from 'zod';

/**
 * What one load keeps for the next (a compile cache holds one): each entity's schema output,
 * keyed by the schema and the entity's content as JSON, so that an edit validates only the
 * entities whose text changed. Only successful parses are kept (a refused entity is parsed
 * again, so its diagnostics come from zod as before); an entry not used by a load is dropped
 * at its end, so the memo holds one config's entities at most.
 *
 * A kept output is shared by the models of the loads that hit it: it is frozen (plain objects
 * and arrays, deeply), so that code changing a model in place fails loudly instead of changing
 * another load's.
 */
export class ParseMemo {
  private last = new Map<z.ZodType, Map<string, unknown>>();
  private next = new Map<z.ZodType, Map<string, unknown>>();

  /** `schema.safeParse(input)`'s data, from the memo when the same content parsed last time. */
  parse<S extends z.ZodType>(schema: S, input: unknown): z.ZodSafeParseResult<z.infer<S>> {
    const key = contentKey(input);
    if (key === undefined) return schema.safeParse(input);
    let next = this.next.get(schema);
    if (!next) this.next.set(schema, (next = new Map()));
    const known = next.get(key) ?? this.last.get(schema)?.get(key);
    if (known !== undefined) {
      next.set(key, known);
      return { success: true, data: known as z.infer<S> };
    }
    const res = schema.safeParse(input);
    if (res.success && res.data !== undefined) next.set(key, deepFreeze(res.data));
    return res;
  }

  /** The end of one load: what it did not use is forgotten. */
  endLoad(): void {
    this.last = this.next;
    this.next = new Map();
  }
}

/**
 * The JSON of a parsed YAML value, or undefined when JSON would not tell two inputs apart: a
 * bare `null` stands for null, NaN and ±Infinity alike (YAML's .nan and .inf).
 */
function contentKey(input: unknown): string | undefined {
  const key = JSON.stringify(input);
  if (key === undefined || /(^|[[:,])null([\],}]|$)/.test(key)) return undefined;
  return key;
}

function deepFreeze<T>(v: T): T {
  if (Array.isArray(v)) { for (const x of v) deepFreeze(x); Object.freeze(v); }
  else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
