import type { z } from 'zod';
import { diag } from '../../errors.js';
import type { Origin } from '../types.js';
import { omit, type Child, type Found } from './flat-config.js';
import { parseWith, type Reporter } from './reporter.js';

/** How one entity names another: a name or id, or `{ id }` / `{ name }` as deck writes it. */
export type Ref = string | { id?: string; name?: string } | undefined;

export function refName(ref: Ref): string | undefined {
  if (ref === undefined) return undefined;
  return typeof ref === 'string' ? ref : (ref.name ?? ref.id);
}

/** The key of an entity that has neither name nor id: where it was written. */
export function placeKey(origin: Origin): string {
  return `\0${origin.file}:${origin.path.join('.')}`;
}

/**
 * What references resolve against: per kind, every name or id an entity may be called by,
 * mapped to the entity's key; and the names claimed so far, so that a second entity with
 * the same name is reported where it stands, pointing at the first.
 */
export class References {
  readonly service = new Map<string, string>();
  readonly route = new Map<string, string>();
  readonly consumer = new Map<string, string>();
  readonly upstream = new Map<string, string>();
  readonly certificate = new Map<string, string>();
  /** Names and ids of consumers refused for their own errors: references to them are not reported again. */
  refusedConsumers: ReadonlySet<string> = new Set();
  private readonly claimed = new Map<string, Map<string, Origin>>();

  constructor(private readonly rep: Reporter) {}

  claim(kind: string, name: string | undefined, origin: Origin, field: string): void {
    if (name === undefined) return;
    let names = this.claimed.get(kind);
    if (!names) this.claimed.set(kind, (names = new Map()));
    const first = names.get(name);
    if (first) this.rep.at(origin, diag('FD_DUPLICATE_NAME', [...origin.path, field], kind, name, this.rep.where(first)));
    else names.set(name, origin);
  }
}

/**
 * A child entity (target, credential) through its schema, with the name or id of its parent:
 * the one it is nested in, else the one its `field` names; no parent at all is reported.
 */
export function parseChild<S extends z.ZodType>(rep: Reporter, schema: S, { value, origin, source }: Found<Child>, field: string, named: (child: z.infer<S>) => Ref): { child: z.infer<S>; parent: string } | undefined {
  const nestedIn = value._parent;
  const child = parseWith(rep, schema, () => omit(value, ['_parent']), origin, { source });
  if (!child) return undefined;
  const parent = nestedIn ?? refName(named(child));
  if (parent === undefined) { rep.at(origin, diag('FD_REQUIRED', origin.path, field)); return undefined; }
  return { child, parent };
}
