import { byName, companionResource, type CompanionResource } from '../../contracts/companion.js';
import { metricsResources, prometheusFeatures, UPSTREAM_TARGETS_TYPE_URL, type UpstreamTargets } from '../../contracts/log.js';
import type { GatewayIR } from '../../ir/types.js';
import { clusterName } from '../names.js';
import { compareText } from '../../text-order.js';
import { namespaceOf, routeSinkOf } from './companion-log.js';
import { markRouteSink } from './log-routing.js';
import type { HttpFilter } from './registry.js';

/**
 * Kong's prometheus plugin: Envoy's gRPC access logger (envoy.access_loggers.http_grpc)
 * streams each request of the plugin's routes to the log companion, which counts it in Kong's
 * metric names and labels (src/log/kong-metrics.ts) and serves them on its admin /metrics.
 * Envoy's own statistics cannot carry Kong's names (every one starts with `envoy_`) nor a
 * consumer or route label (docs/observability.md); the logger buffers entries and sends them
 * off the request path, as http-log's does. The route names its metrics sink (a hash of the
 * plugin's flags, contracts/log.ts) in its metadata; the entries travel in the one logger per
 * listener that carries every companion plugin's (companion-log.ts, emitted by http-log.ts),
 * so http-log and prometheus together cost one entry and one stream. Without a plugin that
 * logs headers, no header is logged: the entry carries the status, sizes, timings, the
 * response flags, the consumer authz identified and Kong's service and route names.
 * With upstream_health_metrics, the companion also gets each Kong upstream's targets
 * (UpstreamTargets) and writes kong_upstream_target_health from its Envoy's admin /clusters.
 */

export const PROMETHEUS = 'frontdesk.prometheus';
const SINK_METADATA = namespaceOf('prometheus');

export const prometheusFilter: HttpFilter = {
  name: PROMETHEUS,
  httpFilter: () => undefined,
  companions: (ctx) => [...metricsResources(ctx.ir), ...upstreamTargetsResources(ctx.ir)],
  patchRoute(r, envoyRoute) {
    markRouteSink(envoyRoute, SINK_METADATA, routeSinkOf('prometheus', r));
  },
};

/** Kong's target name: host:port, an IPv6 host in brackets. */
function targetName(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * IR → the companion's UpstreamTargets resources, when a prometheus plugin asks for
 * upstream_health_metrics (as Kong's exporter: one plugin turning it on exports every upstream's
 * targets): one per Kong upstream and subsystem that a service uses (an upstream no service
 * names has no Envoy cluster, hence no health to read), with the clusters of those services.
 * Targets of weight 0 are left out: Envoy holds no host for them (resources/cluster.ts). Health
 * checks count as on when active or passive checking is configured (Kong's `healthchecks_off`
 * otherwise).
 */
export function upstreamTargetsResources(ir: GatewayIR): CompanionResource[] {
  if (!prometheusFeatures(ir).some((f) => f.upstreamHealth)) return [];
  const out = new Map<string, UpstreamTargets & { clusters: string[]; targets: NonNullable<UpstreamTargets['targets']> }>();
  for (const b of [...ir.backends].sort((x, y) => compareText(x.name, y.name))) {
    if (!b.upstream) continue;
    const subsystem = b.stream ? 'stream' : 'http';
    const name = `${subsystem}:${b.upstream}`;
    let u = out.get(name);
    if (!u) {
      u = {
        name, upstream: b.upstream, subsystem, healthchecks: false, clusters: [],
        targets: b.endpoints.filter((e) => e.weight > 0).map((e) => ({ target: targetName(e.host, e.port), hostname: e.hostHeader, host: e.host, port: e.port })),
      };
      out.set(name, u);
    }
    u.healthchecks ||= b.active !== undefined || b.passive !== undefined;
    u.clusters.push(clusterName(b.name));
  }
  return byName([...out].map(([name, u]) => companionResource<UpstreamTargets>(UPSTREAM_TARGETS_TYPE_URL, name, u)));
}
