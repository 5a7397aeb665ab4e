import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { diag, type Diagnostic } from '../errors.js';
import type { GatewayModel, Origin } from '../model/types.js';
import { parseYamlSource, type SourceText, type YamlSource } from '../model/yaml-source.js';

export interface CertificateFilesResult {
  model?: GatewayModel;
  diagnostics: Diagnostic[];
  /** Every PEM file read (absolute): the control plane watches them and compiles again when one changes. */
  files: string[];
}

/**
 * The certificates and CA certificates given by file (`cert_file`, `key_file`: the extension a
 * mesh agent's rotated files are named with) read into the model. A file that cannot be read,
 * is not PEM, or a key that does not match its certificate (an agent caught between writing the
 * two) is a diagnostic at the field's line:col, so the config is refused and the last good one
 * keeps serving until the next change.
 */
export function resolveCertificateFiles(model: GatewayModel, texts: readonly SourceText[]): CertificateFilesResult {
  const diagnostics: Diagnostic[] = [];
  const files = new Set<string>();
  const sources = new Map<string, YamlSource | undefined>();
  const fail = (origin: Origin, field: string, path: string, why: string) => {
    if (!sources.has(origin.file)) {
      const text = texts.find((t) => t.file === origin.file);
      sources.set(origin.file, text ? parseYamlSource(text).source : undefined);
    }
    const at = [...origin.path, field];
    diagnostics.push({ ...diag('FD_CERT_FILE', at, path, why), file: origin.file, ...(sources.get(origin.file)?.locate(at) ?? { line: 1, col: 1 }) });
  };
  const read = (origin: Origin, field: string, path: string, kind: 'certificate' | 'key'): string | undefined => {
    const full = isAbsolute(path) ? path : resolve(dirname(origin.file), path);
    files.add(full);
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (e) {
      fail(origin, field, path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
      return undefined;
    }
    const marker = kind === 'certificate' ? 'BEGIN CERTIFICATE' : 'PRIVATE KEY';
    if (!text.includes(marker)) { fail(origin, field, path, `not a PEM ${kind}`); return undefined; }
    return text;
  };
  const certificates = model.certificates.map((c) => {
    if (!c.files) return c;
    const cert = c.files.cert !== undefined ? read(c.origin, 'cert_file', c.files.cert, 'certificate') : c.cert;
    const key = c.files.key !== undefined ? read(c.origin, 'key_file', c.files.key, 'key') : c.key_pem;
    if (cert === undefined || key === undefined) return c;
    const mismatch = keyMismatch(cert, key);
    if (mismatch) fail(c.origin, c.files.key !== undefined ? 'key_file' : 'cert_file', c.files.key ?? c.files.cert ?? '', mismatch);
    return { ...c, cert, key_pem: key };
  });
  const caCertificates = model.caCertificates.map((c) => {
    if (c.file === undefined) return c;
    const cert = read(c.origin, 'cert_file', c.file, 'certificate');
    return cert === undefined ? c : { ...c, cert };
  });
  const out = [...files].sort();
  return diagnostics.length ? { diagnostics, files: out } : { model: { ...model, certificates, caCertificates }, diagnostics, files: out };
}

/** Why the key cannot serve the certificate (the first certificate of the chain), if it cannot. */
function keyMismatch(cert: string, key: string): string | undefined {
  try {
    return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)) ? undefined : 'the key does not match the certificate';
  } catch (e) {
    return `not a usable certificate and key: ${(e as Error).message}`;
  }
}
