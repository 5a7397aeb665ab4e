import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Pieces of Kong's schema typedefs (kong/db/schema/typedefs.lua) shared by the plugins Envoy
 * enforces natively, and the one wording for "Kong has it, Frontdesk does not serve it".
 */

/** An HTTP header name (RFC 7230 token); "%" is left out since Envoy reads it as a format command. */
export const HEADER_NAME = /^[A-Za-z0-9!#$&'*+.^_`|~-]+$/;

/** A header value Kong accepts: no control characters but tab. */
export const HEADER_VALUE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;

export const headerName = z.string().regex(HEADER_NAME, 'must be an HTTP header name (letters, digits and !#$&\'*+.^_`|~-)');

/** Kong's typedefs.ip_or_cidr: an IPv4 or IPv6 address, with an optional /prefix. */
export function isIpOrCidr(s: string): boolean {
  const [address, len, extra] = s.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (!family) return false;
  if (len === undefined) return true;
  if (!/^\d{1,3}$/.test(len)) return false;
  return Number(len) <= (family === 4 ? 32 : 128);
}

export const ipOrCidr = z.string().refine(isIpOrCidr, { message: 'must be an IP address or a CIDR range (e.g. 10.0.0.0/8)' });

/** The message of a refused field: what Kong would do that Frontdesk cannot, and what to write instead. */
export function notServed(what: string, instead: string): string {
  return `${what} is not served by Frontdesk; ${instead}`;
}

export { splitColon } from '../../kong-pairs.js';
