import type { IrListener, IrStreamRoute } from '../ir/types.js';
import { adsSource, anyMessage, compact, socketAddress, type JsonObject } from './builders.js';
import { clusterName, listenerName, secretName } from './names.js';

/**
 * Kong's stream listeners (stream_listen) as Envoy listeners of tcp_proxy filter chains, one
 * chain per way a stream route matches, Envoy picking the most specific (server name, then
 * destination, then source, as its filter-chain matching orders them):
 * - tcp: the client's address and port (`sources`), the listener's address (`destinations`);
 * - tls (Kong's `ssl` flag): the TLS inspector reads the client's server name; `tls_passthrough`
 *   routes forward the client's TLS bytes untouched to their service, chosen by `snis`; `tls`
 *   routes end TLS here with the listener's certificates (over SDS, chosen by SNI) and send
 *   the bytes to their service (TLS again for a `tls` service).
 * A connection no chain matches is closed, as Kong closes a stream no route matches.
 */

function cidr(ip: string): JsonObject {
  const [address = ip, len] = ip.split('/');
  return { address_prefix: address, prefix_len: Number(len ?? (address.includes(':') ? 128 : 32)) };
}

function tcpProxy(r: IrStreamRoute): JsonObject {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: anyMessage('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', { stat_prefix: r.id, cluster: clusterName(r.service!) }),
  };
}

/** The filter_chain_match entries of a route's sources (one per source: Kong pairs an ip with a port) and destinations. */
function matches(r: IrStreamRoute, serverNames: string[] | undefined): JsonObject[] {
  const destinations = r.destinations.filter((d) => d.ip !== undefined).map((d) => cidr(d.ip!));
  const base = compact({
    server_names: serverNames?.length ? serverNames : undefined,
    transport_protocol: serverNames !== undefined ? 'tls' : undefined,
    prefix_ranges: destinations.length ? destinations : undefined,
  });
  if (!r.sources.length) return [base];
  return r.sources.map((s) => compact({
    ...base,
    source_prefix_ranges: s.ip !== undefined ? [cidr(s.ip)] : undefined,
    source_ports: s.port !== undefined ? [s.port] : undefined,
  }));
}

function downstreamTls(cert: string): JsonObject {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: anyMessage('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
      common_tls_context: { tls_certificate_sds_secret_configs: [{ name: secretName(cert), sds_config: adsSource() }] },
    }),
  };
}

/** The server names a certificate serves that a route asks for (all of the certificate's when the route names none). */
function served(routeSnis: string[], certSnis: string[]): string[] {
  if (!routeSnis.length) return certSnis;
  const covers = (cert: string, name: string) => cert === name || (cert.startsWith('*.') && name.endsWith(cert.slice(1)) && !name.slice(0, -cert.length + 1).includes('.'));
  return routeSnis.filter((n) => certSnis.some((c) => covers(c, n)));
}

/** IrListener (tcp or tls) → envoy.config.listener.v3.Listener of tcp_proxy filter chains. */
export function buildStreamListener(l: IrListener, certSnis: Map<string, string[]>): JsonObject {
  const chains: JsonObject[] = [];
  const taken = new Set<string>();
  const add = (match: JsonObject, chain: Omit<JsonObject, 'filter_chain_match'>) => {
    const key = JSON.stringify(match);
    if (taken.has(key)) return; // a less specific route (or one with a lower id) with the same match: the first one wins
    taken.add(key);
    chains.push({ ...(Object.keys(match).length ? { filter_chain_match: match } : {}), ...chain });
  };
  for (const r of l.streamRoutes ?? []) {
    if (!r.service) continue;
    if (l.protocol === 'tcp') {
      for (const m of matches(r, undefined)) add(m, { name: `${r.id}:${chains.length}`, filters: [tcpProxy(r)] });
    } else if (r.protocols.includes('tls_passthrough')) {
      for (const m of matches(r, r.snis)) add(m, { name: `${r.id}:${chains.length}`, filters: [tcpProxy(r)] });
    } else {
      for (const cert of l.certificates) {
        const names = served(r.snis, certSnis.get(cert) ?? []);
        if (!names.length) continue;
        for (const m of matches(r, names)) add(m, { name: `${r.id}:${chains.length}`, filters: [tcpProxy(r)], transport_socket: downstreamTls(cert) });
      }
    }
  }
  return compact({
    name: listenerName(l.name),
    address: socketAddress(l.address, l.port),
    filter_chains: chains,
    listener_filters: l.protocol === 'tls' ? [{ name: 'envoy.filters.listener.tls_inspector', typed_config: anyMessage('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', {}) }] : undefined,
  });
}
