import { diag } from '../../errors.js';
import type { Plugin, Route } from '../types.js';
import type { Finding } from './authz.js';

/** The request protocols a plugin entity's `protocols` chooses among (Kong's default list: all of them). */
const PLUGIN_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'];

/**
 * Kong runs a plugin only for requests whose protocol its `protocols` lists; Frontdesk runs it
 * for every request of the routes it applies to. Where the two differ, a route of the plugin's
 * scope taking a protocol the list leaves out, the file says so at the field (a warning: for an
 * auth plugin the difference only refuses more, for another it changes what those requests get).
 */
export function checkPluginProtocols(routes: readonly Route[], plugins: readonly Plugin[]): Finding[] {
  const out: Finding[] = [];
  for (const p of plugins) {
    const missing = PLUGIN_PROTOCOLS.filter((x) => !p.protocols.includes(x));
    if (!missing.length) continue;
    const s = p.scope;
    const inScope = routes.filter((r) => (s.route ? r.name === s.route : !s.service || r.service === s.service));
    const takes = (r: Route) => new Set<string>(r.protocols);
    const hit = inScope.find((r) => missing.some((x) => takes(r).has(x)));
    if (!hit) continue;
    const left = missing.filter((x) => takes(hit).has(x));
    out.push({
      origin: p.origin,
      diagnostic: diag('FD_FIELD_NOT_APPLIED', [...p.origin.path, 'protocols'], 'protocols',
        `route "${hit.name}" takes ${left.join(', ')}, which it leaves out: Frontdesk runs the plugin for every request of its routes (Kong skips it for those); scope it to a route that takes only the protocols it lists`),
    });
  }
  return out;
}
