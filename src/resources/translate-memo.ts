import type { GatewayIR, IrListener, IrRoute } from '../ir/types.js';
import type { HttpFilter, TranslateSettings } from './filters/registry.js';
import { sameContent } from '../same-content.js';

export { sameContent };

/** What one entity's output was built from, and the output. */
interface Entry { input: unknown; value: unknown }

/**
 * What translate reuses from one build to the next: Envoy objects by the IR entity that
 * produced them. Pure (a cache in memory, no I/O). An entity (a route on one listener, a
 * service's cluster, its endpoints) is found by its name, and its object is reused when the
 * entity's content is the same as last time (sameContent: compared in place, no key text
 * built), so a build that takes an object from here gives the same resources as one that
 * builds it again, and the reused object is the same instance as last time (so its encoded
 * bytes and its checks are reused too, by identity).
 *
 * A route's output depends on the route and on a few things outside it that the filters read
 * (settings, global plugins, consumers, the plugins of every route, the filter chain): those
 * form the `context`; when it changes, nothing translated under the old one is reused.
 */
export class TranslateMemo {
  /** kind (e.g. `route|<listener>|<protocol>`, `cluster`) → entity name → entry. */
  private previous = new Map<string, Map<string, Entry>>();
  private current = new Map<string, Map<string, Entry>>();
  private interned = new Map<string, unknown>();
  private internedNow = new Map<string, unknown>();
  private context?: string;
  /** tag → IR object → what a filter derived from it (FilterContext.derive), under `context`. */
  private derived = new Map<string, WeakMap<object, unknown>>();
  /** Objects reused and built in the last build (a figure for benchmarks and tests). */
  hits = 0;
  misses = 0;

  /** Starts a build under `context`: entries of the last build stay reusable when the context is the same. */
  begin(context: string): void {
    const same = context === this.context;
    // A build that failed half-way left its entries in `current`: they are as good as the older ones.
    if (!same) { this.previous = new Map(); this.derived = new Map(); }
    else if (this.current.size) {
      for (const [kind, entries] of this.current) this.previous.set(kind, new Map([...(this.previous.get(kind) ?? []), ...entries]));
    }
    if (this.internedNow.size) this.interned = new Map([...this.interned, ...this.internedNow]);
    this.current = new Map();
    this.internedNow = new Map();
    this.context = context;
    this.hits = this.misses = 0;
  }

  /**
   * The object built for the entity `name` of `kind` from `input`, in this build or the last,
   * when its input had the same content; built with `make` otherwise.
   */
  get<T>(kind: string, name: string, input: unknown, make: () => T): T {
    let now = this.current.get(kind);
    if (!now) this.current.set(kind, (now = new Map()));
    const seen = now.get(name) ?? this.previous.get(kind)?.get(name);
    if (seen && (seen.input === input || sameContent(seen.input, input))) {
      this.hits++;
      now.set(name, seen);
      return seen.value as T;
    }
    const value = make();
    this.misses++;
    now.set(name, { input, value });
    return value;
  }

  /** FilterContext.derive: what `make` gives for `of`, kept while the context stays the same (so for as long as `of` means the same). */
  readonly derive = <O extends object, A, T>(tag: string, of: O, make: (of: O, arg: A) => T, arg: A): T => {
    let m = this.derived.get(tag);
    if (!m) this.derived.set(tag, (m = new WeakMap()));
    if (m.has(of)) return m.get(of) as T;
    const v = make(of, arg);
    m.set(of, v);
    return v;
  };

  /**
   * `built` itself, or the object of equal content that an earlier build made (so that its
   * bytes and checks are reused): for what is cheap to build but would otherwise be new each
   * time (listeners, the filters' own clusters, secrets, companion resources).
   */
  intern<T>(kind: string, built: T): T {
    const key = `${kind}|${JSON.stringify(built)}`;
    const v = (this.internedNow.get(key) ?? this.interned.get(key) ?? built) as T;
    this.internedNow.set(key, v);
    return v;
  }

  /** Ends a build: what it did not use is dropped, so the cache holds one configuration's objects. */
  end(): void {
    this.previous = this.current;
    this.current = new Map();
    this.interned = this.internedNow;
    this.internedNow = new Map();
  }
}

/**
 * A deterministic text for a value of the IR: JSON, with bigints, Maps, Sets and byte arrays
 * spelled out. A function has no content to compare, so a value holding one gets a key of its
 * own (it is never reused).
 */
export function contentKey(value: unknown): string {
  let opaque = false;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && !Number.isFinite(v)) return `<${v}>`;
    if (typeof v === 'function' || typeof v === 'symbol') { opaque = true; return undefined; }
    if (v instanceof Map) return { '<map>': [...v] };
    if (v instanceof Set) return { '<set>': [...v] };
    if (v instanceof Uint8Array) return { '<bytes>': Buffer.from(v).toString('base64') };
    if (v instanceof RegExp) return { '<re>': String(v) };
    return v;
  }) ?? 'undefined';
  return opaque ? `${text}\u0000${++uniqueKeys}` : text;
}
let uniqueKeys = 0;

/**
 * The context the per-route outputs depend on beyond the route itself: what the filters read
 * from the whole IR (settings, global plugins, consumers, the plugins of every route that has
 * any, the services that ask for an adaptive_concurrency filter, the filter chain).
 */
export function translateContext(ir: GatewayIR, settings: TranslateSettings, filters: readonly HttpFilter[]): string {
  return contentKey({
    settings,
    filters: filters.map((f) => f.name),
    global: ir.globalPlugins,
    consumers: ir.consumers,
    adaptive: ir.backends.filter((b) => b.adaptiveConcurrency).map((b) => [b.name, b.adaptiveConcurrency]),
    // By id, not in Kong's order: what the filters gather over routes (ratelimit stages, whether
    // any route is protected or traced) does not depend on the order, which any path edit moves.
    plugins: ir.routes.filter(hasPlugins).map((r) => [r.id, r.routeName, r.service ?? null, r.plugins, r.consumerPlugins]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
  });
}

function hasPlugins(r: IrRoute): boolean {
  for (const _ in r.plugins) return true;
  for (const _ in r.consumerPlugins) return true;
  return false;
}

/** The memo kind of one listener's Envoy routes (a route's are found by its IR id). */
export function routeKind(l: IrListener): string {
  return `route|${l.name}|${l.protocol}`;
}
