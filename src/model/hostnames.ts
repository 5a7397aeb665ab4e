/**
 * A certificate's `snis` as Kong validates them (kong/db/schema/typedefs.lua wildcard_host,
 * kong/tools/ip.lua): a name, not an IP, without a port, with at most one wildcard as its
 * first or last character. Returns Kong's error text, or undefined when valid. (A route's
 * `hosts` are checked by load/addresses.ts.)
 */

/** kong.tools.ip check_hostname: letters, digits, `-`, `.`, `_`; no empty label, no label ending in `-`; port ≤ 65535. */
function hostnameProblem(address: string): string | undefined {
  let name = address;
  const port = /:(\d+)$/.exec(address);
  if (port) {
    name = address.slice(0, -(port[1]!.length + 1));
    if (Number(port[1]) > 65535) return 'invalid port number';
  }
  if (!/^[\w.-]+$/.test(name)) return `invalid hostname: ${address}`;
  for (const label of name.split('.')) if (label === '' || label.endsWith('-')) return `invalid hostname: ${address}`;
  return undefined;
}

/** Kong's hostname_type: more than one colon is IPv6, digits and dots IPv4, anything else a name. */
function hostType(address: string): 'ipv4' | 'ipv6' | 'name' {
  const colons = address.split(':').length - 1;
  if (colons > 1) return 'ipv6';
  if (/^[\d.]+(:\d*)?$/.test(address)) return 'ipv4';
  return 'name';
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Kong's normalize_ip for a host with an optional port: its error text, or undefined. */
function hostWithOptionalPortProblem(address: string): string | undefined {
  switch (hostType(address)) {
    case 'ipv4': {
      const [ip, port] = address.split(':');
      if (!IPV4.test(ip!)) return `invalid ipv4 address: ${address}`;
      if (port !== undefined && (port === '' || Number(port) > 65535)) return 'invalid port number';
      return undefined;
    }
    case 'ipv6': {
      const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(address) ?? (/^[0-9a-fA-F:.]+$/.test(address) ? [address, address] : null);
      if (!m || (m[1]!.match(/::/g) ?? []).length > 1) return `invalid ipv6 address: ${address}`;
      if (m[2] !== undefined && Number(m[2]) > 65535) return 'invalid port number';
      return undefined;
    }
    default:
      return hostnameProblem(address);
  }
}

/** A certificate's SNI (typedefs.wildcard_host). */
export function sniProblem(sni: string): string | undefined {
  let host = sni;
  const idx = sni.indexOf('*');
  if (idx >= 0) {
    if (idx !== 0 && idx !== sni.length - 1) return 'wildcard must be leftmost or rightmost character';
    if (sni.split('*').length - 1 > 1) return 'only one wildcard must be specified';
    host = sni.replace('*', 'wildcard');
  }
  const problem = hostWithOptionalPortProblem(host);
  if (problem !== undefined && problem !== 'invalid port number') return `invalid value: ${host}`;
  if (hostType(host) !== 'name') return 'must not be an IP';
  if (problem === 'invalid port number' || /:\d+$/.test(host)) return 'must not have a port';
  return undefined;
}
