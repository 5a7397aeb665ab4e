import { diag } from '../../errors.js';
import { STREAM_PROTOCOLS } from '../load/routes.js';
import type { Plugin, Route } from '../types.js';
import type { Finding } from './authz.js';

/** Kong's plugins that also run on stream routes (their schema's protocols include tcp/tls). */
const STREAM_CAPABLE = new Set(['ip-restriction', 'file-log', 'http-log', 'tcp-log', 'udp-log', 'syslog', 'prometheus', 'opentelemetry', 'zipkin']);

/**
 * Stream routes are served by Envoy's tcp_proxy, without plugins. A plugin Kong would run on a
 * stream route (scoped to it, or to its service or globally when Kong runs that plugin on
 * streams) is refused rather than silently left out: an ip-restriction that guards nothing must
 * not load.
 */
export function checkStreamPlugins(routes: readonly Route[], plugins: readonly Plugin[]): Finding[] {
  const stream = routes.filter((r) => r.protocols.some((p) => STREAM_PROTOCOLS.has(p)));
  if (!stream.length) return [];
  const out: Finding[] = [];
  for (const p of plugins) {
    const s = p.scope;
    const hit = s.route
      ? stream.find((r) => r.name === s.route)
      : STREAM_CAPABLE.has(p.name) ? stream.find((r) => !s.service || r.service === s.service) : undefined;
    if (!hit || s.consumer) continue;
    out.push({ origin: p.origin, diagnostic: diag('FD_STREAM_PLUGIN', p.origin.path, p.name, hit.name) });
  }
  return out;
}
