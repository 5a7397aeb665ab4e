import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh self-signed EC certificate for `names` (openssl), as PEM strings; an IPv4 address is an IP SAN (Node checks an address against those only), the rest DNS SANs. */
export function selfSignedCert(names: string[]): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => (/^\d{1,3}(\.\d{1,3}){3}$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`,
      '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Indents a PEM for a YAML block scalar. */
export function yamlBlock(pem: string, indent: number): string {
  return pem.trim().split('\n').map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}
