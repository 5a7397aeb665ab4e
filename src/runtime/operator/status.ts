import { paint } from './paint.js';
import { compareText } from '../../text-order.js';

interface NodeView {
  id: string; cluster: string; mode: string; convergedVersion?: string;
  types: Record<string, { ackedVersion?: string; resources: number; lastNack?: { version: string; detail: string; at: string } }>;
}
interface Data {
  version: string | null; source: string; config: string; appliedAt: string | null;
  fleet: NodeView[];
  companions: { name: string; address: string; node?: string; version?: string | null; ready: boolean; state: string }[];
  lastError: { at: string; errors: { text: string }[] } | null;
  warnings: string[];
  acme?: { directory: string; storage: string; domains: { domain: string; notAfter?: string; lastError?: string; retryAt?: string }[] };
}

/**
 * `frontdesk status [--control-plane URL]`: the fleet at a glance, from the dashboard's data
 * (/ui/data): the version served and where it came from, each fleet's nodes with the version
 * each ACKed per resource type and their NACKs with Envoy's reason, the companions' readiness,
 * the acme plugin's certificates, and the last config error. Colour on a TTY. Exit 0 when the control plane answered, 1 if not.
 */
export async function runStatus(controlPlane: string, color: boolean, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const p = paint(color);
  const base = controlPlane.replace(/\/$/, '');
  let d: Data;
  try {
    const res = await fetch(`${base}/ui/data`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) { err.write(`frontdesk: GET ${base}/ui/data: ${res.status}\n`); return 1; }
    d = (await res.json()) as Data;
  } catch (e) {
    err.write(`frontdesk: cannot reach the control plane at ${base}: ${(e as Error).message}\n`);
    return 1;
  }
  const lines: string[] = [];
  lines.push(`${p.bold('Control plane')} ${base}: version ${d.version ? p.bold(d.version) : p.red('none')} from ${d.source === 'admin' ? 'the Admin API' : d.config}${d.appliedAt ? `, applied ${d.appliedAt}` : ''}`);
  const fleets = new Map<string, NodeView[]>();
  for (const n of d.fleet) fleets.set(n.cluster, [...(fleets.get(n.cluster) ?? []), n]);
  if (!fleets.size) lines.push(p.yellow('No Envoy connected.'));
  for (const [fleet, nodes] of [...fleets].sort(([a], [b]) => compareText(a, b))) {
    const held = nodes.filter((n) => n.convergedVersion === d.version).length;
    lines.push('', `${p.bold(`Fleet ${fleet}`)}: ${nodes.length} node(s), ${held === nodes.length ? p.green(`${held} hold the current version`) : p.yellow(`${held} of ${nodes.length} hold the current version`)}`);
    for (const n of nodes) {
      const holds = n.convergedVersion === d.version ? p.green(`holds ${n.convergedVersion}`) : p.yellow(`holds ${n.convergedVersion ?? 'nothing yet'}`);
      const types = Object.entries(n.types).sort(([a], [b]) => compareText(a, b))
        .map(([t, v]) => `${t} ${v.lastNack ? p.red(v.ackedVersion ?? '-') : (v.ackedVersion ?? '-')}`).join('  ');
      lines.push(`  ${n.id}  ${n.mode}  ${holds}  ${p.dim(types)}`);
      for (const [t, v] of Object.entries(n.types)) if (v.lastNack) lines.push(p.red(`    NACK ${t} ${v.lastNack.version} at ${v.lastNack.at}: ${v.lastNack.detail}`));
    }
  }
  lines.push('', p.bold('Companions'));
  for (const c of d.companions) lines.push(`  ${c.name.padEnd(10)} ${(c.node ?? c.address).padEnd(24)} ${c.ready ? p.green('ready') : p.red(c.state)}${c.version ? `  ${c.version}` : ''}`);
  if (d.acme) {
    lines.push('', `${p.bold('Certificates')} (acme: ${d.acme.directory}, ${d.acme.storage} storage)`);
    if (!d.acme.domains.length) lines.push(p.dim('  no name to order yet'));
    for (const n of d.acme.domains) {
      const state = n.lastError ? p.red(`failing: ${n.lastError}; next try ${n.retryAt ?? 'at the next check'}`)
        : n.notAfter ? p.green(`valid until ${n.notAfter}`) : p.yellow('being ordered');
      lines.push(`  ${n.domain}  ${state}`);
    }
  }
  if (d.lastError) {
    lines.push('', p.red(p.bold(`Last config error (${d.lastError.at}); the last good version keeps serving:`)));
    for (const e of d.lastError.errors) lines.push(p.red(`  ${e.text.replace(/\n/g, '\n  ')}`));
  }
  if (d.warnings.length) lines.push('', p.yellow(`${d.warnings.length} warning(s):`), ...d.warnings.map((w) => p.yellow(`  ${w.split('\n')[0]}`)));
  out.write(`${lines.join('\n')}\n`);
  return 0;
}
