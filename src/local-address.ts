/** Addresses that reach this host's own services: loopback (127.0.0.0/8, ::1, localhost) or "any" (0.0.0.0, ::). */
export function isLocalAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1' || h === '0.0.0.0' || h === '::'
    || h === '0:0:0:0:0:0:0:1' || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** True for an IPv4 or IPv6 literal (EDS endpoints need addresses, not names). */
export function isIpLiteral(host: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(host) || (host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host));
}
