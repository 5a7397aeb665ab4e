import { diag } from '../../errors.js';
import type { Service, Upstream } from '../types.js';
import type { Finding } from './authz.js';

/** Frontdesk's default admin port (Kong's Admin API port). */
export const DEFAULT_ADMIN_PORT = 8001;

/** Addresses that reach the control plane's own host: loopback (127.0.0.0/8, ::1, localhost) or "any". */
export function isLocalAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1' || h === '0.0.0.0' || h === '::'
    || h === '0:0:0:0:0:0:0:1' || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

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
