import type { z } from 'zod';
import { sameContent } from '../../same-content.js';
import { deepFreeze } from '../deep-freeze.js';

/** One schema output kept, with the input it came from (and that input's JSON once it was needed, and the YAML value the input was made of alone, when known). */
interface Entry { input: unknown; data: unknown; key?: string; source?: object }

/** One schema's entries of one load: by the YAML value they were made of, by where they are written, and (built when needed) by content. */
interface Entries { bySource: Map<object, Entry>; byPlace: Map<string, Entry>; all: Entry[]; byKey?: Map<string, Entry> }

/**
 * What one load keeps for the next (a compile cache holds one): each entity's schema output,
 * so that an edit validates only the entities whose content changed. An entity is looked up
 * first where it is written (its file and YAML path), its input compared in place with the
 * input parsed there last time (sameContent: no key text built); when that misses (an entity
 * added above it moved it), by its content as JSON, among every entity of the last load (their
 * JSON made then, once; the first miss of a load is parsed without it, so an edit of one
 * entity makes no JSON at all). Only
 * successful parses are kept (a refused entity is parsed again, so its diagnostics come from
 * zod as before); an entry not used by a load is dropped at its end, so the memo holds one
 * config's entities at most.
 *
 * A kept output is shared by the models of the loads that hit it: it is frozen (plain objects
 * and arrays, deeply), so that code changing a model in place fails loudly instead of changing
 * another load's.
 */
export class ParseMemo {
  private last = new Map<z.ZodType, Entries>();
  private next = new Map<z.ZodType, Entries>();
  /** Lookups answered by source, by place, by content, and parses run, in the current load; entities not found by place; key texts made. */
  private bySourceHits = 0;
  private byPlace = 0;
  private byContent = 0;
  private parsed = 0;
  private placeMisses = 0;
  private keyed = 0;
  /** Those figures for the last load that ended (for tests and benchmarks): `keyed` counts the entities whose JSON was made. */
  lastLoad = { bySource: 0, byPlace: 0, byContent: 0, parsed: 0, keyed: 0 };

  /**
   * The data the last load parsed from an input made of `source` alone (Found.source: a frozen
   * YAML value, which an unchanged text is parsed to again), wherever the entity is written now;
   * undefined when the last load had no such entity (then `parse`, with the input, as usual).
   */
  known<S extends z.ZodType>(schema: S, source: object, place: string): z.infer<S> | undefined {
    const e = this.last.get(schema)?.bySource.get(source) ?? this.next.get(schema)?.bySource.get(source);
    if (!e) return undefined;
    this.bySourceHits++;
    keep(this.entries(schema), place, e); // by place too: an edit of the chunk it is in makes a new object at the same place
    return e.data as z.infer<S>;
  }

  /**
   * `schema.safeParse(input)`'s data, from the memo when the same content parsed last time;
   * `place` names where the entity is written (the same text at the same place is found without
   * a key); `source`, the YAML value the input is made of alone, finds it by identity next time.
   */
  parse<S extends z.ZodType>(schema: S, input: unknown, place?: string, source?: object): z.ZodSafeParseResult<z.infer<S>> {
    const next = this.entries(schema);
    const last = this.last.get(schema);
    if (place !== undefined) {
      const e = last?.byPlace.get(place);
      if (e && sameContent(e.input, input)) {
        this.byPlace++;
        keep(next, place, source && e.source !== source ? { ...e, source } : e);
        return { success: true, data: e.data as z.infer<S> };
      }
      // The first entity of a load not found where it is written is parsed at once: an edit of
      // one entity (in place, or one added) makes no key text for the whole config. From the
      // second on (entities moved, or several edited), the content index is worth building.
      if (this.placeMisses++ === 0) return this.fresh(schema, input, next, place, undefined, source);
    }
    if (!last) return this.fresh(schema, input, next, place, undefined, source); // nothing to find: no key (the next load makes it if it needs it)
    const key = contentKey(input);
    this.keyed++;
    if (key === undefined) return this.fresh(schema, input, next, place, undefined, source); // JSON would not tell it apart: kept by place only
    const known = next.byKey?.get(key) ?? this.index(last).get(key);
    if (known) {
      this.byContent++;
      keep(next, place, { input, data: known.data, key, source });
      return { success: true, data: known.data as z.infer<S> };
    }
    return this.fresh(schema, input, next, place, key, source);
  }

  /** This load's entries of `schema`. */
  private entries(schema: z.ZodType): Entries {
    let next = this.next.get(schema);
    if (!next) this.next.set(schema, (next = { bySource: new Map(), byPlace: new Map(), all: [] }));
    return next;
  }

  /** The last load's entries by content (their JSON made once, the first time it is needed). */
  private index(entries: Entries): Map<string, Entry> {
    if (!entries.byKey) {
      entries.byKey = new Map();
      for (const e of entries.all) {
        if (e.key === undefined) { this.keyed++; e.key = contentKey(e.input) ?? ''; }
        if (e.key !== '') entries.byKey.set(e.key, e);
      }
    }
    return entries.byKey;
  }

  /** `schema.safeParse(input)`, its data kept (with `key`, when made) for the next load. */
  private fresh<S extends z.ZodType>(schema: S, input: unknown, next: Entries, place: string | undefined, key: string | undefined, source: object | undefined): z.ZodSafeParseResult<z.infer<S>> {
    this.parsed++;
    const res = schema.safeParse(input);
    if (res.success && res.data !== undefined) keep(next, place, { input, data: deepFreeze(res.data), key, source });
    return res;
  }

  /** The end of one load: what it did not use is forgotten. */
  endLoad(): void {
    this.last = this.next;
    this.next = new Map();
    this.lastLoad = { bySource: this.bySourceHits, byPlace: this.byPlace, byContent: this.byContent, parsed: this.parsed, keyed: this.keyed };
    this.bySourceHits = this.byPlace = this.byContent = this.parsed = this.placeMisses = this.keyed = 0;
  }
}

function keep(into: Entries, place: string | undefined, e: Entry): void {
  if (place !== undefined) into.byPlace.set(place, e);
  if (e.source !== undefined) {
    if (into.bySource.get(e.source) === e) return; // kept already: one object written twice, or found twice
    into.bySource.set(e.source, e);
  }
  into.all.push(e);
  if (e.key !== undefined) into.byKey?.set(e.key, e);
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
