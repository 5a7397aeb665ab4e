import type { Server } from 'node:http';
import { startAdminServer } from '../admin/server.js';
import { adminPortOf, type CompanionDefinition, type CompanionOptions, type RunningCompanion, type XdsAddresses, xdsList, xdsTarget } from '../contracts/companion.js';
import { RATELIMIT_ENVOY_PROTOS, RATELIMIT_TYPE_URL, type RatelimitMessages, type RouteRateLimit } from '../contracts/ratelimit.js';
import { COMPANION_ADMIN_OFFSET, DEFAULT_PORTS } from '../default-ports.js';
import type { Logger } from '../logger.js';
import { UsageError } from '../args.js';
import { startCompanionClient } from '../xds/companion-client.js';
import { CompanionTracer } from '../companion-tracing.js';
import { TRACING_TYPE_URL, type TracingMessages } from '../contracts/tracing.js';
import { isLoopback, TlsSource } from '../tls.js';
import type { Clock } from './clock.js';
import { RateLimiter, type RateLimiterOptions } from './limiter.js';
import { startRateLimitServer } from './server.js';
import { decodeRouteRateLimit } from './policy-codec.js';
import { decodeTraceExporter } from '../xds/tracing-codec.js';

/**
 * The ratelimit companion: an xDS client of the control plane (it subscribes to
 * frontdesk.ratelimit.v1.RouteRateLimit over ADS and applies every new set live), Envoy's
 * RateLimitService v3 over gRPC, and a small admin HTTP server (/healthz, /readyz, /status,
 * /metrics) for its own counters.
 *
 * `frontdesk ratelimit --xds HOST:PORT [--port 18002] [--redis URL] [--ratelimit-admin-port N]`
 * (the admin port defaults to the gRPC port + 10: 18012).
 */

export const RATELIMIT_DEFAULT_PORT = DEFAULT_PORTS.ratelimit;

export interface RateLimitServiceOptions {
  xds: XdsAddresses;
  host: string;
  /** gRPC port; 0 binds a free one. */
  port: number;
  /** Admin HTTP port; 0 binds a free one, undefined starts none. */
  adminPort?: number;
  nodeId: string;
  logger: Logger;
  /** Default Redis (redis:// or rediss:// URL) for limits naming none (policy cluster). */
  redis?: string;
  clock?: Clock;
  redisClient?: RateLimiterOptions['redisClient'];
  /** ADS mode (default state of the world). */
  mode?: 'sotw' | 'delta';
  /** mTLS to the control plane and from Envoys. */
  tls?: TlsSource;
}

export interface RunningRateLimitService extends RunningCompanion {
  adminPort?: number;
  limiter: RateLimiter;
  /** The xDS version_info of the policy set in force ('' before the first). */
  version(): string;
}

/** Starts the service: gRPC first, then the ADS subscription; ready once the first policy set is in. */
export async function startRateLimitService(o: RateLimitServiceOptions): Promise<RunningRateLimitService> {
  const log = o.logger;
  const limiter = new RateLimiter({ logger: log, defaultRedis: o.redis, clock: o.clock, redisClient: o.redisClient });
  // gRPC health answers SERVING once the first policy set is in (the ADS client starts below).
  let isReady = () => false;
  const tracer = new CompanionTracer('ratelimit', log);
  const grpcServer = await startRateLimitServer({ host: o.host, port: o.port, decide: (r) => limiter.decide(r), logger: log, tls: o.tls, ready: () => isReady(), tracer });
  // Parsed once, in the check; applied when the set is put in force.
  let parsed: { resources: ReadonlyMap<string, RouteRateLimit>; routes: ReturnType<typeof RateLimiter.parse> } | undefined;
  const ads = startCompanionClient<RatelimitMessages & TracingMessages>({
    name: 'ratelimit',
    cluster: 'frontdesk-ratelimit',
    xds: o.xds,
    nodeId: o.nodeId,
    mode: o.mode,
    logger: log,
    tls: o.tls,
    // Both of its types read by hand: the process loads no protobuf library.
    decoders: { [RATELIMIT_TYPE_URL]: decodeRouteRateLimit, [TRACING_TYPE_URL]: decodeTraceExporter },
    types: {
      [RATELIMIT_TYPE_URL]: (resources) => {
        try {
          parsed = { resources, routes: RateLimiter.parse(resources) };
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
      [TRACING_TYPE_URL]: () => undefined,
    },
    apply(resources) {
      tracer.configure(resources.get(TRACING_TYPE_URL));
      const set = resources.get(RATELIMIT_TYPE_URL);
      const routes = parsed?.resources === set ? parsed.routes : RateLimiter.parse(set);
      parsed = undefined;
      limiter.apply(routes, resources.version(RATELIMIT_TYPE_URL));
    },
  });
  const ready = () => ads.ready();
  isReady = ready;

  let admin: { server: Server; port: number } | undefined;
  if (o.adminPort !== undefined) {
    // The admin API stays on loopback when the gRPC port is opened wider (it has no token).
    admin = await startAdminServer(isLoopback(o.host) ? o.host : '127.0.0.1', o.adminPort, {
      ready,
      status: () => ({ ready: ready(), xds: xdsList(o.xds).map(xdsTarget).join(','), grpcPort: grpcServer.port, ...(limiter.status() as object) }),
      metrics: () => limiter.metricsText(),
    }, log);
  }
  log.info({ port: grpcServer.port, adminPort: admin?.port, defaultRedis: o.redis ? 'set' : 'none' }, 'ratelimit service listening');
  return {
    port: grpcServer.port,
    ...(admin ? { adminPort: admin.port } : {}),
    limiter,
    ready,
    version: () => limiter.policyVersion(),
    async stop() {
      ads.close();
      await grpcServer.stop();
      tracer.close();
      if (admin) {
        const s = admin.server;
        await new Promise<void>((r) => s.close(() => r()));
        s.closeAllConnections?.();
      }
      await limiter.close();
    },
  };
}

function flag(o: CompanionOptions, name: string): string | undefined {
  const v = o.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export { RATELIMIT_ENVOY_PROTOS };

/** The `ratelimit` companion, for `frontdesk ratelimit` and `frontdesk start`. */
export const ratelimitCompanion: CompanionDefinition = {
  name: 'ratelimit',
  defaultPort: RATELIMIT_DEFAULT_PORT,
  adminPortFlag: 'ratelimit-admin-port',
  usage: `[--redis URL] [--ratelimit-admin-port N, default --port + ${COMPANION_ADMIN_OFFSET}]`,
  envoyProtos: RATELIMIT_ENVOY_PROTOS,
  async start(o) {
    // A flag of its own, so `frontdesk start` (shared flags) has no clash.
    const adminPort = adminPortOf(o.flags, 'ratelimit-admin-port', o.port);
    const redis = flag(o, 'redis');
    if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis takes a redis:// or rediss:// URL, got "${redis}"`);
    return startRateLimitService({ xds: o.xds, host: o.host, port: o.port, adminPort, nodeId: o.nodeId, logger: o.logger, ...(o.tls ? { tls: new TlsSource(o.tls, { logger: o.logger }) } : {}), ...(redis ? { redis } : {}) });
  },
};
