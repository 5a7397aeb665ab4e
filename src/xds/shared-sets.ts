import { EMPTY, versionOf, type EncodedResource, type TypeResources } from './snapshot.js';
import { deltaResponseBody, discoveryResponseBody, sharedBody, type SharedBody } from './wire.js';

export { EMPTY };

/**
 * What the streams of a fleet have in common, computed once and shared: the resource sets a
 * stream should hold (per make-before-break stage, per subscription) and the response bodies
 * that carry them. A stream's state holds references to these sets, never copies, so the
 * thousandth node of a fleet costs a few map lookups, not a rebuild, a sort and a hash.
 *
 * Every function here is memoised on the identity of the sets it is given. The sets are never
 * changed once built (a stream that needs a different set makes a new one), so an identity
 * stands for its content; the memos are WeakMaps and go when the sets do.
 */

/** A memo on two objects' identities. */
class Memo2<A extends object, B extends object, V> {
  private readonly m = new WeakMap<A, WeakMap<B, V>>();

  get(a: A, b: B, make: () => V): V {
    let inner = this.m.get(a);
    if (!inner) this.m.set(a, (inner = new WeakMap()));
    let v = inner.get(b);
    if (v === undefined) inner.set(b, (v = make()));
    return v;
  }
}

const byName = ([a]: [string, EncodedResource], [b]: [string, EncodedResource]) => (a < b ? -1 : a > b ? 1 : 0);

const kept = new Memo2<TypeResources, TypeResources, TypeResources>();

/**
 * Make before break: `all`, plus what the client holds (`acked`) that `all` no longer has, so
 * that the clusters and endpoints it still routes to stay until its routes have moved on.
 * Returns `all` itself when nothing held is missing from it (the common case: an edit that
 * removes no cluster), so the set and its version are the snapshot's own.
 */
export function keepHeld(all: TypeResources, acked: TypeResources): TypeResources {
  if (acked.size === 0) return all;
  return kept.get(all, acked, () => {
    let out: TypeResources | undefined;
    for (const [name, r] of acked) {
      if (all.has(name) || r.body === null) continue;
      out ??= new Map(all);
      out.set(name, r);
    }
    return out ? new Map([...out].sort(byName)) : all;
  });
}

/**
 * A stream's subscription to named resources, kept in a form that can be shared: the sorted
 * names and a key that identifies them. Built when the names change, not per snapshot.
 */
export interface Subscription {
  readonly names: ReadonlySet<string>;
  readonly sorted: readonly string[];
  readonly key: string;
}

/** Subscriptions by key, shared by every stream naming the same resources (dropped with the last of them). */
const subscriptions = new Map<string, WeakRef<Subscription>>();
const dropSubscription = new FinalizationRegistry<string>((key) => {
  if (subscriptions.get(key)?.deref() === undefined) subscriptions.delete(key);
});

/**
 * The subscription to `names`: one object for every stream of a fleet that names the same
 * resources (a thousand Envoys asking for the same two hundred endpoint sets hold one set of
 * names, not a thousand).
 */
export function subscription(names: Iterable<string>): Subscription {
  const sorted = [...new Set(names)].sort();
  const key = sorted.join('\n');
  const known = subscriptions.get(key)?.deref();
  if (known) return known;
  const sub: Subscription = { names: new Set(sorted), sorted, key };
  subscriptions.set(key, new WeakRef(sub));
  dropSubscription.register(sub, key);
  return sub;
}

const subsets = new WeakMap<TypeResources, Map<string, TypeResources>>();

/**
 * The resources of `base` a stream subscribed by name holds. Every stream of a fleet that
 * names the same resources gets the same set; a stream that names every resource there is
 * (the common case for endpoints and route configurations) gets `base` itself.
 */
export function subset(base: TypeResources, sub: Subscription): TypeResources {
  let byKey = subsets.get(base);
  if (!byKey) subsets.set(base, (byKey = new Map()));
  let out = byKey.get(sub.key);
  if (!out) {
    const picked: TypeResources = new Map();
    for (const name of sub.sorted) { const r = base.get(name); if (r) picked.set(name, r); }
    out = picked.size === base.size ? base : picked;
    byKey.set(sub.key, out);
  }
  return out;
}

const keyLists = new WeakMap<TypeResources, string[]>();

/** The names of a set, as an array (shared). */
export function namesOf(m: TypeResources): readonly string[] {
  let k = keyLists.get(m);
  if (!k) keyLists.set(m, (k = [...m.keys()]));
  return k;
}

const NONE: TypeResources = new Map();
const endpointNames = new WeakMap<TypeResources, Memo2<TypeResources, TypeResources, readonly string[]>>();

/**
 * The endpoint sets a stream must subscribe to: those of the clusters it holds or is being
 * sent (`held`, `sending`) that `own` (the snapshot's endpoints) has.
 */
export function endpointsFor(own: TypeResources, held: TypeResources, sending: TypeResources | undefined): readonly string[] {
  let memo = endpointNames.get(own);
  if (!memo) endpointNames.set(own, (memo = new Memo2()));
  return memo.get(held, sending ?? NONE, () => {
    const out = new Set<string>();
    for (const n of (sending ?? NONE).keys()) if (own.has(n)) out.add(n);
    for (const n of held.keys()) if (own.has(n)) out.add(n);
    return [...out];
  });
}

const sotwBodies = new WeakMap<TypeResources, Map<string, SharedBody>>();

/** The DiscoveryResponse that sends `set`, built once per set and type. */
export function sotwBody(typeUrl: string, set: TypeResources): SharedBody {
  let byType = sotwBodies.get(set);
  if (!byType) sotwBodies.set(set, (byType = new Map()));
  let body = byType.get(typeUrl);
  if (!body) byType.set(typeUrl, (body = sharedBody('sotw', discoveryResponseBody(typeUrl, versionOf(set), set.values()))));
  return body;
}

/** What a delta stream holding `from` is sent to hold `to`. */
export interface DeltaStep {
  changed: readonly EncodedResource[];
  removed: readonly string[];
  /** The DeltaDiscoveryResponse, built on first use. */
  body(): SharedBody;
  /** The same step sending `extra` (unchanged resources) again as well; shared by every stream sending the same. */
  withAgain(extra: readonly EncodedResource[]): { changed: readonly EncodedResource[]; body(): SharedBody };
}

const deltaSteps = new WeakMap<TypeResources, Map<string, WeakMap<TypeResources, DeltaStep>>>();

/** The change from `from` to `to` for one type, computed once for every stream making it. */
export function deltaStep(typeUrl: string, from: TypeResources, to: TypeResources): DeltaStep {
  let byType = deltaSteps.get(to);
  if (!byType) deltaSteps.set(to, (byType = new Map()));
  let byFrom = byType.get(typeUrl);
  if (!byFrom) byType.set(typeUrl, (byFrom = new WeakMap()));
  let step = byFrom.get(from);
  if (!step) {
    const changed = [...to.values()].filter((r) => from.get(r.name)?.version !== r.version);
    const removed = [...from.keys()].filter((n) => !to.has(n)).sort();
    let body: SharedBody | undefined;
    const variants = new Map<string, { changed: readonly EncodedResource[]; body(): SharedBody }>();
    step = {
      changed, removed,
      body: () => (body ??= sharedBody('delta', deltaResponseBody(typeUrl, versionOf(to), changed, removed))),
      withAgain: (extra) => {
        const key = extra.map((r) => r.name).sort().join('\n');
        let v = variants.get(key);
        if (!v) {
          const all = [...changed, ...extra];
          let b: SharedBody | undefined;
          v = { changed: all, body: () => (b ??= sharedBody('delta', deltaResponseBody(typeUrl, versionOf(to), all, removed))) };
          variants.set(key, v);
        }
        return v;
      },
    };
    byFrom.set(from, step);
  }
  return step;
}
