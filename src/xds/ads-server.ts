import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { bindServer, callIdentity, serverCredentials, stopServer } from '../grpc-js-server.js';
import type protobuf from 'protobufjs';
import type { Logger } from '../logger.js';
import { CONTENT_ADDRESSED_TYPES } from '../contracts/companion.js';
import { shortType } from '../resources/type-urls.js';
import { messageType } from './proto-registry.js';
import { nackReason } from './nack-reason.js';
import { Session, type Mode, type Nack, type SessionRequest } from './session.js';
import { withRetainedPolicies, type Snapshot } from './snapshot.js';
import { framedResponse, responseBytes, type Response } from './wire.js';
import { StreamWriter, WriteBudget } from './write-queue.js';
import { describeIdentity, type Identity, type TlsSource } from '../tls.js';
import { compareText } from '../text-order.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

/** What an older snapshot contributes to the delivered one (withRetainedPolicies): its content-addressed policies. */
function policiesOf(s: Snapshot): Snapshot {
  const companions = new Map([...s.companions].filter(([typeUrl]) => CONTENT_ADDRESSED_TYPES.has(typeUrl)));
  return { version: s.version, fleets: new Map(), companions, createdAt: s.createdAt };
}

/** Streams handed a new snapshot per turn of the event loop. */
const PUSH_BATCH = 16;

export interface AdsServerOptions {
  /**
   * How long an older version's policies stay served to the companions once no connected
   * Envoy references them (it moved on, or its stream dropped and it still routes by them
   * until it reconnects). Default 30 s.
   */
  retainMs?: number;
  /** How long a new version waits for the companions to hold its policies before Envoys get it anyway. Default 2 s. */
  companionWaitMs?: number;
  /** Bytes of responses being written to all streams at once (see write-queue.ts). Default 32 MiB. */
  writeBudgetBytes?: number;
}

/**
 * grpc-js frames every message it sends into a new buffer (a copy of the serialized bytes, per
 * stream). A response whose bytes are a shared body is already a whole gRPC message
 * (wire.ts: SharedBody.framed): this makes a stream's call write those bytes as they are, so a
 * push to a thousand nodes references one buffer instead of making a thousand copies of it.
 * Returns false when the call does not have the shape this relies on (another grpc-js): the
 * stream then works as before, with a copy per write.
 */
function writeSharedFrames(call: unknown): boolean {
  let c = (call as { call?: unknown }).call as { serializeMessage?: unknown; stream?: unknown; nextCall?: unknown } | undefined;
  for (let depth = 0; c && depth < 8; depth++) {
    if (typeof c.serializeMessage === 'function' && c.stream !== undefined) {
      const serialize = (c.serializeMessage as (v: unknown) => Buffer).bind(c);
      c.serializeMessage = (value: unknown) => (isResponse(value) ? framedResponse(value) : serialize(value));
      return true;
    }
    c = c.nextCall as typeof c;
  }
  return false;
}

function isResponse(v: unknown): v is Response {
  return typeof v === 'object' && v !== null && 'shared' in v;
}

/**
 * An ADS method whose requests arrive as bytes and whose responses leave as Responses (wire.ts):
 * a shared message, written as it is (writeSharedFrames), or with the stream's own nonce.
 */
function adsMethod(path: string): grpc.MethodDefinition<Uint8Array, Response> {
  return {
    path, requestStream: true, responseStream: true,
    requestSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: responseBytes,
    responseDeserialize: (b: Buffer) => ({ shared: { framed: b, bodyLength: b.length, nonce: '' } }),
  };
}

/** What /status shows for one connected xDS client. */
export interface NodeStatus {
  id: string;
  cluster: string;
  /** The identity of its client certificate (mTLS), e.g. spiffe://frontdesk/envoy/web; 'none' on plaintext. */
  identity: string;
  stream: number;
  mode: Mode;
  connectedAt: string;
  /** ACKed version and last NACK per resource type (short names: CDS, EDS, LDS, RDS, ...). */
  types: Record<string, { ackedVersion?: string; resources: number; lastNack?: { version: string; detail: string; at: string } }>;
  /** The last snapshot this node fully holds. */
  convergedVersion?: string;
}

export interface AdsServerEvents {
  /** A node holds every type of a snapshot: `ms` is from snapshot creation to the last ACK. */
  converged: [nodeId: string, version: string, ms: number];
  nack: [nodeId: string, typeUrl: string, nack: Nack];
  push: [nodeId: string, typeUrl: string, resources: number];
  /** A response of `push` was taken by the transport (its bytes handed to the stream). */
  written: [nodeId: string, typeUrl: string];
  ack: [nodeId: string, typeUrl: string, version: string];
  connect: [nodeId: string];
  disconnect: [nodeId: string];
  /** A subscription outside the identity's rights: answered with nothing. */
  denied: [nodeId: string, identity: string, typeUrl: string];
}

/**
 * mTLS for the ADS port: every client shows a certificate of the CA, and what it may hold is
 * decided by the identity in it, never by the node id or cluster it claims.
 */
export interface AdsTls {
  source: TlsSource;
  /** Whether `identity` may hold resources of `typeUrl`. */
  allowed(identity: Identity, typeUrl: string): boolean;
}

interface StreamInfo {
  id: number;
  nodeId: string;
  cluster: string;
  identity: string;
  session: Session;
  connectedAt: number;
  lastNacks: Map<string, Nack>;
  convergedVersion?: string;
  /**
   * The configuration versions whose routes this stream's client may be using: the last one
   * it fully holds and every one delivered since (pending, or refused in part by a NACK).
   */
  refs: Set<string>;
}

/**
 * The aggregated discovery service (ADS): state-of-the-world and delta on one gRPC port, for
 * Envoys and companion services alike. It never builds resources; it delivers snapshots.
 *
 * Policies are named by their content and Envoy names the one it routes by per request, so the
 * companions are served the current snapshot's policies together with those of every version
 * a connected Envoy holds or has pending (and, for a while, of the versions it just left): an
 * Envoy that refuses an update, or is a moment behind, finds its policies in every companion.
 * A new version reaches the companions first and the Envoys once the companions hold it.
 */
export class AdsServer extends EventEmitter<AdsServerEvents> {
  private readonly server = new grpc.Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  private readonly streams = new Map<number, StreamInfo>();
  private streamSeq = 0;
  /** The configuration's snapshot (what `snapshot` returns). */
  private base?: Snapshot;
  /** The snapshot as delivered: `base` plus the older policies still referenced. */
  private current?: Snapshot;
  /**
   * The configuration snapshots whose policies may still be served, by version: their
   * content-addressed policies only (see policiesOf), so a version kept for its policies does
   * not keep its routes, clusters and their encodings alive.
   */
  private readonly history = new Map<string, Snapshot>();
  /** Versions no stream references any more, served until the time given. */
  private readonly grace = new Map<string, number>();
  private expiry?: NodeJS.Timeout;
  private companionWait?: { snapshot: Snapshot; proceed: () => void; timer: NodeJS.Timeout };
  private readonly retainMs: number;
  private readonly companionWaitMs: number;
  private readonly requestType: protobuf.Type;
  private readonly deltaRequestType: protobuf.Type;
  private readonly log: Logger;
  private readonly debug: boolean;
  private readonly budget: WriteBudget;
  /** Streams whose writes reference the shared bodies (no copy per write), and those that copy. */
  private readonly writePath = { shared: 0, copied: 0 };

  constructor(logger: Logger, private readonly tls?: AdsTls, options: AdsServerOptions = {}) {
    super();
    this.budget = new WriteBudget(options.writeBudgetBytes);
    this.retainMs = options.retainMs ?? 30_000;
    this.companionWaitMs = options.companionWaitMs ?? 2_000;
    this.log = logger.child({ component: 'xds' });
    // Per-request debug lines cost an object each even when dropped: built only when they are kept.
    this.debug = (this.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') ?? true;
    this.requestType = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    this.deltaRequestType = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    const definition: grpc.ServiceDefinition = {
      StreamAggregatedResources: adsMethod(`${SERVICE}/StreamAggregatedResources`),
      DeltaAggregatedResources: adsMethod(`${SERVICE}/DeltaAggregatedResources`),
    };
    this.server.addService(definition, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<Uint8Array, Response>) => this.onStream(call, 'sotw'),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<Uint8Array, Response>) => this.onStream(call, 'delta'),
    });
  }

  /** Starts serving; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return bindServer(this.server, host, port, serverCredentials(this.tls?.source));
  }

  /** Stops accepting streams and ends the open ones. */
  close(): Promise<void> {
    clearTimeout(this.expiry);
    if (this.companionWait) clearTimeout(this.companionWait.timer);
    this.companionWait = undefined;
    return stopServer(this.server, 1000);
  }

  /** How many streams were opened writing shared bodies as they are, and how many with a copy per write. */
  get writes(): { sharedStreams: number; copyingStreams: number } {
    return { sharedStreams: this.writePath.shared, copyingStreams: this.writePath.copied };
  }

  /** The current configuration's snapshot. */
  get snapshot(): Snapshot | undefined {
    return this.base;
  }

  /** The snapshot as delivered: the current one, with the older policies companions still serve. */
  get delivered(): Snapshot | undefined {
    return this.current;
  }

  /** Delivers a snapshot to every stream. A snapshot equal to the current one does nothing. */
  setSnapshot(s: Snapshot): void {
    if (this.base?.version === s.version) return;
    this.base = s;
    this.history.set(s.version, policiesOf(s));
    this.grace.delete(s.version);
    this.publish(true);
  }

  /** The configuration versions some Envoy may route by now (the current one included). */
  private referenced(): Set<string> {
    const out = new Set<string>(this.base ? [this.base.version] : []);
    for (const info of this.streams.values()) if (info.session.servesProxy()) for (const v of info.refs) out.add(v);
    const now = Date.now();
    for (const [v, until] of this.grace) {
      if (until > now) out.add(v);
      else this.grace.delete(v);
    }
    return out;
  }

  /** Versions a stream no longer references stay served for retainMs. */
  private release(versions: Iterable<string>): void {
    const until = Date.now() + this.retainMs;
    for (const v of versions) if (v !== this.base?.version) this.grace.set(v, Math.max(this.grace.get(v) ?? 0, until));
  }

  /**
   * Recomputes the policies served beside the current ones and delivers the result. A new
   * configuration goes to the companions first and to the proxies once every companion holds
   * it (or after companionWaitMs), so no Envoy names a policy a companion has yet to receive.
   */
  private publish(newConfig: boolean): void {
    const base = this.base;
    if (!base) return;
    const refs = this.referenced();
    for (const v of [...this.history.keys()]) if (!refs.has(v)) this.history.delete(v);
    const older = [...refs].map((v) => this.history.get(v)).filter((x): x is Snapshot => x !== undefined);
    const s = withRetainedPolicies(base, older);
    this.scheduleExpiry();
    if (this.current && this.current.version === s.version && this.current.retained === s.retained) return;
    // A change of the retained policies only, while a new version waits for the companions, still waits.
    const waits = newConfig || this.companionWait !== undefined;
    if (this.companionWait) { clearTimeout(this.companionWait.timer); this.companionWait = undefined; }
    this.current = s;
    const streams = [...this.streams.values()];
    const companions = streams.filter((i) => !i.session.servesProxy());
    const proxies = streams.filter((i) => i.session.servesProxy());
    this.deliver(s, companions);
    const late = () => companions.filter((i) => this.streams.has(i.id) && !i.session.holds(s));
    if (!waits || late().length === 0) { this.deliver(s, proxies); return; }
    const finish = (timedOut: boolean) => {
      if (this.companionWait?.snapshot !== s) return;
      const waiting = late();
      if (waiting.length && !timedOut) return;
      clearTimeout(this.companionWait.timer);
      this.companionWait = undefined;
      if (waiting.length) this.log.warn({ version: s.version, waitingFor: waiting.map((i) => i.nodeId) }, 'companions have not taken the new version yet; pushing it to the proxies anyway');
      this.deliver(s, proxies);
    };
    const timer = setTimeout(() => finish(true), this.companionWaitMs);
    timer.unref();
    this.companionWait = { snapshot: s, proceed: () => finish(false), timer };
  }

  /** Hands `s` to the streams, a few per turn of the event loop, so the first ones' answers are handled while the rest are served. */
  private deliver(s: Snapshot, streams: StreamInfo[]): void {
    let next = 0;
    const step = () => {
      if (this.current !== s) return; // a newer snapshot took over
      for (const end = Math.min(next + PUSH_BATCH, streams.length); next < end; next++) {
        const info = streams[next]!;
        if (!this.streams.has(info.id)) continue;
        info.refs.add(s.version);
        info.session.setSnapshot(s);
      }
      if (next < streams.length) setImmediate(step);
    };
    step();
  }

  /** Wakes up when the first retained version's grace ends, to stop serving its policies. */
  private scheduleExpiry(): void {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    if (!this.grace.size) return;
    const first = Math.min(...this.grace.values());
    this.expiry = setTimeout(() => this.publish(false), Math.max(0, first - Date.now()) + 1);
    this.expiry.unref();
  }

  /** Every connected stream, for /status. */
  nodes(): NodeStatus[] {
    return [...this.streams.values()].sort((a, b) => compareText(a.nodeId, b.nodeId) || a.id - b.id).map((info) => {
      const types: NodeStatus['types'] = {};
      for (const [typeUrl, st] of Object.entries(info.session.status())) {
        const nack = info.lastNacks.get(typeUrl);
        types[shortType(typeUrl)] = {
          ackedVersion: st.ackedVersion, resources: st.resources,
          ...(nack ? { lastNack: { version: nack.version, detail: nack.detail, at: new Date(nack.at).toISOString() } } : {}),
        };
      }
      return {
        id: info.nodeId, cluster: info.cluster, identity: info.identity, stream: info.id, mode: info.session.mode,
        connectedAt: new Date(info.connectedAt).toISOString(), types,
        ...(info.convergedVersion ? { convergedVersion: info.convergedVersion } : {}),
      };
    });
  }

  private onStream(call: grpc.ServerDuplexStream<Uint8Array, Response>, mode: Mode): void {
    const id = ++this.streamSeq;
    let info: StreamInfo | undefined;
    const log = this.log.child({ stream: id, mode });
    const tls = this.tls;
    const identity = tls ? callIdentity(call) : undefined;
    if (tls && !identity) {
      // The handshake checked the CA; a certificate that names no role of ours holds nothing.
      log.warn({}, 'xds stream refused: the client certificate names no frontdesk identity');
      this.emit('denied', '', 'none', '*');
      call.destroy(Object.assign(new Error('no frontdesk identity in the client certificate'), { code: grpc.status.PERMISSION_DENIED }));
      return;
    }
    const allowed = tls && identity ? (typeUrl: string) => tls.allowed(identity, typeUrl) : undefined;
    if (writeSharedFrames(call)) this.writePath.shared++;
    else this.writePath.copied++;
    const writer = new StreamWriter(this.budget, (r, done) => { call.write(r, () => done()); });
    const end = () => {
      writer.close();
      if (!info) return;
      this.streams.delete(id);
      if (info.session.servesProxy()) { this.release(info.refs); this.scheduleExpiry(); }
      log.info({ node: info.nodeId }, 'xds stream closed');
      this.emit('disconnect', info.nodeId);
      info = undefined;
    };
    call.on('data', (buf: Uint8Array) => {
      let req: SessionRequest & { nodeId?: string; cluster?: string };
      try {
        req = mode === 'sotw' ? this.decodeSotw(buf) : this.decodeDelta(buf);
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'undecodable xds request');
        call.destroy(Object.assign(new Error('undecodable request'), { code: grpc.status.INVALID_ARGUMENT }));
        return;
      }
      if (!info) {
        const nodeId = req.nodeId || `anonymous-${id}`;
        const claimed = req.cluster ?? '';
        // With mTLS an Envoy's fleet is the one its certificate names, whatever it claims.
        const cluster = identity?.role === 'envoy' ? identity.fleet : claimed;
        if (identity?.role === 'envoy' && claimed !== identity.fleet) log.warn({ node: nodeId, claimed, fleet: identity.fleet }, 'xds: the node claims another fleet than its certificate; serving the certificate\'s');
        const who = describeIdentity(identity);
        const streamInfo: StreamInfo = {
          id, nodeId, cluster, identity: who, connectedAt: Date.now(), lastNacks: new Map(), refs: new Set(),
          session: new Session(mode, cluster, {
            send: (response, typeUrl, count) => {
              writer.push(response, () => this.emit('written', nodeId, typeUrl));
              this.emit('push', nodeId, typeUrl, count);
              if (this.debug) log.debug({ node: nodeId, type: shortType(typeUrl), resources: count }, 'xds push');
            },
            acked: (typeUrl, version) => this.emit('ack', nodeId, typeUrl, version),
            nacked: (typeUrl, nack) => {
              streamInfo.lastNacks.set(typeUrl, nack);
              log.warn({ node: nodeId, type: shortType(typeUrl), version: nack.version, detail: nack.detail }, 'xds NACK: the node keeps its last accepted config');
              this.emit('nack', nodeId, typeUrl, nack);
            },
            converged: (snapshot) => {
              streamInfo.convergedVersion = snapshot.version;
              this.release([...streamInfo.refs].filter((v) => v !== snapshot.version));
              streamInfo.refs = new Set([snapshot.version]);
              this.scheduleExpiry();
              this.emit('converged', nodeId, snapshot.version, Date.now() - snapshot.createdAt);
            },
            denied: (typeUrl) => {
              log.warn({ node: nodeId, identity: who, type: shortType(typeUrl) }, 'xds: subscription outside the identity\'s rights; answered with nothing');
              this.emit('denied', nodeId, who, typeUrl);
            },
            settled: (snapshot) => { if (this.companionWait?.snapshot === snapshot) this.companionWait.proceed(); },
          }, `${id}`, allowed),
        };
        info = streamInfo;
        this.streams.set(id, info);
        log.info({ node: nodeId, cluster, identity: who }, 'xds stream opened');
        this.emit('connect', nodeId);
        if (this.current) { info.refs.add(this.current.version); info.session.setSnapshot(this.current); }
      }
      if (this.debug) log.debug({ node: info.nodeId, type: shortType(req.typeUrl), nonce: req.nonce, version: req.versionInfo, names: req.resourceNames?.length, sub: req.subscribe, unsub: req.unsubscribe, nack: req.errorDetail }, 'xds request');
      info.session.handle(req);
    });
    call.on('end', () => { end(); call.end(); });
    call.on('error', () => end());
    call.on('cancelled', () => end());
    call.on('close', () => end());
  }

  private decodeSotw(buf: Uint8Array): SessionRequest & { nodeId?: string; cluster?: string } {
    const m = this.requestType.toObject(this.requestType.decode(buf), { defaults: false, longs: String }) as {
      version_info?: string; node?: { id?: string; cluster?: string }; resource_names?: string[]; type_url?: string;
      response_nonce?: string; error_detail?: { message?: string; code?: number };
    };
    return {
      typeUrl: m.type_url ?? '',
      nonce: m.response_nonce ?? '',
      versionInfo: m.version_info,
      resourceNames: m.resource_names ?? [],
      errorDetail: m.error_detail ? (m.error_detail.message ? nackReason(m.error_detail.message) : `error code ${m.error_detail.code ?? 'unknown'}`) : undefined,
      nodeId: m.node?.id,
      cluster: m.node?.cluster,
    };
  }

  private decodeDelta(buf: Uint8Array): SessionRequest & { nodeId?: string; cluster?: string } {
    const m = this.deltaRequestType.toObject(this.deltaRequestType.decode(buf), { defaults: false, longs: String }) as {
      node?: { id?: string; cluster?: string }; type_url?: string; resource_names_subscribe?: string[];
      resource_names_unsubscribe?: string[]; initial_resource_versions?: Record<string, string>; response_nonce?: string;
      error_detail?: { message?: string; code?: number };
    };
    return {
      typeUrl: m.type_url ?? '',
      nonce: m.response_nonce ?? '',
      subscribe: m.resource_names_subscribe,
      unsubscribe: m.resource_names_unsubscribe,
      initialVersions: m.initial_resource_versions,
      errorDetail: m.error_detail ? (m.error_detail.message ? nackReason(m.error_detail.message) : `error code ${m.error_detail.code ?? 'unknown'}`) : undefined,
      nodeId: m.node?.id,
      cluster: m.node?.cluster,
    };
  }
}
