import { isIP } from 'node:net';
import { SERVICE_PROTOCOLS } from '../entities.js';
import type { ServiceProtocol } from '../types.js';

/** Kong's port for a protocol whose URL names none (80 for the rest). */
export const DEFAULT_PORTS: Record<string, number> = { https: 443, grpcs: 443, wss: 443, tls: 443 };

/** `http://host:8080/path` → its parts, with Kong's defaults; undefined when it is not a URL. */
export function parseServiceUrl(url: string): { protocol: ServiceProtocol; host: string; port: number; path?: string } | undefined {
  const m = /^([a-z_]+):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?(\/[^?#]*)?$/i.exec(url.trim());
  if (!m) return undefined;
  const [, schemeText = '', hostText = '', portText, path] = m;
  const scheme = schemeText.toLowerCase();
  const protocol = SERVICE_PROTOCOLS.find((p) => p === scheme);
  if (!protocol) return undefined;
  const port = portText ? Number(portText) : (DEFAULT_PORTS[protocol] ?? 80);
  if (port > 65535) return undefined;
  return { protocol, host: hostText.replace(/^\[|\]$/g, ''), port, path };
}

/** `host:port`, `[v6]:port` or `host` → parts; undefined when malformed. */
export function splitHostPort(s: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const [, hostText = '', portText] = m;
  const port = portText ? Number(portText) : defaultPort;
  if (port < 1 || port > 65535) return undefined;
  return { host: hostText.replace(/^\[|\]$/g, ''), port };
}

/**
 * Why a host is not one Kong accepts (undefined when it is): an IPv4 or IPv6 address, or a
 * name made of letters, digits, `-`, `.` and `_` whose dot-separated labels are not empty
 * (a trailing "." aside) and do not end in `-` (Kong's typedefs.host through
 * utils.normalize_ip / check_hostname, `^[%d%a%-%.%_]+$`).
 * Placeholders such as `<my-backend-host>` are refused, as Kong refuses them.
 */
export function hostProblem(host: string): string | undefined {
  if (isIP(host)) return undefined;
  if (/^\d+(\.\d+){3}$/.test(host)) return 'not a valid IPv4 address';
  if (!/^[0-9A-Za-z._-]+$/.test(host)) return 'not a valid hostname or IP address';
  // Kong's check_hostname: no empty label (but a fully qualified name may end in "."), none ending in "-".
  const labels = host.split('.');
  if (labels.some((label, i) => (label === '' && i !== labels.length - 1) || label.endsWith('-'))) return 'not a valid hostname or IP address';
  return undefined;
}

/**
 * Why a route's host is not one Kong accepts (typedefs.wildcard_host): at most one `*`, as the
 * whole leftmost or rightmost label (`*.example.com`, `example.*`), an optional `:port`, and
 * otherwise a host as hostProblem checks it.
 */
export function routeHostProblem(host: string): string | undefined {
  const stars = host.split('*').length - 1;
  if (stars > 1) return 'invalid wildcard: must have at most one wildcard';
  // `[v6]` or `[v6]:port` (Kong's normalize_ipv6), else `name` or `name:port`.
  const m = host.startsWith('[') ? /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(host) : /^([^:]*)(?::(\d{1,5}))?$/.exec(host);
  if (host.startsWith('[') && !(m && isIP(m[1] ?? '') === 6)) return 'not a valid IPv6 address';
  let name = m?.[1] ?? host;
  if (m?.[2] !== undefined && Number(m[2]) > 65535) return 'invalid port number'; // Kong's check_hostname
  if (stars === 1) {
    if (!name.startsWith('*.') && !name.endsWith('.*')) return 'invalid wildcard: must be placed at leftmost or rightmost label';
    name = name.replace('*', 'wildcard');
  }
  return hostProblem(name);
}
