import { closest, diag } from '../../errors.js';
import { targetSchema, upstreamSchema } from '../entities.js';
import type { Upstream } from '../types.js';
import { hostProblem, splitHostPort } from './addresses.js';
import type { Child, Found, Raw } from './flat-config.js';
import { kongCacheKey, kongId } from '../../kong-ids.js';
import { parseChild, type References } from './references.js';
import { notImplemented, parseWith, type Reporter } from './reporter.js';

/** Upstreams, each with the targets that name it (nested, or by `upstream` name or id). */
export function loadUpstreams(rep: Reporter, refs: References, upstreams: readonly Found<Raw>[], targets: readonly Found<Child>[]): Upstream[] {
  const loaded: Upstream[] = [];
  // Refused for an error of their own: their targets go quietly, so the error is reported once.
  const refused = new Set<string>();
  for (const { value, origin, source } of upstreams) {
    const u = parseWith(rep, upstreamSchema, value, origin, { source });
    if (!u) { for (const k of [value.name, value.id]) if (typeof k === 'string') refused.add(k); continue; }
    const badName = hostProblem(u.name);
    if (badName) { rep.at(origin, diag('FD_BAD_HOST', [...origin.path, 'name'], u.name, `${badName} (an upstream's name is the host services use)`)); refused.add(u.name); if (u.id) refused.add(u.id); continue; }
    refs.claim('upstream', u.name, origin, 'name');
    const id = u.id ?? kongId('upstreams', u.name);
    refs.upstream.set(u.name, u.name);
    refs.upstream.set(id, u.name);
    if (u.algorithm === 'latency') rep.at(origin, diag('FD_FIELD_NOT_IMPLEMENTED', [...origin.path, 'algorithm'], 'algorithm: latency', 'Envoy has no latency-based balancer; use least-connections'));
    notImplemented(rep, origin, 'use_srv_name', u.use_srv_name, u.use_srv_name === false, 'targets are resolved as A/AAAA records');
    notImplemented(rep, origin, 'client_certificate', u.client_certificate, false, 'upstream mutual TLS is not served yet');
    for (const f of ['hash_on', 'hash_fallback'] as const) {
      if (u[f] === 'uri_capture') notImplemented(rep, origin, f, u[f], false, 'Envoy hashes the path after the route rewrites it (strip_path, the service path), so a capture of the request path cannot be the hash key; hash on header, cookie, query_arg, path, ip or consumer');
    }
    const { created_at: _c, updated_at: _u, tags: _t, use_srv_name: _s, client_certificate: _cc, ...rest } = u;
    loaded.push({ ...rest, id, targets: [], origin });
  }
  const byName = new Map(loaded.map((u) => [u.name, u]));
  for (const found of targets) attachTarget(rep, refs, byName, refused, found);
  return loaded;
}

function attachTarget(rep: Reporter, refs: References, byName: Map<string, Upstream>, refused: ReadonlySet<string>, found: Found<Child>): void {
  const { origin } = found;
  const parsed = parseChild(rep, targetSchema, found, 'upstream', (t) => t.upstream);
  if (!parsed) return;
  const { child: t, parent: upName } = parsed;
  const up = byName.get(refs.upstream.get(upName) ?? upName);
  if (!up && (refused.has(upName) || upName === '')) return;
  if (!up) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'upstream'], 'upstream', upName, closest(upName, byName.keys()))); return; }
  const hp = splitHostPort(t.target, 8000);
  if (!hp) { rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'target'], `target "${t.target}" is not host:port`, 'write it as host:port, e.g. 10.0.0.5:8080')); return; }
  const problem = hostProblem(hp.host);
  if (problem) { rep.at(origin, diag('FD_BAD_HOST', [...origin.path, 'target'], t.target, problem)); return; }
  const twin = up.targets.find((x) => x.host === hp.host && x.port === hp.port);
  if (twin) { rep.at(origin, diag('FD_DUPLICATE_NAME', [...origin.path, 'target'], 'target', t.target, rep.where(twin.origin))); return; }
  // targets' cache key is (upstream, target): the upstream as written, or the id of the one it is nested in
  const id = t.id ?? kongId('targets', kongCacheKey('targets', [found.value._parent !== undefined ? up.id : upName, t.target]));
  up.targets.push({ id, target: t.target, host: hp.host, port: hp.port, weight: t.weight, origin });
}
