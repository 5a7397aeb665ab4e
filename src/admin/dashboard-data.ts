import type { GatewayIR, IrRoute } from '../ir/types.js';
import type { NodeStatus } from '../xds/ads-server.js';
import { compareText } from '../text-order.js';

export interface DashboardInput {
  version: string | null;
  source: 'file' | 'admin';
  config: string;
  appliedAt: string | null;
  ir?: GatewayIR;
  /** Who enforces a plugin applied to a route at a scope (envoy, authz, ratelimit, transform; empty: nobody yet). */
  enforcers: (plugin: string, scope: string, route: IrRoute) => readonly string[];
  nodes: NodeStatus[];
  lastError: { at: string; errors: { text: string; file?: string; line?: number; col?: number; message: string }[] } | null;
  warnings: string[];
  history: unknown[];
  pushSamples: { at: string; node: string; ms: number }[];
  buildSamples: { at: string; ms: number }[];
  companions: { name: string; address: string }[];
  /** The acme plugin's names and their certificates, when the config has it. */
  acme?: AcmeStatus;
}

/** The acme plugin at a glance (/status, the dashboard, `frontdesk status`): the CA, the storage, each name's certificate or failure. */
export interface AcmeStatus {
  directory: string;
  storage: string;
  domains: { domain: string; notAfter?: string; lastError?: string; retryAt?: string }[];
}

export interface DashboardPlugin { name: string; scope: string; enforcers: readonly string[] }

const ENVOY_TYPES = new Set(['CDS', 'EDS', 'LDS', 'RDS', 'SDS']);
const COMPANION_OF_TYPE: Record<string, string> = { Consumer: 'authz', RoutePolicy: 'authz', RouteRateLimit: 'ratelimit', RouteTransform: 'transform' };

/** A companion is an xDS client too: told apart from Envoy by the resource types it asks for. */
function companionName(n: NodeStatus): string | undefined {
  const types = Object.keys(n.types);
  if (types.length === 0 || types.every((t) => ENVOY_TYPES.has(t))) return undefined;
  for (const t of types) if (COMPANION_OF_TYPE[t]) return COMPANION_OF_TYPE[t];
  return n.id.split('-')[0];
}

function match(r: IrRoute[]): string {
  const first = r[0]!;
  const paths = r.map((x) => (x.path ? `${x.path.kind === 'regex' ? '~' : ''}${x.path.value}` : '')).filter(Boolean);
  return [first.methods?.join(',') ?? '', first.hosts.join(','), paths.join(' ')].filter(Boolean).join(' ') || '(any)';
}

/** What the dashboard shows, from the control plane's state: plain JSON, no secret in it. */
export function dashboardData(i: DashboardInput): Record<string, unknown> {
  const plugins = (r: IrRoute): DashboardPlugin[] => Object.entries(r.plugins)
    .map(([name, p]) => ({ name, scope: p!.scope, enforcers: i.enforcers(name, p!.scope, r) }))
    .sort((a, b) => compareText(a.name, b.name));
  const byRoute = new Map<string, IrRoute[]>();
  for (const r of i.ir?.routes ?? []) byRoute.set(r.routeName, [...(byRoute.get(r.routeName) ?? []), r]);
  const services = (i.ir?.backends ?? []).map((b) => {
    const routes = [...byRoute.values()].filter((rs) => rs[0]!.action.backend === b.name);
    const all = routes.map((rs) => plugins(rs[0]!));
    const shared = all.length ? all[0]!.filter((p) => p.scope !== 'route' && all.every((ps) => ps.some((q) => q.name === p.name && q.scope === p.scope))) : [];
    return {
      name: b.name,
      target: describeBackend(b as unknown as Record<string, unknown>),
      plugins: shared,
      routes: routes.map((rs, k) => ({ name: rs[0]!.routeName, match: match(rs), plugins: all[k]!.filter((p) => !shared.some((q) => q.name === p.name && q.scope === p.scope)) })).sort((a, b2) => compareText(a.name, b2.name)),
    };
  }).sort((a, b) => compareText(a.name, b.name));
  const fleet = i.nodes.filter((n) => !companionName(n));
  const companionNodes = i.nodes.filter((n) => companionName(n));
  const companions = i.companions.map((c) => {
    const ns = companionNodes.filter((n) => companionName(n) === c.name);
    if (!ns.length) return [{ name: c.name, address: c.address, ready: false, state: 'not connected' }];
    return ns.map((n) => ({ name: c.name, address: c.address, node: n.id, version: n.convergedVersion ?? null, ready: n.convergedVersion === i.version, state: n.convergedVersion === i.version ? 'ready' : 'behind' }));
  }).flat();
  return {
    version: i.version, source: i.source, config: i.config, appliedAt: i.appliedAt, services, fleet, companions,
    lastError: i.lastError, warnings: i.warnings, history: i.history, pushSamples: i.pushSamples, buildSamples: i.buildSamples,
    ...(i.acme ? { acme: i.acme } : {}),
  };
}

function describeBackend(b: Record<string, unknown>): string {
  const eps = (b.endpoints as { host?: string; address?: string; port?: number }[] | undefined) ?? [];
  const proto = typeof b.protocol === 'string' ? b.protocol : 'http';
  const first = eps[0];
  const where = first ? `${first.host ?? first.address}:${first.port}` : String(b.name);
  return `${proto}://${where}${eps.length > 1 ? ` (+${eps.length - 1})` : ''}`;
}
