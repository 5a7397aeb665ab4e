import { DEFAULT_PORTS } from '../default-ports.js';
import type { Logger } from '../logger.js';
import type { CompanionDefinition, CompanionOptions, RunningCompanion } from '../runtime/companions.js';
import { TRANSFORM_TYPE_URL } from '../resources/filters/transform.js';
import { AdsClient } from '../xds/ads-client.js';
import type { Operations } from './operations.js';
import { startTransformServer, type RouteTransform } from './server.js';


/** Proto3 JSON leaves empty lists out: every Operations gets all its lists. */
function normalize(t: RouteTransform): RouteTransform {
  const ops = (o: Operations | undefined): Operations | undefined => o && {
    remove: o.remove ?? [], rename: o.rename ?? [], replace: o.replace ?? [], add: o.add ?? [], append: o.append ?? [],
    replace_types: o.replace_types ?? [], add_types: o.add_types ?? [], append_types: o.append_types ?? [],
  };
  return { route: t.route, request_body: ops(t.request_body), querystring: ops(t.querystring), http_method: t.http_method || undefined, response_json: ops(t.response_json) };
}

export interface TransformServiceOptions {
  xds: { host: string; port: number };
  host: string;
  port: number;
  nodeId: string;
  logger: Logger;
}

/**
 * The transform companion: Envoy's ExternalProcessor for the routes whose request- or
 * response-transformer touches bodies, the query string or the method; its per-route work
 * arrives live over ADS (RouteTransform). A route it has no work for passes unchanged.
 */
export async function startTransformService(o: TransformServiceOptions): Promise<RunningCompanion> {
  const log = o.logger;
  let routes = new Map<string, RouteTransform>();
  let received = false;
  const server = await startTransformServer({ host: o.host, port: o.port, lookup: (r) => routes.get(r), logger: log });
  const client = new AdsClient({ target: `${o.xds.host}:${o.xds.port}`, nodeId: o.nodeId, cluster: 'transform', types: [TRANSFORM_TYPE_URL], logger: log });
  client.on('update', (_type, resources, version) => {
    routes = new Map([...resources.values()].map((r) => { const t = normalize(r as unknown as RouteTransform); return [t.route, t]; }));
    received = true;
    log.info({ version, routes: routes.size }, 'transform: routes applied');
  });
  client.on('disconnected', (err) => log.warn({ err: err?.message }, 'transform: control plane stream ended; reconnecting'));
  client.start();
  return {
    port: server.port,
    ready: () => received,
    async stop() {
      client.close();
      await server.stop();
    },
  };
}

/** `frontdesk transform --xds HOST:PORT [--port 18003]`, and part of `frontdesk start`. */
export const transformCompanion: CompanionDefinition = {
  name: 'transform',
  defaultPort: DEFAULT_PORTS.transform,
  usage: '',
  start: (o: CompanionOptions) => startTransformService({ xds: o.xds, host: o.host, port: o.port, nodeId: o.nodeId, logger: o.logger }),
};
