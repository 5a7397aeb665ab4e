import type { z } from 'zod';
import { closest, diag } from '../../errors.js';
import { serviceSchema } from '../entities.js';
import type { Origin, Service, ServiceProtocol } from '../types.js';
import { DEFAULT_PORTS, hostProblem, parseServiceUrl } from './addresses.js';
import type { Found, Raw } from './flat-config.js';
import { kongId } from '../../kong-ids.js';
import { refName, type References } from './references.js';
import { parseWith, type Reporter } from './reporter.js';

/** The services that loaded, and the names and ids of those that did not: what hangs off these goes too, unreported. */
export interface LoadedServices {
  services: Service[];
  /** Refused: their own errors are reported. */
  refused: Set<string>;
  /** Switched off with `enabled: false`. */
  disabled: Set<string>;
}

const PROXIED = ['http', 'https', 'grpc', 'grpcs', 'ws', 'wss', 'tcp', 'tls', 'tls_passthrough'];

/** Services: url split into its parts with Kong's defaults, CA certificates and upstream resolved. */
export function loadServices(rep: Reporter, refs: References, services: readonly Found<Raw>[], caCertificates: readonly Found<Raw>[]): LoadedServices {
  const out: LoadedServices = { services: [], refused: new Set(), disabled: new Set() };
  const caKeys = new Set(caCertificates.map(({ value }, i) => String(value.id ?? `ca-${i}`)));
  for (const { value, origin, source } of services) {
    const s = parseWith(rep, serviceSchema, value, origin, { source });
    if (!s) {
      for (const k of [value.name, value.id, typeof value.name === 'string' ? kongId('services', value.name) : undefined]) if (typeof k === 'string') out.refused.add(k);
      continue;
    }
    const name = s.name ?? s.id;
    if (!name) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'name')); continue; }
    refs.claim('service', name, origin, 'name');
    const id = s.id ?? kongId('services', name);
    if (!s.enabled) { out.disabled.add(name); out.disabled.add(id); continue; }
    refs.service.set(name, name);
    refs.service.set(id, name);
    let bad = false;
    const certRef = refName(s.client_certificate);
    const clientCertificate = certRef === undefined ? undefined : refs.certificate.get(certRef);
    if (certRef !== undefined && clientCertificate === undefined) {
      rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'client_certificate'], 'certificate', certRef, closest(certRef, refs.certificate.keys())));
      bad = true;
    }
    (s.ca_certificates ?? []).forEach((ref, i) => {
      if (!caKeys.has(ref)) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'ca_certificates', i], 'CA certificate', ref, closest(ref, caKeys))); bad = true; }
    });
    if (bad) { out.refused.add(name); out.refused.add(id); continue; }
    const address = serviceAddress(rep, origin, s);
    if (!address) continue;
    if (s.mesh && !['https', 'grpcs', 'wss', 'tls'].includes(address.protocol)) {
      rep.at(origin, diag('FD_MESH_NEEDS_TLS', [...origin.path, 'mesh'], name));
      out.refused.add(name); out.refused.add(id); continue;
    }
    if (s.mesh?.identities && s.tls_verify !== true) {
      rep.at(origin, diag('FD_MESH_NEEDS_VERIFY', [...origin.path, 'mesh', 'identities'], name));
      out.refused.add(name); out.refused.add(id); continue;
    }
    if (s.connect_timeout === 60000 || s.read_timeout === 60000 || s.write_timeout === 60000) {
      rep.at(origin, diag('FD_TRAP_DEFAULT_TIMEOUT', origin.path, name));
    }
    out.services.push({
      name, id, ...address, upstream: refs.upstream.get(address.host), retries: s.retries, connect_timeout: s.connect_timeout,
      read_timeout: s.read_timeout, write_timeout: s.write_timeout, tls_verify: s.tls_verify,
      tls_verify_depth: s.tls_verify_depth, ca_certificates: s.ca_certificates,
      ...(clientCertificate ? { client_certificate: clientCertificate } : {}), ...(s.mesh ? { mesh: s.mesh } : {}), circuit_breaker: s.circuit_breaker,
      outlier_detection: s.outlier_detection, adaptive_concurrency: s.adaptive_concurrency, tags: s.tags, origin,
    });
  }
  return out;
}

/** Where a service sends requests: its url, or protocol/host/port/path, never both disagreeing; HTTP-like protocols only. */
function serviceAddress(rep: Reporter, origin: Origin, s: z.infer<typeof serviceSchema>): { protocol: ServiceProtocol; host: string; port: number; path?: string } | undefined {
  let { protocol, host, port, path } = s;
  if (s.url !== undefined) {
    const u = parseServiceUrl(s.url);
    if (!u) { rep.at(origin, diag('FD_BAD_URL', [...origin.path, 'url'], s.url)); return undefined; }
    const clash = (s.host !== undefined && s.host !== u.host) || (s.protocol !== undefined && s.protocol !== u.protocol)
      || (s.port !== undefined && s.port !== u.port) || (s.path !== undefined && s.path !== u.path);
    if (clash) { rep.at(origin, diag('FD_URL_AND_PARTS', [...origin.path, 'url'])); return undefined; }
    ({ protocol, host, port, path } = u);
  }
  if (!host) { rep.at(origin, diag('FD_SERVICE_NO_HOST', origin.path)); return undefined; }
  const problem = hostProblem(host);
  if (problem) { rep.at(origin, diag('FD_BAD_HOST', [...origin.path, s.url !== undefined ? 'url' : 'host'], host, problem)); return undefined; }
  protocol ??= 'http';
  port ??= DEFAULT_PORTS[protocol] ?? 80;
  if (!PROXIED.includes(protocol)) {
    rep.at(origin, diag('FD_FIELD_NOT_IMPLEMENTED', [...origin.path, s.url !== undefined ? 'url' : 'protocol'], `protocol: ${protocol}`, 'Frontdesk proxies HTTP, HTTPS, gRPC, WebSocket and TCP/TLS stream services (not UDP)'));
    return undefined;
  }
  return { protocol, host, port, path };
}
