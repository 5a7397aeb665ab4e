import type { GatewayModel } from '../types.js';
import { sameContent } from '../../same-content.js';

type Lists = { [K in keyof GatewayModel]: GatewayModel[K][number] };

/** What tells two entities of a list apart (names and keys are unique per list once loaded; plugins by id, else by name). */
const KEYS: { [K in keyof GatewayModel]: (e: Lists[K]) => string } = {
  services: (e) => e.name,
  routes: (e) => e.name,
  upstreams: (e) => e.name,
  consumers: (e) => e.key,
  plugins: (e) => e.id ?? e.name,
  certificates: (e) => e.key,
  caCertificates: (e) => e.key,
  listeners: (e) => e.name,
};

/**
 * What one load keeps for the next (a compile cache holds one): the last model, so that an
 * entity whose model object has the same content as last time (sameContent: every field,
 * its origin's file and YAML path included) is that same object, and a list whose entities
 * are all the same is the same array. The IR and translation find unchanged entities by
 * identity then, before any content comparison. A reused object is the one an earlier load
 * handed out: the model is never changed in place (the steps after the load copy what they
 * change), so sharing it is safe. Positions are not part of the model: a diagnostic's line:col
 * comes from the text being loaded, whatever object the entity reuses.
 */
export class ModelMemo {
  private last?: GatewayModel;
  /** Schema output → the model object last made from it, and what else it was made from. */
  private from = new WeakMap<object, { parts: unknown[]; value: unknown }>();
  /** Entities reused and made anew by the last load (a figure for tests and benchmarks). */
  reused = 0;
  fresh = 0;

  /**
   * The model object `make` gives for the schema output `from` (a parse memo's, the same object
   * while the entity's text is unchanged) and `parts` (the rest of what it is made of: names
   * resolved, its origin...), or the object made last time from the same output and parts of the
   * same content: the steps of a load make no new object for an unchanged entity.
   */
  made<T>(from: object, parts: unknown[], make: () => T): T {
    const e = this.from.get(from);
    if (e && sameContent(e.parts, parts)) return e.value as T;
    const value = make();
    this.from.set(from, { parts, value });
    return value;
  }

  /** `model` with the last model's objects in place of equal ones; it becomes the last model. */
  reuse(model: GatewayModel): GatewayModel {
    this.reused = this.fresh = 0;
    const last = this.last;
    const out = { ...model };
    if (last) for (const k of Object.keys(KEYS) as (keyof GatewayModel)[]) (out as Record<string, unknown>)[k] = this.list(model[k], last[k], KEYS[k] as (e: unknown) => string);
    this.last = out;
    return out;
  }

  private list<T>(now: T[], before: T[], key: (e: T) => string): T[] {
    let byKey: Map<string, T> | undefined;
    let all = now.length === before.length;
    const out = now.map((e, i) => {
      // Lists are sorted: an edit that adds or removes nothing keeps every entity at its index.
      let old: T | undefined = before[i];
      if (old === undefined || key(old) !== key(e)) old = (byKey ??= new Map(before.map((b) => [key(b), b]))).get(key(e));
      if (old !== undefined && sameContent(old, e)) { this.reused++; return old; }
      this.fresh++;
      all = false;
      return e;
    });
    return all && out.every((e, i) => e === before[i]) ? before : out;
  }
}
