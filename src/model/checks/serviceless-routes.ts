import { LOG_PHASE_PLUGINS } from '../../log-phase-plugins.js';
import { diag } from '../../errors.js';
import type { Plugin, Route } from '../types.js';
import type { Finding } from './authz.js';

/**
 * The plugins that answer a route without a service by themselves (Kong's exits; the route's
 * direct_response here), in Kong's order (redirect 779 before request-termination 2), each with
 * the plugins Kong runs only after it (a lower priority: they never see the request).
 */
const ANSWERING: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['redirect', new Set(['proxy-cache', 'grpc-web', 'request-termination'])],
  ['request-termination', new Set<string>()],
]);

/**
 * A route without a service is answered by its redirect or request-termination alone: the
 * translation gives it no per-route filter configs (it never proxies), so no other plugin runs
 * on it. Kong runs the route's other plugins first (an auth plugin's 401 before the redirect,
 * a rate limit's 429), so such a route with another plugin on it (its own or a global one) is
 * refused: served as it is, an auth plugin would be skipped and the answer given to anyone.
 */
export function checkServicelessRoutes(routes: readonly Route[], plugins: readonly Plugin[]): Finding[] {
  const applying = plugins.filter((p) => !p.scope.consumer && !p.scope.service && !LOG_PHASE_PLUGINS.has(p.name));
  if (!applying.some((p) => ANSWERING.has(p.name))) return [];
  const out: Finding[] = [];
  for (const r of routes) {
    if (r.service !== undefined) continue;
    const on = new Set(applying.filter((p) => p.scope.route === undefined || p.scope.route === r.name).map((p) => p.name));
    const answering = [...ANSWERING.keys()].find((name) => on.has(name));
    if (!answering) continue;
    const after = ANSWERING.get(answering)!;
    const before = [...on].filter((name) => name !== answering && !after.has(name)).sort();
    if (before.length) out.push({ origin: r.origin, diagnostic: diag('FD_SERVICELESS_PLUGINS', r.origin.path, r.name, answering, before) });
  }
  return out;
}
