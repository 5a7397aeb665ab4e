import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge, { type pki } from 'node-forge';
import { spiffeId, type Identity } from '../tls.js';

/**
 * `frontdesk certs`: a small CA and the certificates of every control-plane party, for
 * development and for people without a PKI. Each certificate names its party in a URI SAN
 * (spiffe://frontdesk/control-plane, …/envoy/<fleet>, …/companion/<name>): that, not a host
 * name, is what the control plane and Envoy check. Node's crypto makes the RSA keys; node-forge
 * builds and signs the X.509 certificates (Node cannot sign one by itself).
 */

export interface Pem { cert: string; key: string }

/** Every party of one deployment. */
export interface CertPlan {
  fleets: string[];
  companions: string[];
  /** Extra DNS names for the control plane's and companions' certificates (their service names). */
  hosts?: string[];
  days?: number;
}

export const COMPANION_NAMES = ['authz', 'ratelimit', 'transform', 'log'];

function rsaKey(): { pem: string; key: pki.PrivateKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { pem: privateKey, key: forge.pki.privateKeyFromPem(privateKey) };
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // a positive integer
  return b.toString('hex');
}

function validity(cert: pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000); // a little clock skew between machines
  cert.validity.notAfter = new Date(now + days * 86_400_000);
}

/** A self-signed CA certificate for signing the parties' certificates (`name`: its common name). */
export function createCa(days = 3650, name = 'frontdesk CA'): Pem {
  const k = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.serialNumber = serial();
  cert.publicKey = forge.pki.setRsaPublicKey(k.key.n, k.key.e);
  validity(cert, days);
  const subject = [{ name: 'commonName', value: name }, { name: 'organizationName', value: 'frontdesk' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(k.key, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: k.pem };
}

/** A certificate for one party, signed by the CA: client and server use, its identity as URI SAN. */
export function issue(ca: Pem, id: Identity, hosts: string[] = [], days = 90): Pem {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const k = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.serialNumber = serial();
  cert.publicKey = forge.pki.setRsaPublicKey(k.key.n, k.key.e);
  validity(cert, days);
  const uri = spiffeId(id);
  cert.setSubject([{ name: 'commonName', value: uri.slice('spiffe://'.length) }, { name: 'organizationName', value: 'frontdesk' }]);
  cert.setIssuer(caCert.subject.attributes);
  const dns = [...new Set(['localhost', ...hosts])];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 6, value: uri }, ...dns.map((d) => ({ type: 2, value: d })), { type: 7, ip: '127.0.0.1' }] },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: k.pem };
}

/** The file names of one party's certificate and key in the output folder. */
export function certFiles(dir: string, id: Identity): { cert: string; key: string } {
  const base = id.role === 'envoy' ? `envoy-${id.fleet}` : id.role === 'companion' ? id.name : 'control-plane';
  return { cert: join(dir, `${base}.pem`), key: join(dir, `${base}-key.pem`) };
}

/** Writes a file in one step (a temp file renamed over it), so a reader never sees half of it. */
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/**
 * Writes the CA (kept when DIR already has one: running it again rotates the parties'
 * certificates under the same CA) and a certificate per party. Each key is written before its
 * certificate, both atomically, so a watcher never takes a certificate without its key.
 */
export function writeCerts(dir: string, plan: CertPlan): { files: string[]; caCreated: boolean } {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const caPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca-key.pem');
  let ca: Pem;
  const caCreated = !(existsSync(caPath) && existsSync(caKeyPath));
  if (caCreated) {
    ca = createCa();
    writeAtomic(caKeyPath, ca.key, 0o600);
    writeAtomic(caPath, ca.cert, 0o644);
  } else {
    ca = { cert: readFileSync(caPath, 'utf8'), key: readFileSync(caKeyPath, 'utf8') };
  }
  const files = [caPath, caKeyPath];
  const parties: Identity[] = [
    { role: 'control-plane' },
    ...plan.fleets.map((fleet): Identity => ({ role: 'envoy', fleet })),
    ...plan.companions.map((name): Identity => ({ role: 'companion', name })),
  ];
  for (const id of parties) {
    const hosts = id.role === 'envoy' ? [] : [id.role === 'companion' ? id.name : 'control-plane', ...(plan.hosts ?? [])];
    const pem = issue(ca, id, hosts, plan.days);
    const f = certFiles(dir, id);
    writeAtomic(f.key, pem.key, 0o600);
    writeAtomic(f.cert, pem.cert, 0o644);
    files.push(f.cert, f.key);
  }
  return { files, caCreated };
}

let processDefault: Pem | undefined;

/**
 * The certificate an https listener with none of its own serves (Kong's default certificate,
 * made at start: self-signed, CN localhost): one per process, so every build serves the same.
 * Only the acme plugin's listeners need it, until ACME's certificates cover their names.
 */
export function defaultServerCertificate(): Pem {
  if (processDefault) return processDefault;
  const k = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.serialNumber = serial();
  cert.publicKey = forge.pki.setRsaPublicKey(k.key.n, k.key.e);
  validity(cert, 3650);
  const subject = [{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'frontdesk default certificate' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
  ]);
  cert.sign(k.key, forge.md.sha256.create());
  return (processDefault = { cert: forge.pki.certificateToPem(cert), key: k.pem });
}
