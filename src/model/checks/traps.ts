import { diag } from '../../errors.js';
import type { Plugin, Route } from '../types.js';
import type { Finding } from './authz.js';

/**
 * Operational traps that need the whole configuration (CONFIG.md: `frontdesk validate` warns
 * where a default is a known trap): an upload route (its name or a path says upload or file,
 * and it takes methods other than GET and HEAD) that no request-size-limiting plugin covers,
 * on the route, its service or globally, accepts bodies of any size. (Kong's 60 s default
 * timeouts are warned about as each service loads.)
 */
export function checkTraps(routes: readonly Route[], plugins: readonly Plugin[]): Finding[] {
  const out: Finding[] = [];
  // Where a size limit applies, found once (a config has many routes and plugins).
  const limits = plugins.filter((p) => p.name === 'request-size-limiting' && !p.scope.consumer);
  const global = limits.some((p) => !p.scope.route && !p.scope.service);
  const onRoutes = new Set(limits.map((p) => p.scope.route).filter((x) => x !== undefined));
  const onServices = new Set(limits.filter((p) => !p.scope.route).map((p) => p.scope.service).filter((x) => x !== undefined));
  for (const r of routes) {
    const names = `${r.name} ${(r.paths ?? []).join(' ')}`;
    if (!/upload|file/i.test(names) || (r.methods ?? ['POST']).every((m) => m === 'GET' || m === 'HEAD')) continue;
    const limited = global || onRoutes.has(r.name) || (r.service !== undefined && onServices.has(r.service));
    if (!limited) out.push({ origin: r.origin, diagnostic: diag('FD_TRAP_NO_SIZE_LIMIT', r.origin.path, r.name) });
  }
  return out;
}
