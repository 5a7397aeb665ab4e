import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import type { TranslateSettings } from '../../src/resources/filters/registry.js';

type Json = Record<string, any>;

/**
 * What Frontdesk compiles for `yaml` (listening on 127.0.0.1:`port`), as static resources for an
 * Envoy bootstrap: the same listeners and clusters xDS would push, with each listener's route
 * configuration inlined (no RDS) and EDS clusters given their endpoints (STATIC). `patchCluster`
 * may edit each cluster (a benchmark's variant); `settings` say where the companions listen.
 */
export function staticGatewayResources(yaml: string, port: number, patchCluster: (c: Json) => void = () => undefined, settings?: TranslateSettings): { listeners: Json[]; clusters: Json[] } {
  const r = compileConfig([{ file: 'bench.yaml', text: yaml }], { ir: { defaultListener: { address: '127.0.0.1', port } }, ...(settings ? { settings } : {}) });
  if (!r.ok || !r.translation) throw new Error(`bench config does not compile: ${JSON.stringify(r.diagnostics)}`);
  const fleet = r.translation.fleets.get('')!;
  const clone = (o: unknown) => JSON.parse(JSON.stringify(o)) as Json;
  const routes = fleet.get(TYPE.route)!;
  const endpoints = fleet.get(TYPE.endpoint)!;
  const listeners = [...fleet.get(TYPE.listener)!.values()].map((l) => {
    const listener = clone(l);
    for (const chain of listener.filter_chains as Json[]) {
      for (const f of chain.filters as Json[]) {
        const hcm = f.typed_config as Json;
        hcm.route_config = clone(routes.get(hcm.rds.route_config_name));
        delete hcm.rds;
      }
    }
    return listener;
  });
  const clusters = [...fleet.get(TYPE.cluster)!.values()].map((c) => {
    const cluster = clone(c);
    if (cluster.type === 'EDS') {
      cluster.type = 'STATIC';
      cluster.load_assignment = clone(endpoints.get(cluster.name));
      delete cluster.eds_cluster_config;
    }
    patchCluster(cluster);
    return cluster;
  });
  return { listeners, clusters };
}
