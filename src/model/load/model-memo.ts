import type { GatewayModel, Route } from '../types.js';
import { sameContent } from '../../same-content.js';
import { FlattenMemo } from './flatten.js';

/**
 * What loading one route did, kept for the next load by its flat entry (the same object while
 * the route's text and place are unchanged, flatten.ts; loadRoutes in routes.ts): replayed there without its schema,
 * checks or model, as long as its service resolves the same. Only a route that reported
 * nothing is kept, so a replay reports nothing either.
 */
export interface RouteStep {
  name: string;
  /** Every name the route may be called by (name, id, place). */
  aliases: string[];
  /** Where it is written, as the parse memo keys it: a replay keeps its schema output there for the next load. */
  place: string;
  /** The index in the flat list its name was made of, when it has neither name nor id. */
  idx?: number;
  serviceRef: string | undefined;
  service: string | undefined;
  serviceOff: boolean;
  legacy: boolean;
  /** Switched off (or its service is): its names go quietly. */
  off: boolean;
  route?: Route;
}

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
  /** The flat entries of each unchanged top-level item (flatten.ts). */
  readonly flat = new FlattenMemo();
  /** What loading each route did, by its flat entry (routes.ts): replayed while the entry is the same object. */
  readonly routeSteps = new WeakMap<object, RouteStep>();
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
