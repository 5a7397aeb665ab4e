import { acmeTakes, type AcmeFeature } from '../model/plugins/acme.js';
import { isIpLiteral } from '../local-address.js';
import { compareText } from '../text-order.js';
import type { GatewayIR, IrAcme, IrCertificate } from './types.js';

/**
 * What the control plane's ACME client holds at a moment: the http-01 challenges it is
 * answering and the certificates it has obtained (from its storage or the CA).
 */
export interface AcmeState {
  challenges: { token: string; keyAuthorization: string }[];
  certificates: { domain: string; cert: string; key: string }[];
  /** Names ordered through the Admin API (POST /acme) beyond those the config names. */
  requested?: string[];
  /** What an https listener with no certificate of its own serves to names ACME has none for (Kong's default certificate). */
  defaultCertificate?: { cert: string; key: string };
}

export const NO_ACME_STATE: AcmeState = { challenges: [], certificates: [] };

/** ACME tokens and key authorizations are base64url (RFC 8555 §8.1, §8.3); anything else is never served. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Whether one of Kong's SNIs (exact, `*.suffix` or `prefix.*`, a wildcard being one label) names `host`. */
function sniCovers(sni: string, host: string): boolean {
  const s = sni.toLowerCase();
  if (s.startsWith('*.')) return host.slice(host.indexOf('.')) === s.slice(1) && host.indexOf('.') > 0;
  if (s.endsWith('.*')) return host.slice(0, host.lastIndexOf('.') + 1) === s.slice(0, -1) && !host.slice(host.lastIndexOf('.') + 1).includes('.');
  return s === host;
}

/** The global acme plugin's feature, when the config has one. */
export function acmeOf(ir: GatewayIR): AcmeFeature | undefined {
  return ir.globalPlugins.acme?.feature;
}

/**
 * What of a config the ACME manager reads (small, so a build on the worker thread hands it over
 * without the IR): the plugin, the exact route host names it takes, and the configured SNIs.
 */
export interface AcmeInputs {
  feature: AcmeFeature;
  routeHosts: string[];
  configuredSnis: string[];
}

/** The config's AcmeInputs; undefined without the acme plugin. */
export function acmeInputs(ir: GatewayIR): AcmeInputs | undefined {
  const feature = acmeOf(ir);
  if (!feature) return undefined;
  const hosts = new Set<string>();
  for (const r of ir.routes) {
    for (const h of r.hosts) {
      const host = h.replace(/:\d+$/, '').toLowerCase();
      if (!host.includes('*') && acmeTakes(feature.domains, host)) hosts.add(host);
    }
  }
  const configuredSnis = [...new Set(ir.certificates.filter((c) => !c.acme).flatMap((c) => c.snis))].sort(compareText);
  return { feature, routeHosts: [...hosts].sort(compareText), configuredSnis };
}

/**
 * The names to hold ACME certificates for: the acme plugin's exact `domains`, the exact host
 * names of routes it takes (a `*` entry or allow_any_domain) and the names ordered through the
 * Admin API it takes (`requested`), less the names a configured certificate serves (Kong's
 * certificate phase gives ACME's certificate only where it would otherwise serve its default
 * one) and IP addresses. Kong orders when a client first sends the name; Frontdesk orders
 * ahead, so the first client already gets the certificate. Sorted.
 */
export function acmeDomainsOf(inputs: AcmeInputs | undefined, requested: readonly string[] = []): string[] {
  if (!inputs) return [];
  const { feature, routeHosts, configuredSnis } = inputs;
  const names = new Set([...feature.domains.exact, ...routeHosts]);
  for (const h of requested) if (acmeTakes(feature.domains, h)) names.add(h.toLowerCase());
  return [...names].filter((d) => !d.includes('*') && !isIpLiteral(d) && d.includes('.') && !configuredSnis.some((s) => sniCovers(s, d))).sort(compareText);
}

/** acmeDomainsOf a config's IR. */
export function acmeDomains(ir: GatewayIR, requested: readonly string[] = []): string[] {
  return acmeDomainsOf(acmeInputs(ir), requested);
}

/** The certificate resource of an ACME certificate (its key names it apart from the config's). */
export const acmeCertificateKey = (domain: string) => `acme:${domain}`;
const DEFAULT_KEY = 'acme:default';

/** Whether an https listener of the config has no certificate of its own (with the acme plugin, it may: it then serves a default). */
export function acmeNeedsDefault(ir: GatewayIR): boolean {
  return acmeOf(ir) !== undefined && ir.listeners.some((l) => l.protocol === 'https' && l.certificates.length === 0);
}

/**
 * The IR with what the ACME client holds: its certificates served on every https listener
 * for their names (after the configured ones, so a listener's default certificate stays the
 * configured first one; a listener with none serves `defaultCertificate` by default), and its
 * challenges for the http listeners' challenge routes. Only the
 * names acmeDomains gives are served: a certificate for a name the config no longer wants, or
 * one a configured certificate now serves, drops out. The IR given is not changed (its
 * objects are shared with the next build).
 */
export function applyAcme(ir: GatewayIR, state: AcmeState): GatewayIR {
  const acme = acmeOf(ir);
  if (!acme) return ir;
  const wanted = new Set(acmeDomains(ir, state.requested));
  const certificates: IrCertificate[] = state.certificates
    .filter((c) => wanted.has(c.domain))
    .sort((a, b) => compareText(a.domain, b.domain))
    .map((c) => ({ key: acmeCertificateKey(c.domain), cert: c.cert, keyPem: c.key, snis: [c.domain], acme: true as const }));
  const challenges = state.challenges
    .filter((c) => BASE64URL.test(c.token) && c.keyAuthorization.startsWith(`${c.token}.`) && BASE64URL.test(c.keyAuthorization.slice(c.token.length + 1)))
    .sort((a, b) => compareText(a.token, b.token));
  const ownAcme: IrAcme = { domains: acme.domains, challenges };
  const keys = certificates.map((c) => c.key);
  const fallback = state.defaultCertificate && acmeNeedsDefault(ir) ? state.defaultCertificate : undefined;
  if (fallback) certificates.unshift({ key: DEFAULT_KEY, cert: fallback.cert, keyPem: fallback.key, snis: [], acme: true });
  return {
    ...ir,
    certificates: [...ir.certificates, ...certificates],
    listeners: keys.length || fallback
      ? ir.listeners.map((l) => (l.protocol === 'https' ? { ...l, certificates: [...(l.certificates.length || !fallback ? l.certificates : [DEFAULT_KEY]), ...keys] } : l))
      : ir.listeners,
    acme: ownAcme,
  };
}
