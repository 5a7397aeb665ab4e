import type { GatewayIR } from '../ir/types.js';
import type { JsonObject } from './builders.js';
import { buildCluster, buildLoadAssignment, buildTrustSecret } from './cluster.js';
import { HTTP_FILTERS } from './filters/index.js';
import { expandChain, type ChainEntry, type CompanionResource, type FilterContext, type TranslateSettings } from './filters/registry.js';
import { buildListener, httpFilterChain, routeConfigNameFor } from './listener.js';
import { clusterName } from './names.js';
import { buildRouteConfiguration } from './route-config.js';
import { buildSecret } from './secret.js';
import { buildStreamListener } from './stream-listener.js';
import { TYPE } from './type-urls.js';
import { translateContext, type TranslateMemo } from './translate-memo.js';

/** Resources of one kind, by name. Names are sorted when serialized. */
export type ResourceMap = Map<string, JsonObject>;

/** Everything one configuration compiles to: Envoy resources per fleet, and companion resources. */
export interface Translation {
  /** fleet ('' = nodes of no declared fleet) → type URL → resources. */
  fleets: Map<string, Map<string, ResourceMap>>;
  /** type URL → resources, the same for every companion instance. */
  companions: Map<string, ResourceMap>;
}

/**
 * IR → Envoy and companion resources. Pure: the same IR and settings give the same objects,
 * and an object shared by several fleets is the same instance (so it is encoded once).
 * With a memo (translate-memo.ts), routes, clusters and endpoints whose IR did not change
 * since the last build are the objects that build made: the output is the same either way.
 */
export function translate(ir: GatewayIR, settings: TranslateSettings, chain: readonly ChainEntry[] = HTTP_FILTERS, memo?: TranslateMemo): Translation {
  const filters = expandChain(chain, ir);
  memo?.begin(translateContext(ir, settings, filters));
  const ctx: FilterContext = memo ? { ir, settings, derive: memo.derive } : { ir, settings };
  const clusters = new Map<string, JsonObject>();
  const endpoints = new Map<string, JsonObject>();
  for (const b of ir.backends) {
    clusters.set(clusterName(b.name), memo ? memo.get('cluster', b.name, b, () => buildCluster(b)) : buildCluster(b));
    if (b.discovery === 'eds') endpoints.set(clusterName(b.name), memo ? memo.get('endpoints', b.name, b, () => buildLoadAssignment(b)) : buildLoadAssignment(b));
  }
  const intern = <T>(kind: string, built: T): T => (memo ? memo.intern(kind, built) : built);
  const filterClusters = filters.flatMap((f) => f.clusters?.(ctx) ?? []).map((c) => intern(TYPE.cluster, c));
  const secrets = new Map(ir.certificates.map((c) => { const s = intern(TYPE.secret, buildSecret(c)); return [s.name as string, s]; }));
  const certSnis = new Map(ir.certificates.map((c) => [c.key, c.snis]));

  const fleetNames = [...new Set(['', ...ir.listeners.map((l) => l.fleet ?? '')])].sort();
  const fleets = new Map<string, Map<string, ResourceMap>>();
  for (const fleet of fleetNames) {
    const listeners = ir.listeners.filter((l) => (l.fleet ?? '') === fleet || l.fleet === undefined);
    const lds: ResourceMap = new Map();
    const rds: ResourceMap = new Map();
    const used = new Set<string>();
    const usedSecrets = new Set<string>();
    for (const l of listeners) {
      if (l.protocol === 'tcp' || l.protocol === 'tls') {
        const stream = buildStreamListener(l, certSnis);
        lds.set(stream.name as string, stream);
        for (const r of l.streamRoutes ?? []) if (r.service) used.add(clusterName(r.service));
        for (const c of l.certificates) usedSecrets.add(c);
        continue;
      }
      const chain = httpFilterChain(l, filters, ctx);
      const listener = intern(TYPE.listener, buildListener(l, filters, ctx, certSnis, chain));
      lds.set(listener.name as string, listener);
      const rc = buildRouteConfiguration(l, filters, ctx, memo, routeConfigNameFor(l, chain));
      rds.set(rc.name as string, rc);
      for (const r of l.routes) if (r.service) used.add(clusterName(r.action.backend));
      for (const c of l.certificates) usedSecrets.add(c);
    }
    for (const b of ir.backends) if (b.tls?.clientCertificate && used.has(clusterName(b.name))) usedSecrets.add(b.tls.clientCertificate);
    const cds: ResourceMap = new Map();
    const eds: ResourceMap = new Map();
    for (const name of [...used].sort()) {
      cds.set(name, clusters.get(name)!);
      const e = endpoints.get(name);
      if (e) eds.set(name, e);
    }
    if (lds.size) for (const c of filterClusters) cds.set(c.name as string, c);
    const sds: ResourceMap = new Map();
    for (const c of ir.certificates) if (usedSecrets.has(c.key)) { const s = secrets.get(`certificate:${c.key}`) ?? buildSecret(c); sds.set(s.name as string, s); }
    for (const b of ir.backends) {
      const trust = used.has(clusterName(b.name)) ? buildTrustSecret(b) : undefined;
      if (trust) sds.set(trust.name as string, trust);
    }
    fleets.set(fleet, new Map([[TYPE.cluster, cds], [TYPE.endpoint, eds], [TYPE.listener, lds], [TYPE.route, rds], [TYPE.secret, sds]]));
  }

  const companions = new Map<string, ResourceMap>();
  const add = (r: CompanionResource) => {
    let m = companions.get(r.typeUrl);
    if (!m) companions.set(r.typeUrl, (m = new Map()));
    m.set(r.name, intern(r.typeUrl, r.body));
  };
  for (const f of filters) for (const r of f.companions?.(ctx) ?? []) add(r);
  memo?.end();
  return { fleets, companions };
}

