/**
 * The names the control-plane parties go by in their certificates (URI SANs, SPIFFE-shaped):
 * what the control plane, the companions and Envoy check instead of host names. Pure.
 */

export const SPIFFE_PREFIX = 'spiffe://frontdesk/';

/** Who is on the other end of a control-plane connection, as its certificate says. */
export type Identity =
  | { role: 'envoy'; fleet: string }
  | { role: 'companion'; name: string }
  | { role: 'control-plane' };

/** The URI SAN for an identity: spiffe://frontdesk/envoy/<fleet>, …/companion/<name>, …/control-plane. */
export function spiffeId(id: Identity): string {
  if (id.role === 'envoy') return `${SPIFFE_PREFIX}envoy/${encodeURIComponent(id.fleet)}`;
  if (id.role === 'companion') return `${SPIFFE_PREFIX}companion/${id.name}`;
  return `${SPIFFE_PREFIX}control-plane`;
}

/** The three files every mTLS party is given: its certificate chain, its key, the CA it trusts. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}
