import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import { TYPE } from '../resources/type-urls.js';
import type { Json } from '../json.js';
import { decodeDeltaDiscoveryResponse, decodeDiscoveryResponse, encodeDeltaDiscoveryRequest, encodeDiscoveryRequest } from './ads-codec.js';
import type { TlsSource } from '../tls.js';
import { GRPC_STATUS } from '../grpc-raw.js';
import { GrpcCallError, GrpcH2Channel, type GrpcBidiCall } from './grpc-h2-client.js';
import { compareText } from '../text-order.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface AdsStreamOptions<R = Json> {
  /** host:port of the control plane. */
  /**
   * The control plane's address (`host:port`), or its replicas' addresses: the client holds one
   * stream, to the first that answers, and moves to the next in turn when that stream ends or
   * cannot be opened. Replicas serve the same versions, so the new stream resumes where the old
   * one was (SotW version_info, delta initial_resource_versions) with nothing sent again.
   */
  target: string | readonly string[];
  nodeId: string;
  cluster?: string;
  mode?: 'sotw' | 'delta';
  /** Types to subscribe to (wildcard). With `followEnvoy`, EDS and RDS follow CDS and LDS as Envoy does. */
  types: string[];
  followEnvoy?: boolean;
  /** Returns an error text to NACK an update; undefined accepts it. */
  validate?: (typeUrl: string, resources: Map<string, R>) => string | undefined;
  /**
   * A resource's bytes (the value of its Any) → what the client holds; throws on bytes it cannot
   * read. ads-client.ts AdsClient decodes with the proto registry; a companion that reads its
   * messages by hand passes its own and loads no protobuf library.
   */
  decodeResource: (typeUrl: string, bytes: Uint8Array) => R;
  logger?: Logger;
  /** Reconnect delay after the stream ends (default 100 ms), doubling up to `reconnectMaxMs`. */
  reconnectMs?: number;
  /**
   * The longest reconnect delay (default 5 s); also the wait after a server asked this client
   * to slow down (RESOURCE_EXHAUSTED: its RST_STREAM ENHANCE_YOUR_CALM, or that status).
   */
  reconnectMaxMs?: number;
  /** mTLS to the control plane (its certificate must name spiffe://frontdesk/control-plane). */
  tls?: TlsSource;
}

export interface AdsStreamEvents<R = Json> {
  /** The accepted resources of a type after an update (complete set, by name). */
  update: [typeUrl: string, resources: Map<string, R>, version: string];
  nack: [typeUrl: string, detail: string];
  connected: [];
  disconnected: [error?: Error];
}

interface TypeState<R> {
  names?: Set<string>;
  resources: Map<string, R>;
  versions: Map<string, string>;
  version: string;
  nonce: string;
}

/** A resource's name: `name`, or `cluster_name` (ClusterLoadAssignment). */
function resourceName(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const { name, cluster_name: clusterName } = body as { name?: unknown; cluster_name?: unknown };
  return typeof name === 'string' && name ? name : typeof clusterName === 'string' ? clusterName : '';
}

/**
 * An xDS client over ADS, state-of-the-world or delta: what the companion services use to get
 * their policy from the control plane (companion-client.ts), and, as ads-client.ts AdsClient,
 * what the protocol tests and benchmarks drive. The stream is gRPC on the project's HTTP/2
 * client (grpc-h2-client.ts over src/http2/client-connection.ts). It reconnects by itself and resumes with the versions it holds.
 */
export class AdsStreamClient<R = Json> extends EventEmitter<AdsStreamEvents<R>> {
  private client: GrpcH2Channel;
  /** The certificates' generation the client was made with: a rotation takes effect at the next connection. */
  private tlsGeneration = 0;
  private call?: GrpcBidiCall;
  private readonly state = new Map<string, TypeState<R>>();
  private closed = false;
  private backoff: number;
  private timer?: NodeJS.Timeout;
  private readonly targets: readonly string[];
  private targetIndex = 0;
  /** Replicas tried since the last stream that worked. */
  private tried = 0;
  readonly mode: 'sotw' | 'delta';

  constructor(private readonly opts: AdsStreamOptions<R>) {
    super();
    this.mode = opts.mode ?? 'sotw';
    this.backoff = opts.reconnectMs ?? 100;
    this.targets = typeof opts.target === 'string' ? [opts.target] : opts.target;
    if (this.targets.length === 0) throw new Error('ADS client: no control-plane address');
    this.client = this.makeClient();
    for (const t of opts.types) this.state.set(t, { resources: new Map(), versions: new Map(), version: '', nonce: '' });
  }

  /** A connection (gRPC over src/http2's client, grpc-h2-client.ts) to the current replica. */
  private makeClient(): GrpcH2Channel {
    this.tlsGeneration = this.opts.tls?.generation ?? 0;
    return new GrpcH2Channel({
      target: this.targets[this.targetIndex]!, expect: { role: 'control-plane' }, maxMessageBytes: 64 * 1024 * 1024, userAgent: 'frontdesk-ads-client',
      ...(this.opts.tls ? { tls: this.opts.tls } : {}),
    });
  }

  /** Opens the stream and subscribes. */
  start(): this {
    this.connect();
    return this;
  }

  /** The accepted resources of a type. */
  resources(typeUrl: string): Map<string, R> {
    return this.state.get(typeUrl)?.resources ?? new Map();
  }

  /** The version last accepted for a type ('' before the first). */
  version(typeUrl: string): string {
    return this.state.get(typeUrl)?.version ?? '';
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.call?.cancel();
    this.client.close();
  }

  /** The address of the control plane the current (or next) stream goes to. */
  get target(): string {
    return this.targets[this.targetIndex]!;
  }

  private connect(): void {
    if (this.closed) return;
    if (this.opts.tls && this.opts.tls.generation !== this.tlsGeneration) { this.client.close(); this.client = this.makeClient(); }
    const method = this.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    const call = this.client.bidi(`${SERVICE}/${method}`);
    this.call = call;
    let first = true;
    call.on('data', (buf: Buffer) => {
      if (first) { first = false; this.backoff = this.opts.reconnectMs ?? 100; this.tried = 0; this.emit('connected'); }
      try {
        if (this.mode === 'sotw') this.onSotw(buf);
        else this.onDelta(buf);
      } catch (e) {
        this.opts.logger?.warn({ err: (e as Error).message }, 'xds client: bad response');
      }
    });
    const retry = (err?: Error) => {
      if (this.call !== call) return;
      this.call = undefined;
      this.emit('disconnected', err);
      if (this.closed) return;
      if (this.targets.length > 1) {
        // The next replica, at once the first time round; the back-off grows only once every
        // replica has been tried since the last stream that worked.
        this.targetIndex = (this.targetIndex + 1) % this.targets.length;
        this.client.close();
        this.client = this.makeClient();
        this.tried += 1;
      }
      const max = this.opts.reconnectMaxMs ?? 5000;
      // A server that asked to slow down gets the longest wait, even after a stream that had
      // worked (which resets the back-off): else it would see a new stream every reconnectMs.
      const slowDown = err instanceof GrpcCallError && err.code === GRPC_STATUS.RESOURCE_EXHAUSTED;
      if (slowDown) this.backoff = max;
      const wait = this.tried > 0 && this.tried < this.targets.length ? 0 : this.backoff;
      this.timer = setTimeout(() => this.connect(), wait);
      if (wait > 0) this.backoff = Math.min(this.backoff * 2, max);
    };
    call.on('error', (e) => retry(e));
    call.on('end', () => retry());
    let sentNode = false;
    for (const [typeUrl, st] of this.state) {
      if (this.opts.followEnvoy && (typeUrl === TYPE.endpoint || typeUrl === TYPE.route) && !st.names?.size) continue;
      this.request(typeUrl, st, !sentNode, true);
      sentNode = true;
    }
  }

  private node() {
    return { id: this.opts.nodeId, cluster: this.opts.cluster ?? '', user_agent_name: 'frontdesk-ads-client' };
  }

  private request(typeUrl: string, st: TypeState<R>, withNode: boolean, initial: boolean, error?: string, subscribe?: string[], unsubscribe?: string[]): void {
    const call = this.call;
    if (!call) return;
    const error_detail = error ? { code: 3, message: error } : undefined;
    if (this.mode === 'sotw') {
      const msg = {
        version_info: st.version, node: withNode ? this.node() : undefined, type_url: typeUrl,
        resource_names: st.names ? [...st.names].sort() : [], response_nonce: st.nonce, error_detail,
      };
      call.write(encodeDiscoveryRequest(msg));
    } else {
      const msg = {
        node: withNode ? this.node() : undefined, type_url: typeUrl,
        resource_names_subscribe: initial ? (st.names ? [...st.names].sort() : []) : (subscribe ?? []),
        resource_names_unsubscribe: unsubscribe ?? [],
        initial_resource_versions: initial ? Object.fromEntries(st.versions) : undefined,
        response_nonce: initial ? '' : st.nonce, error_detail,
      };
      call.write(encodeDeltaDiscoveryRequest(msg));
    }
  }

  protected decodeAny(any: { type_url?: string; value?: Uint8Array }): R {
    return this.opts.decodeResource(any.type_url ?? '', any.value ?? new Uint8Array());
  }

  private onSotw(buf: Buffer): void {
    const { version_info: version, resources, type_url: typeUrl, nonce } = decodeDiscoveryResponse(buf);
    const st = this.state.get(typeUrl);
    if (!st) return;
    const next = new Map<string, R>();
    for (const r of resources) {
      const body = this.decodeAny(r);
      next.set(resourceName(body), body);
    }
    st.nonce = nonce;
    const error = this.opts.validate?.(typeUrl, next);
    if (error) { this.request(typeUrl, st, false, false, error); this.emit('nack', typeUrl, error); return; }
    st.resources = next;
    st.version = version;
    this.request(typeUrl, st, false, false);
    this.emit('update', typeUrl, next, version);
    this.follow(typeUrl, next);
  }

  private onDelta(buf: Buffer): void {
    const { system_version_info: version, type_url: typeUrl, nonce, removed_resources: removed, resources } = decodeDeltaDiscoveryResponse(buf);
    const st = this.state.get(typeUrl);
    if (!st) return;
    const next = new Map(st.resources);
    const versions = new Map(st.versions);
    for (const r of resources) {
      const name = r.name;
      if (r.resource) next.set(name, this.decodeAny(r.resource));
      versions.set(name, r.version);
    }
    for (const name of removed) { next.delete(name); versions.delete(name); }
    st.nonce = nonce;
    const error = this.opts.validate?.(typeUrl, next);
    if (error) { this.request(typeUrl, st, false, false, error); this.emit('nack', typeUrl, error); return; }
    st.resources = new Map([...next].sort(([a], [b]) => compareText(a, b)));
    st.versions = versions;
    st.version = version;
    this.request(typeUrl, st, false, false);
    this.emit('update', typeUrl, st.resources, st.version);
    this.follow(typeUrl, st.resources);
  }

  /** As Envoy does: clusters name the endpoints to ask for, listeners the route configurations. */
  private follow(typeUrl: string, resources: Map<string, R>): void {
    if (!this.opts.followEnvoy) return;
    let dependent: string | undefined;
    let names: string[] = [];
    if (typeUrl === TYPE.cluster) {
      dependent = TYPE.endpoint;
      for (const c of resources.values()) {
        const cl: unknown = c;
        const { type, name, eds_cluster_config: eds } = cl as { type?: string; name: string; eds_cluster_config?: { service_name?: string } };
        if (type === 'EDS') names.push(eds?.service_name ?? name);
      }
    } else if (typeUrl === TYPE.listener) {
      dependent = TYPE.route;
      names = [...JSON.stringify([...resources.values()]).matchAll(/"route_config_name":"([^"]+)"/g)].map((x) => x[1]!);
    }
    if (!dependent) return;
    const st = this.state.get(dependent);
    if (!st) return;
    const want = new Set(names);
    const had = st.names ?? new Set<string>();
    const same = want.size === had.size && [...want].every((n) => had.has(n));
    if (same) return;
    const wasEmpty = had.size === 0;
    st.names = want;
    if (this.mode === 'sotw') this.request(dependent, st, false, wasEmpty && !st.nonce);
    else {
      const sub = [...want].filter((n) => !had.has(n)).sort();
      const unsub = [...had].filter((n) => !want.has(n)).sort();
      for (const n of unsub) { st.resources.delete(n); st.versions.delete(n); }
      this.request(dependent, st, false, false, undefined, sub, unsub);
    }
  }
}
