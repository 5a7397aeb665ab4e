import { diag } from '../../errors.js';
import { isLocalAddress } from '../../local-address.js';
import type { Service, Upstream } from '../types.js';
import type { Finding } from './authz.js';

/** Frontdesk's default admin port (Kong's Admin API port). */
export const DEFAULT_ADMIN_PORT = 8001;

/**
 * A service (or an upstream target) that points at Frontdesk's admin port on this host
 * publishes the admin API through the proxy, which listens on every interface: /status,
 * /config and every write behind the token become reachable from wherever the proxy is.
 * Warned, not refused: a deliberate setup on a private network stays possible.
 */
export function checkAdminUpstream(services: readonly Service[], upstreams: readonly Upstream[], adminPort = DEFAULT_ADMIN_PORT): Finding[] {
  const out: Finding[] = [];
  for (const s of services) {
    if (s.upstream || s.port !== adminPort || !isLocalAddress(s.host)) continue;
    out.push({ origin: s.origin, diagnostic: diag('FD_TRAP_ADMIN_UPSTREAM', [...s.origin.path, 'url'], `service "${s.name}"`, s.host, s.port) });
  }
  for (const u of upstreams) {
    for (const t of u.targets) {
      if (t.port !== adminPort || !isLocalAddress(t.host)) continue;
      out.push({ origin: t.origin, diagnostic: diag('FD_TRAP_ADMIN_UPSTREAM', [...t.origin.path, 'target'], `upstream "${u.name}"`, t.host, t.port) });
    }
  }
  return out;
}
