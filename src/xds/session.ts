import { ENVOY_PUSH_ORDER, TYPE } from '../resources/type-urls.js';
import { resourcesFor, versionOf, type EncodedResource, type Snapshot, type TypeResources } from './snapshot.js';
import { encodeDeltaResponse, encodeDiscoveryResponse } from './wire.js';

/** Types whose subscription names all resources unless the client lists some. */
const WILDCARD_TYPES = new Set<string>([TYPE.cluster, TYPE.listener]);

export type Mode = 'sotw' | 'delta';

export interface Nack {
  version: string;
  detail: string;
  at: number;
}

interface TypeState {
  typeUrl: string;
  wildcard: boolean;
  names: Set<string>;
  /** What the client has acknowledged, by resource name. */
  acked: Map<string, EncodedResource>;
  ackedVersion?: string;
  inflight?: { nonce: string; version: string; resources: Map<string, EncodedResource>; removed: string[]; sentAt: number };
  /** The nonce of the last response sent for this type. */
  lastNonce?: string;
  nack?: Nack;
}

/** A summary of a request, the same for both protocol variants. */
export interface SessionRequest {
  typeUrl: string;
  nonce: string;
  errorDetail?: string;
  /** SotW: the version the client has (ACK or resume). */
  versionInfo?: string;
  /** SotW: the full list of names the client wants now. */
  resourceNames?: string[];
  /** Delta: changes to the subscription. */
  subscribe?: string[];
  unsubscribe?: string[];
  /** Delta, first request of a type: what the client already holds. */
  initialVersions?: Record<string, string>;
}

export interface SessionEvents {
  send(bytes: Uint8Array, typeUrl: string, resourceCount: number): void;
  acked(typeUrl: string, version: string): void;
  nacked(typeUrl: string, nack: Nack): void;
  /** Every subscribed type holds the current snapshot (make-before-break finished). */
  converged(snapshot: Snapshot): void;
  /** A type this stream's identity has no right to was asked for: it gets an empty set. */
  denied?(typeUrl: string): void;
  /** Every subscribed type holds the snapshot as last delivered (also after a change of the older policies kept only). */
  settled?(snapshot: Snapshot): void;
}

const NOTHING: TypeResources = new Map();

/**
 * One xDS stream's state machine, shared by state-of-the-world and delta. It sends at most one
 * response per type at a time and walks the types in make-before-break order: clusters (old
 * ones kept), endpoints, secrets, listeners, routes, companion types; then the final clusters
 * without the removed ones. A NACKed version is never resent; the client keeps what it last
 * acknowledged, and the next snapshot is tried afresh.
 */
export class Session {
  private readonly types = new Map<string, TypeState>();
  private snapshot?: Snapshot;
  private phase: 'make' | 'break' | 'idle' = 'idle';
  private nonceSeq = 0;
  private convergedVersion?: string;
  /**
   * Clusters just sent changed whose endpoints did not: Envoy warms a changed cluster and
   * waits for its ClusterLoadAssignment again (initial_fetch_timeout, 15 s, then it would run
   * with none), so those assignments are sent again after the clusters, unchanged.
   */
  private rewarm = new Set<string>();

  constructor(
    readonly mode: Mode,
    readonly fleet: string,
    private readonly events: SessionEvents,
    private readonly noncePrefix: string,
    /** Whether the stream's identity may hold a type; a type it may not is answered with nothing. */
    private readonly allowed: (typeUrl: string) => boolean = () => true,
  ) {}

  /** A new snapshot to deliver. */
  setSnapshot(s: Snapshot): void {
    if (this.snapshot?.version === s.version && this.snapshot.retained === s.retained) return;
    this.snapshot = s;
    this.phase = 'make';
    this.advance();
  }

  /** Whether the stream holds every type of `s` (as delivered, older policies included). */
  holds(s: Snapshot): boolean {
    return this.snapshot === s && this.phase === 'idle';
  }

  /** Whether this stream is a proxy's (it takes clusters or listeners), not a companion's. */
  servesProxy(): boolean {
    return this.types.has(TYPE.cluster) || this.types.has(TYPE.listener);
  }

  /** What the client has acknowledged per type, for /status. */
  status(): Record<string, { ackedVersion?: string; nack?: Nack; resources: number }> {
    const out: Record<string, { ackedVersion?: string; nack?: Nack; resources: number }> = {};
    for (const st of this.types.values()) out[st.typeUrl] = { ackedVersion: st.ackedVersion, nack: st.nack, resources: st.acked.size };
    return out;
  }

  /** Handles one DiscoveryRequest / DeltaDiscoveryRequest. */
  handle(req: SessionRequest): void {
    let st = this.types.get(req.typeUrl);
    if (!st) {
      st = { typeUrl: req.typeUrl, wildcard: false, names: new Set(), acked: new Map() };
      this.types.set(req.typeUrl, st);
      if (!this.allowed(req.typeUrl)) this.events.denied?.(req.typeUrl);
      this.subscribeFirst(st, req);
    } else if (req.nonce) {
      if (req.nonce !== st.lastNonce) {
        // A stale nonce answers a response since replaced: SotW ignores it; delta subscription
        // changes are incremental and still apply.
        if (this.mode === 'delta') { this.updateNames(st, req); this.advance(); }
        return;
      }
      if (!st.inflight) {
        // The latest response was answered already: this request changes the subscription.
        this.updateNames(st, req);
        this.advance();
        return;
      }
      const sent = st.inflight;
      st.inflight = undefined;
      if (req.errorDetail) {
        st.nack = { version: sent.version, detail: req.errorDetail, at: Date.now() };
        this.events.nacked(st.typeUrl, st.nack);
      } else {
        if (this.mode === 'sotw') st.acked = sent.resources;
        else {
          for (const [name, r] of sent.resources) st.acked.set(name, r);
          for (const name of sent.removed) st.acked.delete(name);
        }
        st.ackedVersion = sent.version;
        if (st.nack && st.nack.version !== sent.version) st.nack = undefined;
        this.events.acked(st.typeUrl, sent.version);
      }
      this.updateNames(st, req);
    } else {
      this.updateNames(st, req);
    }
    this.advance();
  }

  private subscribeFirst(st: TypeState, req: SessionRequest): void {
    if (this.mode === 'sotw') {
      const names = req.resourceNames ?? [];
      st.wildcard = names.length === 0 ? WILDCARD_TYPES.has(st.typeUrl) || !isEnvoyType(st.typeUrl) : names.includes('*');
      st.names = new Set(names.filter((n) => n !== '*'));
      // Resume: a client that reconnects holding exactly what we would send gets nothing new.
      if (req.versionInfo && this.snapshot) {
        const desired = this.desired(st);
        if (versionOf(desired) === req.versionInfo) { st.acked = desired; st.ackedVersion = req.versionInfo; }
      }
    } else {
      const sub = req.subscribe ?? [];
      st.wildcard = sub.length === 0 ? WILDCARD_TYPES.has(st.typeUrl) || !isEnvoyType(st.typeUrl) : sub.includes('*');
      st.names = new Set(sub.filter((n) => n !== '*'));
      if (req.initialVersions && this.snapshot) {
        const all = this.allowed(st.typeUrl) ? resourcesFor(this.snapshot, this.fleet, st.typeUrl) : NOTHING;
        for (const [name, version] of Object.entries(req.initialVersions)) {
          const r = all.get(name);
          if (r && r.version === version) st.acked.set(name, r);
          else st.acked.set(name, { name, typeUrl: st.typeUrl, version, any: new Uint8Array(), body: null });
        }
      }
    }
  }

  private updateNames(st: TypeState, req: SessionRequest): void {
    if (this.mode === 'sotw') {
      if (req.resourceNames === undefined) return;
      if (req.resourceNames.includes('*')) st.wildcard = true;
      else if (req.resourceNames.length > 0 || !st.wildcard) { st.wildcard = req.resourceNames.length === 0 && WILDCARD_TYPES.has(st.typeUrl); st.names = new Set(req.resourceNames); }
    } else {
      for (const n of req.subscribe ?? []) { if (n === '*') st.wildcard = true; else st.names.add(n); }
      for (const n of req.unsubscribe ?? []) {
        if (n === '*') st.wildcard = false;
        else { st.names.delete(n); st.acked.delete(n); }
      }
    }
  }

  /** The resources this stream should hold for a type right now. */
  private desired(st: TypeState): TypeResources {
    if (!this.allowed(st.typeUrl)) return NOTHING;
    const all = resourcesFor(this.snapshot!, this.fleet, st.typeUrl);
    let base = all;
    if ((st.typeUrl === TYPE.cluster || st.typeUrl === TYPE.endpoint) && this.phase === 'make' && st.acked.size) {
      // Make before break: keep the clusters (and their endpoints) the client still routes to
      // until its routes have moved on.
      base = new Map(all);
      for (const [name, r] of st.acked) if (!base.has(name) && r.body !== null) base.set(name, r);
      base = new Map([...base].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    if (st.wildcard) return base;
    // Subscribed to every resource there is (the common case for EDS): the snapshot's own map,
    // whose version is computed once.
    if (st.names.size === base.size && [...base.keys()].every((n) => st.names.has(n))) return base;
    const out: TypeResources = new Map();
    for (const name of [...st.names].sort()) { const r = base.get(name); if (r) out.set(name, r); }
    return out;
  }

  private diff(st: TypeState, desired: TypeResources): { changed: EncodedResource[]; removed: string[] } {
    const changed = [...desired.values()].filter((r) => st.acked.get(r.name)?.version !== r.version);
    const removed = [...st.acked.keys()].filter((n) => !desired.has(n)).sort();
    return { changed, removed };
  }

  /**
   * Stages of make-before-break. Types of one stage may be in flight together (Envoy ACKs a
   * cluster only once its endpoints arrived, and a listener once its routes did); a stage
   * starts only when the one before is acknowledged.
   */
  private stages(): string[][] {
    const companions = [...this.types.keys()].filter((t) => !ENVOY_PUSH_ORDER.includes(t)).sort();
    return [[TYPE.cluster, TYPE.endpoint], [TYPE.secret, TYPE.listener, TYPE.route], companions];
  }

  /** Sends what each type needs, stage by stage; stops at the first stage not yet settled. */
  private advance(): void {
    if (!this.snapshot || this.types.size === 0) return;
    for (const stage of this.stages()) {
      let settled = true;
      for (const typeUrl of stage) {
        const st = this.types.get(typeUrl);
        if (!st) {
          if (this.requiredNames(typeUrl).length) settled = false; // Envoy has yet to ask for them
          continue;
        }
        if (st.inflight) { settled = false; continue; }
        const desired = this.desired(st);
        const version = versionOf(desired);
        const { changed, removed } = this.diff(st, desired);
        const rewarm = typeUrl === TYPE.endpoint ? [...this.rewarm].filter((n) => desired.has(n) && !changed.some((r) => r.name === n)) : [];
        if (typeUrl === TYPE.endpoint) this.rewarm.clear();
        // Delta answers the first request of a type even when there is nothing in it, so the
        // client's initialisation does not wait forever.
        const upToDate = rewarm.length === 0 && (this.mode === 'sotw'
          ? st.ackedVersion === version
          : changed.length === 0 && removed.length === 0 && (st.ackedVersion !== undefined || st.nack !== undefined));
        if (!upToDate) {
          settled = false;
          if (typeUrl === TYPE.cluster) {
            // Changed clusters the client holds (not new ones): their endpoints go again after them.
            for (const r of changed) if (st.acked.has(r.name)) this.rewarm.add(r.name);
          }
          const again = rewarm.map((n) => desired.get(n)!);
          if (st.nack?.version !== version) this.send(st, version, desired, [...changed, ...again], removed); // a rejected version is never resent
          continue;
        }
        if (!st.wildcard && !this.requiredNames(typeUrl).every((n) => st.names.has(n))) settled = false;
      }
      if (!settled) return;
    }
    if (this.phase === 'make') {
      this.phase = 'break';
      this.advance();
      return;
    }
    if (this.phase === 'break') {
      this.phase = 'idle';
      this.events.settled?.(this.snapshot);
      if (this.convergedVersion !== this.snapshot.version) {
        this.convergedVersion = this.snapshot.version;
        this.events.converged(this.snapshot);
      }
    }
  }

  /**
   * Names a dependent type must be subscribed to before its stage counts as settled: the
   * endpoints of the clusters being sent, and the route configurations and secrets of the
   * listeners. Envoy asks for them by name once it has the clusters or listeners.
   */
  private requiredNames(typeUrl: string): string[] {
    // An Envoy asks for listeners once its clusters are initialised: a client that takes
    // clusters is expected to take the listeners too.
    const parent = typeUrl === TYPE.endpoint || typeUrl === TYPE.listener ? TYPE.cluster : typeUrl === TYPE.route || typeUrl === TYPE.secret ? TYPE.listener : undefined;
    const p = parent ? this.types.get(parent) : undefined;
    if (!p || !this.allowed(typeUrl)) return [];
    const own = resourcesFor(this.snapshot!, this.fleet, typeUrl);
    if (typeUrl !== TYPE.endpoint) return [...own.keys()];
    const clusters = p.inflight ? [...p.inflight.resources.keys(), ...p.acked.keys()] : [...p.acked.keys()];
    return [...new Set(clusters)].filter((n) => own.has(n));
  }

  private send(st: TypeState, version: string, desired: TypeResources, changed: EncodedResource[], removed: string[]): void {
    const nonce = `${this.noncePrefix}-${++this.nonceSeq}`;
    const bytes = this.mode === 'sotw'
      ? encodeDiscoveryResponse(st.typeUrl, version, nonce, desired.values())
      : encodeDeltaResponse(st.typeUrl, version, nonce, changed, removed);
    st.lastNonce = nonce;
    st.inflight = { nonce, version, resources: this.mode === 'sotw' ? desired : new Map(changed.map((r) => [r.name, r])), removed, sentAt: Date.now() };
    this.events.send(bytes, st.typeUrl, this.mode === 'sotw' ? desired.size : changed.length);
  }
}

function isEnvoyType(typeUrl: string): boolean {
  return typeUrl.startsWith('type.googleapis.com/envoy.');
}
