/**
 * The simulated fleet: N AdsClients (half state-of-the-world, half delta, each its own node id)
 * subscribing as Envoy does (CDS and LDS wildcard, EDS and RDS by the names those name). Forked
 * by run.ts so that decoding responses does not run on the control plane's event loop.
 *
 * Each client notes when it first holds each version of each type (the AdsClient ACKs before it
 * emits 'update', so that is the ACK time). run.ts sends the per-type versions an edit must
 * produce; this process answers with the time every client held them.
 *
 * A deliberate departure from a real Envoy, to keep the load generator from measuring itself
 * on a small machine (see docs/benchmarks.md):
 *  - `decode: 'light'` (default) reads only the name of a RouteConfiguration instead of turning
 *    the whole message into JSON; clusters, endpoints and listeners are decoded fully.
 * Every client has its own HTTP/2 connection, as every Envoy has (the AdsClient opens one each).
 */
import protobuf from 'protobufjs';
import { TYPE } from '../../src/resources/type-urls.js';
import { AdsClient } from '../../src/xds/ads-client.js';
import { TlsSource, type TlsFiles } from '../../src/tls.js';
import type { Json } from '../../src/xds/proto-json.js';
import { wallMs } from '../support/stats.js';

export type ClientsRequest =
  | { cmd: 'start'; target: string; count: number; cluster: string; decode: 'light' | 'full'; connection: 'own' | 'shared'; tls?: TlsFiles }
  | { cmd: 'expect'; id: number; versions: Record<string, string>; timeoutMs: number }
  | { cmd: 'stop' };

export type ClientsReply =
  | { evt: 'started'; clients: number; ms: number; warnings: string[] }
  | { evt: 'reached'; id: number; times: number[]; missing: string[]; nacks: number }
  | { evt: 'error'; message: string };

export const CLIENT_TYPES = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route];

interface Sim {
  id: string;
  client: AdsClient;
  /** typeUrl → version → when first held. */
  seen: Map<string, Map<string, number>>;
}

const sims: Sim[] = [];
let nacks = 0;
let pending: { id: number; versions: Record<string, string>; timer: NodeJS.Timeout } | undefined;
let startWaiter: (() => void) | undefined;

function send(m: ClientsReply): void {
  process.send?.(m);
}

/** The `name` field (1) of a serialized RouteConfiguration, without decoding the rest. */
function routeConfigName(bytes: Uint8Array): string {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) return r.string();
    r.skipType(tag & 7);
  }
  return '';
}

/** Makes every AdsClient in this process read only the names of RouteConfigurations. */
function lightRouteDecoding(): string | undefined {
  type AnyMsg = { type_url?: string; value?: Uint8Array };
  const proto = AdsClient.prototype as unknown as { decodeAny?: (a: AnyMsg) => Json };
  const full = proto.decodeAny;
  if (typeof full !== 'function') return 'AdsClient has no decodeAny any more: route configurations are decoded in full';
  proto.decodeAny = function (this: unknown, a: AnyMsg): Json {
    if (a.type_url === TYPE.route) return { name: routeConfigName(a.value ?? new Uint8Array()) };
    return full.call(this, a);
  };
  return undefined;
}

function reachedAt(s: Sim, versions: Record<string, string>): number | undefined {
  let at = 0;
  for (const [typeUrl, v] of Object.entries(versions)) {
    const t = s.seen.get(typeUrl)?.get(v);
    if (t === undefined) return undefined;
    at = Math.max(at, t);
  }
  return at;
}

function checkPending(final = false): void {
  if (!pending) return;
  const times: number[] = [];
  const missing: string[] = [];
  for (const s of sims) {
    const t = reachedAt(s, pending.versions);
    if (t === undefined) missing.push(s.id);
    else times.push(t);
  }
  if (missing.length && !final) return;
  clearTimeout(pending.timer);
  send({ evt: 'reached', id: pending.id, times, missing, nacks });
  pending = undefined;
}

function start(m: Extract<ClientsRequest, { cmd: 'start' }>): void {
  const warnings: string[] = [];
  if (m.decode === 'light') { const w = lightRouteDecoding(); if (w) warnings.push(w); }
  // Each AdsClient holds an HTTP/2 connection of its own (src/xds/grpc-h2-client.ts): there is no shared one to ask for.
  if (m.connection === 'shared') warnings.push('--client-connection shared: every AdsClient has a connection of its own; the clients ran on their own connections');
  const began = wallMs();
  // mTLS: every client presents the fleet's Envoy certificate, as the fleet's Envoys do.
  const tls = m.tls && new TlsSource(m.tls);
  for (let i = 0; i < m.count; i++) {
    const id = `bench-client-${String(i).padStart(3, '0')}`;
    const client = new AdsClient({ target: m.target, nodeId: id, cluster: m.cluster, mode: i % 2 === 0 ? 'sotw' : 'delta', types: CLIENT_TYPES, followEnvoy: true, ...(tls ? { tls } : {}) });
    const sim: Sim = { id, client, seen: new Map() };
    client.on('update', (typeUrl, _resources, version) => {
      let byVersion = sim.seen.get(typeUrl);
      if (!byVersion) sim.seen.set(typeUrl, (byVersion = new Map()));
      if (!byVersion.has(version)) {
        byVersion.set(version, wallMs());
        if (byVersion.size > 16) byVersion.delete(byVersion.keys().next().value!);
      }
      if (pending) checkPending();
      else if (startWaiter) startWaiter();
    });
    client.on('nack', () => { nacks++; });
    sims.push(sim);
    client.start();
  }
  startWaiter = () => {
    if (!sims.every((s) => CLIENT_TYPES.every((t) => s.seen.get(t)?.size))) return;
    startWaiter = undefined;
    send({ evt: 'started', clients: sims.length, ms: wallMs() - began, warnings });
  };
}

process.on('message', (m: ClientsRequest) => {
  try {
    if (m.cmd === 'start') start(m);
    else if (m.cmd === 'expect') {
      pending = { id: m.id, versions: m.versions, timer: setTimeout(() => checkPending(true), m.timeoutMs) };
      checkPending();
    } else if (m.cmd === 'stop') {
      for (const s of sims) s.client.close();
      setTimeout(() => process.exit(0), 200).unref();
    }
  } catch (e) {
    send({ evt: 'error', message: (e as Error).stack ?? String(e) });
  }
});

// The benchmark went away (even by SIGKILL): stop too.
process.on('disconnect', () => process.exit(0));
