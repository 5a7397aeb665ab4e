/**
 * Kong's kong_upstream_target_health (the prometheus plugin's upstream_health_metrics,
 * kong/plugins/prometheus/exporter.lua): one gauge per Kong upstream target address and state,
 * labels `upstream`, `target`, `address`, `state`, `subsystem`, 1 for the target's current
 * state and 0 for the three others (healthchecks_off, healthy, unhealthy, dns_error). As Kong's,
 * `address` is the ip:port Envoy resolved the target to, `""` with `dns_error` when it holds no
 * address for the target.
 *
 * The targets come from the control plane (UpstreamTargets over ADS: each Kong upstream, its
 * targets, its clusters, whether health checks are on); their health from the companion's Envoy,
 * read from its admin `/clusters?format=json` when scraped (each host's `health_flags`, as
 * Envoy's active health checks and outlier detection set them). Envoy is the one that checks
 * health: its admin page is the only place that says which of its hosts it holds unhealthy
 * (its health-check event log is off by default, a file per cluster, and says nothing of the
 * outlier detector's ejections nor of what holds now). The read is bounded (a timeout, a size
 * limit) and its result kept briefly, so a burst of scrapers costs Envoy one read.
 */
import { request } from 'node:http';
import type { UpstreamTargets__Output } from '../contracts/log.js';
import { compareText } from '../text-order.js';

export const TARGET_HEALTH_STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'] as const;
export type TargetHealthState = (typeof TARGET_HEALTH_STATES)[number];

/** One host of one cluster, as Envoy's admin /clusters?format=json lists it (the fields read here). */
export interface EnvoyHost {
  address?: { socket_address?: { address?: string; port_value?: number } };
  hostname?: string;
  health_status?: {
    failed_active_health_check?: boolean;
    failed_outlier_check?: boolean;
    failed_active_degraded_check?: boolean;
    pending_dynamic_removal?: boolean;
    pending_active_hc?: boolean;
    excluded_via_immediate_hc_fail?: boolean;
    active_hc_timeout?: boolean;
    eds_health_status?: string;
  };
}

/** Envoy's admin /clusters?format=json (envoy.admin.v3.Clusters), the fields read here. */
export interface EnvoyClusters {
  cluster_statuses?: Array<{ name?: string; host_statuses?: EnvoyHost[] }>;
}

export interface TargetHealth {
  upstream: string;
  target: string;
  address: string;
  state: TargetHealthState;
  subsystem: string;
}

/**
 * Whether Envoy holds a host unhealthy: an active health check failed (once its first check has
 * run: a host not checked yet is healthy, as a Kong target starts), its outlier detector ejected
 * it, or its EDS status says so. Degraded hosts still take traffic: healthy, as Kong has no
 * degraded state.
 */
function unhealthy(h: EnvoyHost): boolean {
  const s = h.health_status ?? {};
  if (s.failed_active_health_check && !s.pending_active_hc) return true;
  if (s.active_hc_timeout || s.failed_outlier_check || s.excluded_via_immediate_hc_fail) return true;
  return s.eds_health_status === 'UNHEALTHY' || s.eds_health_status === 'DRAINING' || s.eds_health_status === 'TIMEOUT';
}

/**
 * Each target's addresses and states, from the targets the control plane named and the hosts
 * Envoy holds (none read: undefined). A target's hosts are those of the upstream's clusters
 * with its hostname or its address, and its port; with several clusters (services sharing the
 * upstream) an address is unhealthy when any of them holds it so. Without Envoy's hosts
 * (its admin did not answer) nothing is written: a missing series, not a wrong one.
 */
export function targetHealth(upstreams: Iterable<UpstreamTargets__Output>, envoy: EnvoyClusters | undefined): TargetHealth[] {
  if (!envoy) return [];
  const byCluster = new Map<string, EnvoyHost[]>();
  for (const c of envoy?.cluster_statuses ?? []) if (c.name) byCluster.set(c.name, c.host_statuses ?? []);
  const out: TargetHealth[] = [];
  for (const u of upstreams) {
    const hosts = u.clusters.flatMap((c) => byCluster.get(c) ?? []);
    for (const t of u.targets) {
      const base = { upstream: u.upstream, target: t.target, subsystem: u.subsystem };
      const states = new Map<string, boolean>();
      for (const h of hosts) {
        const a = h.address?.socket_address;
        if (!a?.address || a.port_value !== t.port) continue;
        if (h.hostname !== t.hostname && a.address !== t.host) continue;
        const address = `${a.address}:${a.port_value}`;
        states.set(address, (states.get(address) ?? false) || unhealthy(h));
      }
      if (!states.size) { out.push({ ...base, address: '', state: 'dns_error' }); continue; }
      for (const [address, bad] of [...states].sort(([a], [b]) => compareText(a, b))) {
        out.push({ ...base, address, state: !u.healthchecks ? 'healthchecks_off' : bad ? 'unhealthy' : 'healthy' });
      }
    }
  }
  return out;
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Kong's series in the Prometheus text format: four samples per target address, 1 for its state. */
export function renderTargetHealth(health: readonly TargetHealth[]): string {
  if (!health.length) return '';
  const lines = [
    '# HELP kong_upstream_target_health Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
    '# TYPE kong_upstream_target_health gauge',
  ];
  for (const h of health) {
    for (const state of TARGET_HEALTH_STATES) {
      lines.push(`kong_upstream_target_health{upstream="${escape(h.upstream)}",target="${escape(h.target)}",address="${escape(h.address)}",state="${state}",subsystem="${escape(h.subsystem)}"} ${state === h.state ? 1 : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface EnvoyClustersReaderOptions {
  /** Envoy's admin address, host:port (loopback: the companion's own Envoy). */
  admin: string;
  /** The longest one read may take. */
  timeoutMs?: number;
  /** How long a read's result serves the scrapes that follow. */
  cacheMs?: number;
  /** The largest answer read (Envoy's /clusters grows with hosts). */
  maxBytes?: number;
  now?: () => number;
}

/**
 * Reads Envoy's admin /clusters?format=json: bounded by a timeout and a size, one read at a
 * time, its result kept `cacheMs`. A failed read yields undefined (and is not kept).
 */
export class EnvoyClustersReader {
  private cached?: { at: number; value: EnvoyClusters };
  private inFlight?: Promise<EnvoyClusters | undefined>;
  private readonly host: string;
  private readonly port: number;
  lastError?: string;

  constructor(private readonly o: EnvoyClustersReaderOptions) {
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(o.admin);
    if (!m) throw new Error(`Envoy admin address ${o.admin}: expected HOST:PORT`);
    this.host = m[1]!;
    this.port = Number(m[2]);
  }

  read(): Promise<EnvoyClusters | undefined> {
    const now = (this.o.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.o.cacheMs ?? 1000)) return Promise.resolve(this.cached.value);
    this.inFlight ??= this.fetch().then((value) => {
      this.cached = { at: (this.o.now ?? Date.now)(), value };
      this.lastError = undefined;
      return value;
    }, (e: Error) => {
      this.lastError = e.message;
      return undefined;
    }).finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private fetch(): Promise<EnvoyClusters> {
    const max = this.o.maxBytes ?? 32 * 1024 * 1024;
    const timeoutMs = this.o.timeoutMs ?? 1000;
    return new Promise<EnvoyClusters>((resolve, reject) => {
      // The whole read, not only each wait for bytes, is bounded.
      const fail = (e: Error) => { reject(e); req.destroy(); };
      const timer = setTimeout(() => fail(new Error(`Envoy's admin did not answer within ${timeoutMs} ms`)), timeoutMs);
      const done = <T>(f: (v: T) => void) => (v: T) => { clearTimeout(timer); f(v); };
      resolve = done(resolve);
      reject = done(reject);
      const req = request({ host: this.host, port: this.port, path: '/clusters?format=json' }, (res) => {
        if (res.statusCode !== 200) { res.resume(); reject(new Error(`Envoy's admin answered ${res.statusCode}`)); return; }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) { fail(new Error(`Envoy's /clusters is larger than ${max} bytes`)); return; }
          chunks.push(c);
        });
        res.on('end', () => {
          try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as EnvoyClusters); } catch (e) { reject(e as Error); }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }
}
