import { copyFileSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { certFiles, COMPANION_NAMES, createCa, issue, writeCerts } from '../../src/runtime/certs.js';
import type { Identity, TlsFiles } from '../../src/tls.js';
import { readFileSync } from 'node:fs';

export interface TestPki {
  dir: string;
  /** The certificate, key and CA files of a party, as `frontdesk certs` wrote them. */
  files(id: Identity): TlsFiles;
  /** gRPC channel credentials presenting a party's certificate (the server's identity not checked: the test says whom it calls). */
  credentials(id: Identity): grpc.ChannelCredentials;
  /** Credentials that trust the CA but present no certificate. */
  noCertificate(): grpc.ChannelCredentials;
  /** Credentials with a certificate for `id` signed by another CA. */
  foreign(id: Identity): grpc.ChannelCredentials;
  /** Makes new certificates for every party (same CA) in a folder of their own, for rotate(). */
  prepareRotation(): void;
  /** Moves the prepared certificates into place, each key before its certificate (as `frontdesk certs` writes them). */
  rotate(): void;
  remove(): void;
}

const anyServer = { checkServerIdentity: () => undefined };

/** A CA and certificates for the fleets given and every companion, in a temp folder. */
export function testPki(fleets: string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-pki-'));
  const plan = { fleets, companions: COMPANION_NAMES };
  writeCerts(dir, plan);
  let staged: string | undefined;
  const ca = () => readFileSync(join(dir, 'ca.pem'));
  const files = (id: Identity): TlsFiles => ({ ...certFiles(dir, id), ca: join(dir, 'ca.pem') });
  return {
    dir,
    files,
    credentials(id) {
      const f = files(id);
      return grpc.credentials.createSsl(ca(), readFileSync(f.key), readFileSync(f.cert), anyServer);
    },
    noCertificate: () => grpc.credentials.createSsl(ca(), null, null, anyServer),
    foreign(id) {
      const other = createCa(30);
      const pem = issue(other, id);
      return grpc.credentials.createSsl(ca(), Buffer.from(pem.key), Buffer.from(pem.cert), anyServer);
    },
    prepareRotation() {
      staged = mkdtempSync(join(tmpdir(), 'frontdesk-pki-next-'));
      for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(dir, f), join(staged, f));
      writeCerts(staged, plan);
    },
    rotate() {
      if (!staged) throw new Error('prepareRotation() first');
      const names = readdirSync(staged).filter((f) => f.endsWith('.pem') && !f.startsWith('ca'));
      for (const f of [...names.filter((n) => n.endsWith('-key.pem')), ...names.filter((n) => !n.endsWith('-key.pem'))]) renameSync(join(staged, f), join(dir, f));
    },
    remove: () => { rmSync(dir, { recursive: true, force: true }); if (staged) rmSync(staged, { recursive: true, force: true }); },
  };
}
