import { CompanionTracer } from '../companion-tracing.js';
import type { CompanionDefinition, CompanionOptions, RunningCompanion, XdsAddresses } from '../contracts/companion.js';
import { TRACING_TYPE_URL, type TracingMessages } from '../contracts/tracing.js';
import { TRANSFORM_TYPE_URL, type RouteTransform__Output, type TransformMessages } from '../contracts/transform.js';
import { DEFAULT_PORTS } from '../default-ports.js';
import type { Logger } from '../logger.js';
import { startCompanionClient } from '../xds/companion-client.js';
import { TlsSource } from '../tls.js';
import { CounterStores } from './counters.js';
import { startTransformServer } from './server.js';

export interface TransformServiceOptions {
  xds: XdsAddresses;
  host: string;
  port: number;
  nodeId: string;
  logger: Logger;
  /** mTLS to the control plane and from Envoys. */
  tls?: TlsSource;
}

/**
 * The transform companion: Envoy's ExternalProcessor for the routes whose request- or
 * response-transformer touches bodies, the query string or the method, whose standard-webhooks
 * checks a signature, or whose response-ratelimiting counts quotas; its per-route work
 * arrives live over ADS (RouteTransform). A route it has no work for passes unchanged.
 */
export async function startTransformService(o: TransformServiceOptions): Promise<RunningCompanion> {
  const log = o.logger;
  let routes = new Map<string, RouteTransform__Output>();
  let isReady = () => false;
  // Its Process streams join the request's trace, at the opentelemetry plugin's collector (contracts/tracing.ts).
  const tracer = new CompanionTracer('transform', log);
  const counters = new CounterStores((err) => log.warn({ err: err.message }, 'response-ratelimiting: redis connection trouble'));
  const server = await startTransformServer({ host: o.host, port: o.port, lookup: (r) => routes.get(r), logger: log, counters, tls: o.tls, ready: () => isReady(), tracer });
  const client = startCompanionClient<TransformMessages & TracingMessages>({
    name: 'transform',
    xds: o.xds,
    nodeId: o.nodeId,
    logger: log,
    tls: o.tls,
    types: { [TRANSFORM_TYPE_URL]: () => undefined, [TRACING_TYPE_URL]: () => undefined },
    apply(resources) {
      tracer.configure(resources.get(TRACING_TYPE_URL));
      routes = new Map([...resources.get(TRANSFORM_TYPE_URL).values()].map((t) => [t.name, t]));
      // response-ratelimiting's Redis connections: open before the first request needs one.
      counters.keep([...routes.values()].flatMap((t) => [t.response_ratelimiting, ...Object.values(t.response_ratelimiting_consumers ?? {})]).flatMap((c) => (c?.redis?.host ? [c.redis] : [])));
      log.info({ version: resources.version(TRANSFORM_TYPE_URL), routes: routes.size }, 'transform: routes applied');
    },
  });
  isReady = () => client.ready();
  return {
    port: server.port,
    ready: () => client.ready(),
    async stop() {
      client.close();
      tracer.close();
      counters.close();
      await server.stop();
    },
  };
}

/** `frontdesk transform --xds HOST:PORT [--port 18003]`, and part of `frontdesk start`. */
export const transformCompanion: CompanionDefinition = {
  name: 'transform',
  defaultPort: DEFAULT_PORTS.transform,
  usage: '',
  start: (o: CompanionOptions) => startTransformService({ xds: o.xds, host: o.host, port: o.port, nodeId: o.nodeId, logger: o.logger, ...(o.tls ? { tls: new TlsSource(o.tls, { logger: o.logger }) } : {}) }),
};
