import { closest, diag } from '../../errors.js';
import { caCertificateSchema, certificateSchema } from '../entities.js';
import type { CaCertificate, Certificate, Origin } from '../types.js';
import type { Found, Raw } from './flat-config.js';
import { refName, type Ref, type References } from './references.js';
import { parseWith, type Reporter } from './reporter.js';

/** Certificates, keyed by id else their first SNI, with the top-level `snis` that name them; an SNI belongs to one certificate. */
export function loadCertificates(rep: Reporter, refs: References, certificates: readonly Found<Raw>[], snis: readonly Found<Raw>[]): Certificate[] {
  const loaded: Certificate[] = [];
  for (const { value, origin, source } of certificates) {
    const c = parseWith(rep, certificateSchema, value, origin, { source });
    if (!c) continue;
    const names = c.snis.map((s) => (typeof s === 'string' ? s : s.name));
    const key = c.id ?? names[0];
    if (!key) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'id')); continue; }
    refs.claim('certificate', key, origin, 'id');
    refs.certificate.set(key, key);
    for (const s of names) refs.certificate.set(s, key);
    const files = c.cert_file !== undefined || c.key_file !== undefined
      ? { files: { ...(c.cert_file !== undefined ? { cert: c.cert_file } : {}), ...(c.key_file !== undefined ? { key: c.key_file } : {}) } }
      : {};
    loaded.push({ key, cert: c.cert ?? '', key_pem: c.key ?? '', ...files, snis: names, origin });
  }
  for (const { value, origin } of snis) {
    const name = value.name;
    const cref = refName(value.certificate as Ref);
    if (typeof name !== 'string') { rep.at(origin, diag('FD_REQUIRED', origin.path, 'name')); continue; }
    const cert = loaded.find((c) => c.key === refs.certificate.get(cref ?? ''));
    if (!cert) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'certificate'], 'certificate', cref ?? '', closest(cref ?? '', refs.certificate.keys()))); continue; }
    cert.snis.push(name);
  }
  const owner = new Map<string, Origin>();
  for (const c of loaded) for (const s of c.snis) {
    const earlier = owner.get(s);
    if (earlier) rep.at(c.origin, diag('FD_DUPLICATE_NAME', [...c.origin.path, 'snis'], 'sni', s, rep.where(earlier)));
    owner.set(s, c.origin);
  }
  return loaded;
}

/** CA certificates, keyed by id else `ca-<index>` (the key services' `ca_certificates` use). */
export function loadCaCertificates(rep: Reporter, caCertificates: readonly Found<Raw>[]): CaCertificate[] {
  const loaded: CaCertificate[] = [];
  caCertificates.forEach(({ value, origin, source }, i) => {
    const c = parseWith(rep, caCertificateSchema, value, origin, { source });
    if (c) loaded.push({ key: c.id ?? `ca-${i}`, cert: c.cert ?? '', ...(c.cert_file !== undefined ? { file: c.cert_file } : {}), origin });
  });
  return loaded;
}
