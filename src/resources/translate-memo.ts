import type { GatewayIR, IrListener, IrRoute } from '../ir/types.js';
import type { HttpFilter, TranslateSettings } from './filters/registry.js';

/**
 * What translate reuses from one build to the next: Envoy objects keyed by the content of the
 * IR entity that produced them. Pure (a cache in memory, no I/O): the same key always stands
 * for the same output, so a build that takes an object from here gives the same resources as
 * one that builds it again, and the reused object is the same instance as last time (so its
 * encoded bytes and its checks are reused too, by identity).
 *
 * A route's output depends on the route and on a few things outside it that the filters read
 * (settings, global plugins, consumers, the plugins of every route, the filter chain): those
 * form the `context`; when it changes, nothing translated under the old one is reused.
 */
export class TranslateMemo {
  private previous = new Map<string, unknown>();
  private current = new Map<string, unknown>();
  private context?: string;
  /** Objects reused and built in the last build (a figure for benchmarks and tests). */
  hits = 0;
  misses = 0;

  /** Starts a build under `context`: entries of the last build stay reusable when the context is the same. */
  begin(context: string): void {
    const same = context === this.context;
    // A build that failed half-way left its entries in `current`: they are as good as the older ones.
    if (this.current.size) this.previous = same ? new Map([...this.previous, ...this.current]) : new Map();
    else if (!same) this.previous = new Map();
    this.current = new Map();
    this.context = context;
    this.hits = this.misses = 0;
  }

  /** The object built for `key`, in this build or the last; built with `make` when neither has it. */
  get<T>(key: string, make: () => T): T {
    let v = this.current.get(key) as T | undefined;
    if (v === undefined) {
      v = this.previous.get(key) as T | undefined;
      if (v === undefined) {
        v = make();
        this.misses++;
      } else this.hits++;
      this.current.set(key, v);
    } else this.hits++;
    return v;
  }

  /**
   * `built` itself, or the object of equal content that an earlier build made (so that its
   * bytes and checks are reused): for what is cheap to build but would otherwise be new each
   * time (listeners, the filters' own clusters, secrets, companion resources).
   */
  intern<T>(kind: string, built: T): T {
    const key = `${kind}|${JSON.stringify(built)}`;
    const v = (this.current.get(key) ?? this.previous.get(key) ?? built) as T;
    this.current.set(key, v);
    return v;
  }

  /** Ends a build: what it did not use is dropped, so the cache holds one configuration's objects. */
  end(): void {
    this.previous = this.current;
    this.current = new Map();
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

/**
 * The key of one route's Envoy routes on one listener. A route's own fields are plain JSON
 * (ir/types.ts) but for its priority, so they take the fast JSON.stringify; its plugins, whose
 * features may hold anything, the careful contentKey.
 */
export function routeKey(l: IrListener, r: IrRoute): string {
  const own = JSON.stringify({ ...r, priority: String(r.priority), plugins: undefined, consumerPlugins: undefined });
  return `route|${l.name}|${l.protocol}|${own}|${hasPlugins(r) ? contentKey([r.plugins, r.consumerPlugins]) : ''}`;
}
