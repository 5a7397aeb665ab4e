import { createLogger, silentLogger } from '../../src/logger.js';
import { startRateLimitService, type RateLimitServiceOptions, type RunningRateLimitService } from '../../src/ratelimit/service.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface TestRateLimitService extends RunningRateLimitService {
  admin: string;
  /** GET /metrics of the service. */
  metrics(): Promise<string>;
  /** One metric's value summed over the series having `labels` (0 when absent), e.g. metric('frontdesk_ratelimit_decisions_total', {result: 'ok'}). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/**
 * A ratelimit companion in-process, fed by the control plane at `xdsPort`, on `port` (a free
 * one when not given: pass the same port in the gateway's settings.ratelimit first). Resolves
 * once it holds its first policy set.
 */
export async function startTestRateLimitService(o: { xdsPort: number; port?: number; redis?: string; nodeId?: string } & Partial<RateLimitServiceOptions>): Promise<TestRateLimitService> {
  const port = o.port ?? (await freePort());
  const svc = await startRateLimitService({
    xds: { host: '127.0.0.1', port: o.xdsPort },
    host: '127.0.0.1',
    port,
    adminPort: 0,
    nodeId: o.nodeId ?? `ratelimit-test-${port}`,
    logger: process.env.FRONTDESK_TEST_LOG ? createLogger(process.env.FRONTDESK_TEST_LOG) : silentLogger(),
    ...(o.redis ? { redis: o.redis } : {}),
    ...(o.redisClient ? { redisClient: o.redisClient } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
  });
  try {
    await waitFor(() => svc.ready(), 'the ratelimit service to hold its first policy', 10_000);
  } catch (e) {
    await svc.stop();
    throw e;
  }
  const admin = `http://127.0.0.1:${svc.adminPort}`;
  const metrics = async () => (await fetch(`${admin}/metrics`)).text();
  return Object.assign(svc, {
    admin,
    metrics,
    async metric(name: string, labels: Record<string, string> = {}) {
      const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort();
      let sum = 0;
      for (const line of (await metrics()).split('\n')) {
        const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = (m[2] ?? '').split(',').filter(Boolean).sort();
        if (want.every((w) => have.includes(w))) sum += Number(m[3]);
      }
      return sum;
    },
  });
}
