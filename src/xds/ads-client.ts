import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { Logger } from '../logger.js';
import { TYPE } from '../resources/type-urls.js';
import { messageType, typeForUrl } from './proto-registry.js';
import { decodeToJson, type Json } from './proto-json.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface AdsClientOptions {
  /** host:port of the control plane. */
  target: string;
  nodeId: string;
  cluster?: string;
  mode?: 'sotw' | 'delta';
  /** Types to subscribe to (wildcard). With `followEnvoy`, EDS and RDS follow CDS and LDS as Envoy does. */
  types: string[];
  followEnvoy?: boolean;
  /** Returns an error text to NACK an update; undefined accepts it. */
  validate?: (typeUrl: string, resources: Map<string, Json>) => string | undefined;
  logger?: Logger;
  /** Reconnect delay after the stream ends, growing to 5 s. */
  reconnectMs?: number;
}

export interface AdsClientEvents {
  /** The accepted resources of a type after an update (complete set, by name). */
  update: [typeUrl: string, resources: Map<string, Json>, version: string];
  nack: [typeUrl: string, detail: string];
  connected: [];
  disconnected: [error?: Error];
}

interface TypeState {
  names?: Set<string>;
  resources: Map<string, Json>;
  versions: Map<string, string>;
  version: string;
  nonce: string;
}

/**
 * An xDS client over ADS, state-of-the-world or delta: what the companion services use to get
 * their policy from the control plane, and what the protocol tests and benchmarks drive.
 * It reconnects by itself and resumes with the versions it holds.
 */
export class AdsClient extends EventEmitter<AdsClientEvents> {
  private readonly client: grpc.Client;
  private call?: grpc.ClientDuplexStream<Uint8Array, Buffer>;
  private readonly state = new Map<string, TypeState>();
  private closed = false;
  private backoff: number;
  private timer?: NodeJS.Timeout;
  private readonly reqType: protobuf.Type;
  private readonly deltaReqType: protobuf.Type;
  private readonly respType: protobuf.Type;
  private readonly deltaRespType: protobuf.Type;
  readonly mode: 'sotw' | 'delta';

  constructor(private readonly opts: AdsClientOptions) {
    super();
    this.mode = opts.mode ?? 'sotw';
    this.backoff = opts.reconnectMs ?? 100;
    this.client = new grpc.Client(opts.target, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    this.reqType = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    this.deltaReqType = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    this.respType = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    this.deltaRespType = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
    for (const t of opts.types) this.state.set(t, { resources: new Map(), versions: new Map(), version: '', nonce: '' });
  }

  /** Opens the stream and subscribes. */
  start(): this {
    this.connect();
    return this;
  }

  /** The accepted resources of a type. */
  resources(typeUrl: string): Map<string, Json> {
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

  private connect(): void {
    if (this.closed) return;
    const method = this.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    const call = this.client.makeBidiStreamRequest(`${SERVICE}/${method}`, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b);
    this.call = call;
    let first = true;
    call.on('data', (buf: Buffer) => {
      if (first) { first = false; this.backoff = this.opts.reconnectMs ?? 100; this.emit('connected'); }
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
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
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

  private request(typeUrl: string, st: TypeState, withNode: boolean, initial: boolean, error?: string, subscribe?: string[], unsubscribe?: string[]): void {
    const call = this.call;
    if (!call) return;
    const error_detail = error ? { code: 3, message: error } : undefined;
    if (this.mode === 'sotw') {
      const msg = {
        version_info: st.version, node: withNode ? this.node() : undefined, type_url: typeUrl,
        resource_names: st.names ? [...st.names].sort() : [], response_nonce: st.nonce, error_detail,
      };
      call.write(this.reqType.encode(this.reqType.fromObject(msg)).finish());
    } else {
      const msg = {
        node: withNode ? this.node() : undefined, type_url: typeUrl,
        resource_names_subscribe: initial ? (st.names ? [...st.names].sort() : []) : (subscribe ?? []),
        resource_names_unsubscribe: unsubscribe ?? [],
        initial_resource_versions: initial ? Object.fromEntries(st.versions) : undefined,
        response_nonce: initial ? '' : st.nonce, error_detail,
      };
      call.write(this.deltaReqType.encode(this.deltaReqType.fromObject(msg)).finish());
    }
  }

  private decodeAny(any: { type_url?: string; value?: Uint8Array }): Json {
    const t = typeForUrl(any.type_url ?? '');
    if (!t) throw new Error(`unknown type ${any.type_url}`);
    return decodeToJson(t, any.value ?? new Uint8Array());
  }

  private onSotw(buf: Buffer): void {
    const m = this.respType.decode(buf) as unknown as { version_info: string; resources: { type_url: string; value: Uint8Array }[]; type_url: string; nonce: string };
    const st = this.state.get(m.type_url);
    if (!st) return;
    const next = new Map<string, Json>();
    for (const r of m.resources) {
      const body = this.decodeAny(r) as { name?: string; cluster_name?: string };
      next.set(body.name ?? body.cluster_name ?? '', body as Json);
    }
    st.nonce = m.nonce;
    const error = this.opts.validate?.(m.type_url, next);
    if (error) { this.request(m.type_url, st, false, false, error); this.emit('nack', m.type_url, error); return; }
    st.resources = next;
    st.version = m.version_info;
    this.request(m.type_url, st, false, false);
    this.emit('update', m.type_url, next, m.version_info);
    this.follow(m.type_url, next);
  }

  private onDelta(buf: Buffer): void {
    const m = this.deltaRespType.decode(buf) as unknown as {
      system_version_info: string; type_url: string; nonce: string; removed_resources: string[];
      resources: { name: string; version: string; resource?: { type_url: string; value: Uint8Array } }[];
    };
    const st = this.state.get(m.type_url);
    if (!st) return;
    const next = new Map(st.resources);
    const versions = new Map(st.versions);
    for (const r of m.resources) {
      if (r.resource) next.set(r.name, this.decodeAny(r.resource));
      versions.set(r.name, r.version);
    }
    for (const name of m.removed_resources) { next.delete(name); versions.delete(name); }
    st.nonce = m.nonce;
    const error = this.opts.validate?.(m.type_url, next);
    if (error) { this.request(m.type_url, st, false, false, error); this.emit('nack', m.type_url, error); return; }
    st.resources = new Map([...next].sort(([a], [b]) => a.localeCompare(b)));
    st.versions = versions;
    st.version = m.system_version_info;
    this.request(m.type_url, st, false, false);
    this.emit('update', m.type_url, st.resources, st.version);
    this.follow(m.type_url, st.resources);
  }

  /** As Envoy does: clusters name the endpoints to ask for, listeners the route configurations. */
  private follow(typeUrl: string, resources: Map<string, Json>): void {
    if (!this.opts.followEnvoy) return;
    let dependent: string | undefined;
    let names: string[] = [];
    if (typeUrl === TYPE.cluster) {
      dependent = TYPE.endpoint;
      for (const c of resources.values()) {
        const cl = c as { type?: string; name: string; eds_cluster_config?: { service_name?: string } };
        if (cl.type === 'EDS') names.push(cl.eds_cluster_config?.service_name ?? cl.name);
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
