import type { Logger } from '../logger.js';

/**
 * Which clusters an Envoy is shedding requests on now: its circuit-breaker overflow counters
 * (`cluster.<name>.upstream_cx_overflow`, `upstream_rq_pending_overflow`,
 * `upstream_rq_active_overflow`, `upstream_rq_retry_overflow`: the requests answered 503 with
 * response flag UO, or not retried), read from the Envoy's admin `/stats` every `intervalMs`; a cluster whose counters
 * rose since the previous read is shedding, with how many it shed in that interval. For the
 * Envoys whose admin address Frontdesk knows (the one `frontdesk start` runs); Envoy's admin
 * stays on loopback.
 */

const OVERFLOW_STATS = /^cluster\.(.+)\.(upstream_\w+_overflow)$/;

export interface SheddingCluster {
  envoy: string;
  cluster: string;
  /** Requests shed in the last interval, by counter. */
  shed: Record<string, number>;
  /** When this run of shedding began (ISO time). */
  since: string;
}

export class SheddingWatch {
  private readonly last = new Map<string, number>();
  private readonly since = new Map<string, string>();
  private current: SheddingCluster[] = [];
  private timer?: NodeJS.Timeout;
  private readonly admins = new Set<string>();

  constructor(private readonly logger: Logger, private readonly intervalMs = 5000, private readonly timeoutMs = 1000) {}

  /** Starts watching one Envoy's admin interface (http://host:port), read every `intervalMs` (the first call sets it). */
  watch(adminUrl: string, intervalMs = this.intervalMs): void {
    this.admins.add(adminUrl);
    if (!this.timer) {
      this.timer = setInterval(() => void this.sample(), intervalMs);
      this.timer.unref();
    }
    void this.sample();
  }

  /** The clusters shedding now, sorted by Envoy and cluster. */
  shedding(): SheddingCluster[] {
    return this.current;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One read of every watched Envoy; exported for tests that need a read now. */
  async sample(): Promise<void> {
    const now: SheddingCluster[] = [];
    for (const admin of [...this.admins].sort()) {
      const counters = await this.read(admin);
      if (!counters) continue;
      const byCluster = new Map<string, Record<string, number>>();
      for (const [name, value] of counters) {
        const m = OVERFLOW_STATS.exec(name);
        if (!m?.[1] || !m[2]) continue;
        const key = `${admin} ${name}`;
        const before = this.last.get(key);
        this.last.set(key, value);
        if (before === undefined || value <= before) continue;
        const shed = byCluster.get(m[1]) ?? {};
        shed[m[2]] = value - before;
        byCluster.set(m[1], shed);
      }
      for (const [cluster, shed] of [...byCluster].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const key = `${admin} ${cluster}`;
        const since = this.since.get(key) ?? new Date().toISOString();
        now.push({ envoy: admin, cluster, shed, since });
      }
      for (const key of [...this.since.keys()]) if (key.startsWith(`${admin} `) && !byCluster.has(key.slice(admin.length + 1))) this.since.delete(key);
      for (const c of now) if (c.envoy === admin) this.since.set(`${admin} ${c.cluster}`, c.since);
    }
    this.current = now;
  }

  private async read(admin: string): Promise<Array<[string, number]> | undefined> {
    try {
      const res = await fetch(`${admin}/stats?format=json&filter=${encodeURIComponent('_overflow$')}`, { signal: AbortSignal.timeout(this.timeoutMs) });
      const body = (await res.json()) as { stats?: Array<{ name?: string; value?: number }> };
      return (body.stats ?? []).flatMap((s) => (typeof s.name === 'string' && typeof s.value === 'number' ? [[s.name, s.value] as [string, number]] : []));
    } catch (e) {
      this.logger.debug({ admin, err: (e as Error).message }, 'envoy stats unreadable');
      return undefined;
    }
  }
}
