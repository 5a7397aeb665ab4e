import { ENVOY_PUSH_ORDER, TYPE } from '../resources/type-urls.js';
import { deltaStep, EMPTY, endpointsFor, keepHeld, namesOf, sotwBody, subscription, subset, type Subscription } from './shared-sets.js';
import { resourcesFor, versionOf, type EncodedResource, type Snapshot, type TypeResources } from './snapshot.js';
import { nonceField, type Response, type SharedBody } from './wire.js';

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
  /** The names subscribed to, in a form shared by every stream naming the same ones. */
  sub: Subscription;
  /** Bumped whenever the subscription changes. */
  subSeq: number;
  /**
   * What the client has acknowledged, by resource name. Never changed in place: it is the very
   * set that was sent (shared with every stream sent the same), or a new one.
   */
  acked: TypeResources;
  ackedVersion?: string;
  /** The response awaiting an answer: what it makes the client hold once ACKed. */
  inflight?: { nonce: string; version: string; desired: TypeResources; from: TypeResources; subSeq: number; changed: readonly EncodedResource[]; removed: readonly string[]; sentAt: number };
  /** The nonce of the last response sent for this type. */
  lastNonce?: string;
  nack?: Nack;
  /** The last check that the required names are subscribed to (they change with the snapshot, the subscription rarely). */
  required?: { names: readonly string[]; subSeq: number; ok: boolean };
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
  /** A response to write: its body is shared with the other streams sent the same (see wire.ts). */
  send(response: Response, typeUrl: string, resourceCount: number): void;
  acked(typeUrl: string, version: string): void;
  nacked(typeUrl: string, nack: Nack): void;
  /** Every subscribed type holds the current snapshot (make-before-break finished). */
  converged(snapshot: Snapshot): void;
  /** A type this stream's identity has no right to was asked for: it gets an empty set. */
  denied?(typeUrl: string): void;
  /** Every subscribed type holds the snapshot as last delivered (also after a change of the older policies kept only). */
  settled?(snapshot: Snapshot): void;
}

/**
 * One xDS stream's state machine, shared by state-of-the-world and delta. It sends at most one
 * response per type at a time and walks the types in make-before-break order: clusters (old
 * ones kept), endpoints, secrets, listeners, routes, companion types; then the final clusters
 * without the removed ones. A NACKed version is never resent; the client keeps what it last
 * acknowledged, and the next snapshot is tried afresh.
 *
 * What is the same for every stream of a fleet (the sets to hold at each stage, their versions,
 * the response bodies) comes from shared-sets.ts, computed once; a session holds only its own
 * ACK state, as references to those shared sets.
 */
export class Session {
  private readonly types = new Map<string, TypeState>();
  private snapshot?: Snapshot;
  private phase: 'make' | 'break' | 'idle' = 'idle';
  private nonceSeq = 0;
  private convergedVersion?: string;
  private stageList?: string[][];
  /**
   * Clusters just sent changed whose endpoints did not: Envoy warms a changed cluster and
   * waits for its ClusterLoadAssignment again (initial_fetch_timeout, 15 s, then it would run
   * with none), so those assignments are sent again after the clusters, unchanged.
   */
  private readonly rewarm = new Set<string>();
  /** Shared bodies this stream was sent: sent again, one goes with a nonce of the stream's own. */
  private readonly sentShared = new WeakSet<SharedBody>();

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
      st = { typeUrl: req.typeUrl, wildcard: false, sub: NO_NAMES, subSeq: 0, acked: EMPTY };
      this.types.set(req.typeUrl, st);
      this.stageList = undefined;
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
        if (this.mode === 'sotw' || (st.acked === sent.from && st.subSeq === sent.subSeq)) {
          // What was sent is what the client now holds: the shared set itself.
          st.acked = sent.desired;
        } else {
          // The subscription changed while the response was in flight: apply the response to
          // what the client holds now.
          const next = new Map(st.acked);
          for (const r of sent.changed) next.set(r.name, r);
          for (const name of sent.removed) next.delete(name);
          st.acked = next;
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

  private setNames(st: TypeState, names: Iterable<string>): void {
    st.sub = subscription(names);
    st.subSeq++;
  }

  private subscribeFirst(st: TypeState, req: SessionRequest): void {
    if (this.mode === 'sotw') {
      const names = req.resourceNames ?? [];
      st.wildcard = names.length === 0 ? WILDCARD_TYPES.has(st.typeUrl) || !isEnvoyType(st.typeUrl) : names.includes('*');
      this.setNames(st, names.filter((n) => n !== '*'));
      // Resume: a client that reconnects holding exactly what we would send gets nothing new.
      if (req.versionInfo && this.snapshot) {
        const desired = this.desired(st);
        if (versionOf(desired) === req.versionInfo) { st.acked = desired; st.ackedVersion = req.versionInfo; }
      }
    } else {
      const sub = req.subscribe ?? [];
      st.wildcard = sub.length === 0 ? WILDCARD_TYPES.has(st.typeUrl) || !isEnvoyType(st.typeUrl) : sub.includes('*');
      this.setNames(st, sub.filter((n) => n !== '*'));
      if (req.initialVersions && this.snapshot) {
        const all = this.allowed(st.typeUrl) ? resourcesFor(this.snapshot, this.fleet, st.typeUrl) : EMPTY;
        const held: TypeResources = new Map();
        for (const [name, version] of Object.entries(req.initialVersions)) {
          const r = all.get(name);
          if (r && r.version === version) held.set(name, r);
          else held.set(name, { name, typeUrl: st.typeUrl, version, any: new Uint8Array(), body: null });
        }
        st.acked = held;
      }
    }
  }

  private updateNames(st: TypeState, req: SessionRequest): void {
    if (this.mode === 'sotw') {
      if (req.resourceNames === undefined) return;
      if (req.resourceNames.includes('*')) st.wildcard = true;
      else if (req.resourceNames.length > 0 || !st.wildcard) {
        st.wildcard = req.resourceNames.length === 0 && WILDCARD_TYPES.has(st.typeUrl);
        // An ACK repeats the names it has: only a different list is a change.
        if (!sameNames(st.sub, req.resourceNames)) this.setNames(st, req.resourceNames);
      }
    } else {
      const subscribe = req.subscribe ?? [];
      const unsubscribe = req.unsubscribe ?? [];
      if (!subscribe.length && !unsubscribe.length) return;
      const names = new Set(st.sub.names);
      let acked: TypeResources | undefined;
      for (const n of subscribe) { if (n === '*') st.wildcard = true; else names.add(n); }
      for (const n of unsubscribe) {
        if (n === '*') st.wildcard = false;
        else {
          names.delete(n);
          if (st.acked.has(n)) { acked ??= new Map(st.acked); acked.delete(n); }
        }
      }
      if (acked) st.acked = acked;
      this.setNames(st, names);
    }
  }

  /** The resources this stream should hold for a type right now (a shared set). */
  private desired(st: TypeState): TypeResources {
    if (!this.allowed(st.typeUrl)) return EMPTY;
    const all = resourcesFor(this.snapshot!, this.fleet, st.typeUrl);
    // Make before break: keep the clusters (and their endpoints) the client still routes to
    // until its routes have moved on.
    const base = (st.typeUrl === TYPE.cluster || st.typeUrl === TYPE.endpoint) && this.phase === 'make' ? keepHeld(all, st.acked) : all;
    return st.wildcard ? base : subset(base, st.sub);
  }

  /**
   * Stages of make-before-break. Types of one stage may be in flight together (Envoy ACKs a
   * cluster only once its endpoints arrived, and a listener once its routes did); a stage
   * starts only when the one before is acknowledged.
   */
  private stages(): string[][] {
    if (this.stageList) return this.stageList;
    const companions = [...this.types.keys()].filter((t) => !ENVOY_PUSH_ORDER.includes(t)).sort();
    this.stageList = [[TYPE.cluster, TYPE.endpoint], [TYPE.secret, TYPE.listener, TYPE.route], companions];
    return this.stageList;
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
        const step = deltaStep(st.typeUrl, st.acked, desired);
        let again: EncodedResource[] = [];
        if (typeUrl === TYPE.endpoint && this.rewarm.size) {
          again = [...this.rewarm].filter((n) => desired.has(n) && !step.changed.some((r) => r.name === n)).map((n) => desired.get(n)!);
          this.rewarm.clear();
        }
        // Delta answers the first request of a type even when there is nothing in it, so the
        // client's initialisation does not wait forever.
        const upToDate = again.length === 0 && (this.mode === 'sotw'
          ? st.ackedVersion === version
          : step.changed.length === 0 && step.removed.length === 0 && (st.ackedVersion !== undefined || st.nack !== undefined));
        if (!upToDate) {
          settled = false;
          if (typeUrl === TYPE.cluster) {
            // Changed clusters the client holds (not new ones): their endpoints go again after them.
            for (const r of step.changed) if (st.acked.has(r.name)) this.rewarm.add(r.name);
          }
          if (st.nack?.version !== version) this.send(st, version, desired, again); // a rejected version is never resent
          continue;
        }
        if (!st.wildcard && !this.subscribedTo(st)) settled = false;
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

  /** Whether the stream subscribes to every name its type requires now. */
  private subscribedTo(st: TypeState): boolean {
    const names = this.requiredNames(st.typeUrl);
    const memo = st.required;
    if (memo && memo.names === names && memo.subSeq === st.subSeq) return memo.ok;
    const ok = names.every((n) => st.sub.names.has(n));
    st.required = { names, subSeq: st.subSeq, ok };
    return ok;
  }

  /**
   * Names a dependent type must be subscribed to before its stage counts as settled: the
   * endpoints of the clusters being sent, and the route configurations and secrets of the
   * listeners. Envoy asks for them by name once it has the clusters or listeners.
   */
  private requiredNames(typeUrl: string): readonly string[] {
    // An Envoy asks for listeners once its clusters are initialised: a client that takes
    // clusters is expected to take the listeners too.
    const parent = typeUrl === TYPE.endpoint || typeUrl === TYPE.listener ? TYPE.cluster : typeUrl === TYPE.route || typeUrl === TYPE.secret ? TYPE.listener : undefined;
    const p = parent ? this.types.get(parent) : undefined;
    if (!p || !this.allowed(typeUrl)) return NO_NAMES.sorted;
    const own = resourcesFor(this.snapshot!, this.fleet, typeUrl);
    if (typeUrl !== TYPE.endpoint) return namesOf(own);
    return endpointsFor(own, p.acked, p.inflight?.desired);
  }

  /**
   * Sends the shared response for `desired`. Its nonce is the shared body's, unique among
   * shared bodies; a stream sent the same body a second time (a subscription that went back to
   * an earlier set, endpoints sent again to warm a changed cluster) gets it with a nonce of its
   * own, so that no two responses on one stream carry the same nonce.
   */
  private send(st: TypeState, version: string, desired: TypeResources, again: readonly EncodedResource[] = []): void {
    let delta: { changed: readonly EncodedResource[]; removed: readonly string[]; shared: SharedBody } | undefined;
    if (this.mode === 'delta') {
      const step = deltaStep(st.typeUrl, st.acked, desired);
      const sent = again.length ? step.withAgain(again) : step;
      delta = { changed: sent.changed, removed: step.removed, shared: sent.body() };
    }
    const shared = delta ? delta.shared : sotwBody(st.typeUrl, desired);
    let response: Response = { shared };
    let nonce = shared.nonce;
    if (this.sentShared.has(shared)) {
      nonce = `${this.noncePrefix}-${++this.nonceSeq}`;
      response = { shared, ownNonce: nonceField(this.mode, nonce) };
    } else this.sentShared.add(shared);
    st.lastNonce = nonce;
    st.inflight = { nonce, version, desired, from: st.acked, subSeq: st.subSeq, changed: delta?.changed ?? [], removed: delta?.removed ?? [], sentAt: Date.now() };
    this.events.send(response, st.typeUrl, delta ? delta.changed.length : desired.size);
  }
}

const NO_NAMES = subscription([]);

/** Whether a request's list of names is the subscription already held. */
function sameNames(sub: Subscription, names: readonly string[]): boolean {
  if (names.length !== sub.sorted.length) return false;
  for (const n of names) if (!sub.names.has(n)) return false;
  return new Set(names).size === names.length;
}

function isEnvoyType(typeUrl: string): boolean {
  return typeUrl.startsWith('type.googleapis.com/envoy.');
}
