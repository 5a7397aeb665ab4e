import { importJWK, type JWK } from 'jose';
import { jwkFitsAlgorithm } from '../jwt-keys.js';
import { AuthzInternalError } from './responses.js';
import type { AuthzFetch, AuthzLogger, JsonWebKeySet, JwtAlgorithm } from './types.js';

type VerifyKey = CryptoKey | Uint8Array;

interface JwkSlot {
  kid?: string;
  jwk: Record<string, unknown>;
  imported?: Promise<VerifyKey>;
}

/**
 * The keys of one JWKS usable with one algorithm. Keys are imported lazily, once, on first use.
 */
export class JwkSet {
  private readonly slots: JwkSlot[];

  constructor(doc: JsonWebKeySet, readonly algorithm: JwtAlgorithm) {
    this.slots = doc.keys
      .filter((k) => k && typeof k === 'object' && jwkFitsAlgorithm(algorithm, k))
      .map((jwk) => (typeof jwk.kid === 'string' ? { kid: jwk.kid, jwk } : { jwk }));
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * The key for a token: by `kid` when the token names one; without a kid, the set's only
   * key. `ambiguous` when the token names no kid and the set holds several keys.
   */
  select(kid: unknown): { slot: JwkSlot } | { missing: true } | { ambiguous: true } {
    if (kid !== undefined) {
      const slot = typeof kid === 'string' ? this.slots.find((s) => s.kid === kid) : undefined;
      return slot ? { slot } : { missing: true };
    }
    if (this.slots.length === 1) return { slot: this.slots[0]! };
    return this.slots.length === 0 ? { missing: true } : { ambiguous: true };
  }

  /** The slot's key, imported for this set's algorithm; throws AuthzInternalError when the JWK is broken. */
  async key(slot: JwkSlot): Promise<VerifyKey> {
    slot.imported ??= importJWK(slot.jwk as JWK, this.algorithm) as Promise<VerifyKey>;
    try {
      return await slot.imported;
    } catch (e) {
      throw new AuthzInternalError('jwks key does not import', { kid: slot.kid, why: (e as Error).message });
    }
  }
}

interface UriState {
  sets: Map<JwtAlgorithm, JwkSet>;
  doc?: JsonWebKeySet;
  fetchedAt: number;
  lastAttempt: number;
  inflight?: Promise<void>;
}

export interface JwksCacheOptions {
  fetch?: AuthzFetch;
  logger: AuthzLogger;
  now: () => number;
  timeoutMs: number;
  ttlMs: number;
  refreshIntervalMs: number;
  maxBytes: number;
}

/**
 * JWKS documents fetched by URL: fetched with a timeout, cached for `ttlMs`, fetched again on
 * an unknown kid; at most one attempt per `refreshIntervalMs` per URL and one request in flight
 * per URL. A failed refresh keeps serving the last good document.
 */
export class JwksCache {
  private readonly byUri = new Map<string, UriState>();

  constructor(private readonly opts: JwksCacheOptions) {}

  /** The cached set for `uri` without fetching (used to check a cached token is still current). */
  peek(uri: string, alg: JwtAlgorithm): JwkSet | undefined {
    return this.setFor(this.byUri.get(uri), alg);
  }

  /** The set for `uri`, fetching when nothing usable is cached. Throws AuthzInternalError when there is none. */
  async get(uri: string, alg: JwtAlgorithm): Promise<JwkSet> {
    const state = this.state(uri);
    const fresh = state.doc !== undefined && this.opts.now() - state.fetchedAt < this.opts.ttlMs;
    if (!fresh) await this.load(uri, state);
    const set = this.setFor(state, alg);
    if (!set) throw new AuthzInternalError('jwks unavailable', { jwksUri: uri });
    return set;
  }

  /** Fetches `uri` again after an unknown kid, unless it was tried within the refresh interval. */
  async refresh(uri: string, alg: JwtAlgorithm): Promise<JwkSet | undefined> {
    const state = this.state(uri);
    await this.load(uri, state);
    return this.setFor(state, alg);
  }

  /** Starts fetching `uri` in the background (on update), so the first request finds it cached. */
  prefetch(uri: string): void {
    const state = this.state(uri);
    if (state.doc === undefined) void this.load(uri, state);
  }

  private state(uri: string): UriState {
    let s = this.byUri.get(uri);
    if (!s) {
      s = { sets: new Map(), fetchedAt: 0, lastAttempt: -Infinity };
      this.byUri.set(uri, s);
    }
    return s;
  }

  private setFor(state: UriState | undefined, alg: JwtAlgorithm): JwkSet | undefined {
    if (!state?.doc) return undefined;
    let set = state.sets.get(alg);
    if (!set) {
      set = new JwkSet(state.doc, alg);
      state.sets.set(alg, set);
    }
    return set;
  }

  /**
   * Fetches `uri` unless a fetch is in flight (then waits for it) or one was attempted within
   * the refresh interval (then returns at once): the endpoint sees at most one request per
   * interval, whatever the traffic, during an outage too. Never rejects.
   */
  private load(uri: string, state: UriState): Promise<void> {
    if (state.inflight) return state.inflight;
    if (this.opts.now() - state.lastAttempt < this.opts.refreshIntervalMs) return Promise.resolve();
    state.lastAttempt = this.opts.now();
    state.inflight = this.fetchDoc(uri)
      .then((doc) => {
        state.doc = doc;
        state.sets = new Map();
        state.fetchedAt = this.opts.now();
        this.opts.logger.debug?.({ jwksUri: uri, keys: doc.keys.length }, 'authz: jwks fetched');
      })
      .catch((e: unknown) => {
        this.opts.logger.warn({ jwksUri: uri, why: (e as Error).message, keptPrevious: state.doc !== undefined }, 'authz: jwks fetch failed');
      })
      .finally(() => {
        state.inflight = undefined;
      });
    return state.inflight;
  }

  private async fetchDoc(uri: string): Promise<JsonWebKeySet> {
    const fetchFn = this.opts.fetch;
    if (!fetchFn) throw new Error('no fetch function configured');
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`timed out after ${this.opts.timeoutMs} ms`);
        controller.abort(err);
        reject(err);
      }, this.opts.timeoutMs);
    });
    const download = async (): Promise<string> => {
      const res = await fetchFn(uri, { signal: controller.signal, headers: { accept: 'application/json, application/jwk-set+json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.text();
    };
    try {
      const text = await Promise.race([download(), timeout]);
      if (text.length > this.opts.maxBytes) throw new Error(`document larger than ${this.opts.maxBytes} bytes`);
      const doc = JSON.parse(text) as unknown;
      if (!doc || typeof doc !== 'object' || !Array.isArray((doc as JsonWebKeySet).keys)) throw new Error('not a JWKS (no "keys" list)');
      return doc as JsonWebKeySet;
    } finally {
      clearTimeout(timer);
    }
  }
}
