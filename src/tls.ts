import { EventEmitter } from 'node:events';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, type PeerCertificate, type SecureContextOptions } from 'node:tls';
import type { Logger } from './logger.js';
import { SPIFFE_PREFIX, spiffeId, type Identity, type TlsFiles } from './identity.js';

/**
 * mutual TLS for every control-plane hop (Envoy → xDS, companion → xDS, Envoy → companion):
 * certificates read from files and read again when they change, so a rotation takes effect
 * for new connections while the streams already open go on; the peer's identity from the
 * URI SAN of its certificate (SPIFFE-shaped: spiffe://frontdesk/<role>[/<name>]).
 */


export { SPIFFE_PREFIX, spiffeId, type Identity, type TlsFiles } from './identity.js';

/** The identity in a certificate's URI SANs; undefined when it carries none of ours (or several). */
export function identityOf(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): Identity | undefined {
  const uris = (cert?.subjectaltname ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith(`URI:${SPIFFE_PREFIX}`)).map((s) => s.slice(4 + SPIFFE_PREFIX.length));
  if (uris.length !== 1) return undefined;
  const parts = uris[0]!.split('/');
  if (parts[0] === 'envoy' && parts.length === 2 && parts[1]) return { role: 'envoy', fleet: decodeURIComponent(parts[1]) };
  if (parts[0] === 'companion' && parts.length === 2 && parts[1]) return { role: 'companion', name: parts[1] };
  if (parts[0] === 'control-plane' && parts.length === 1) return { role: 'control-plane' };
  return undefined;
}

export function describeIdentity(id: Identity | undefined): string {
  return id ? spiffeId(id) : 'none';
}

/** 127.0.0.0/8, ::1 and localhost. 0.0.0.0 and :: (every interface) are not loopback. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/**
 * The one-line refusal for a plaintext port on a non-loopback address, or undefined when the
 * bind is allowed (TLS on, a loopback address, or `--insecure` given).
 */
export function plaintextRefusal(what: string, host: string, port: number, tls: boolean, insecure: boolean): string | undefined {
  if (tls || insecure || isLoopback(host)) return undefined;
  return `refusing to serve ${what} in plaintext on ${host}:${port}: anyone who reaches it could read or use it; `
    + 'give --tls-cert, --tls-key and --tls-ca (see `frontdesk certs`), bind to 127.0.0.1, or pass --insecure';
}

interface Material { cert: Buffer; key: Buffer; ca: Buffer }

function readMaterial(files: TlsFiles): Material {
  const m = { cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.ca) };
  createSecureContext(m); // throws on a bad PEM or a key that does not match the certificate
  return m;
}

/**
 * A certificate, key and CA from files, polled for changes. A change is taken only once the
 * three files make a valid set again (a certificate written before its key is not half-taken);
 * until then the last good set keeps serving.
 */
export class TlsSource extends EventEmitter<{ change: [] }> {
  private material: Material;
  private readonly log?: Logger;
  private watching = false;
  /** Bumped on every accepted change. */
  generation = 0;

  constructor(readonly files: TlsFiles, opts: { logger?: Logger; pollMs?: number } = {}) {
    super();
    this.log = opts.logger;
    try {
      this.material = readMaterial(files);
    } catch (e) {
      throw new Error(`cannot use the TLS files (--tls-cert ${files.cert}, --tls-key ${files.key}, --tls-ca ${files.ca}): ${(e as Error).message}`);
    }
    const pollMs = opts.pollMs ?? 500;
    for (const f of new Set([files.cert, files.key, files.ca])) watchFile(f, { interval: pollMs, persistent: false }, () => this.reload());
    this.watching = true;
  }

  /** Options for tls.createSecureContext / setSecureContext. */
  contextOptions(): SecureContextOptions {
    return { cert: this.material.cert, key: this.material.key, ca: this.material.ca };
  }

  get ca(): Buffer { return this.material.ca; }
  get cert(): Buffer { return this.material.cert; }
  get key(): Buffer { return this.material.key; }

  /** Reads the files again; emits `change` when they hold a new valid set. */
  reload(): boolean {
    let next: Material;
    try {
      next = readMaterial(this.files);
    } catch (e) {
      this.log?.warn({ err: (e as Error).message }, 'tls: the certificate files do not make a valid set (yet); keeping the current one');
      return false;
    }
    if (next.cert.equals(this.material.cert) && next.key.equals(this.material.key) && next.ca.equals(this.material.ca)) return false;
    this.material = next;
    this.generation++;
    this.log?.info({ cert: this.files.cert }, 'tls: certificates reloaded; new connections use them');
    this.emit('change');
    return true;
  }

  close(): void {
    if (!this.watching) return;
    this.watching = false;
    for (const f of new Set([this.files.cert, this.files.key, this.files.ca])) unwatchFile(f);
  }
}

/**
 * The check of a server's certificate for a client (tls.connect's checkServerIdentity): its
 * identity (the URI SAN), not its host name, since addresses change and roles do not. The chain
 * itself is checked against the CA by the TLS handshake before this.
 */
export function serverIdentityCheck(expect: Identity): (host: string, cert: PeerCertificate) => Error | undefined {
  const want = spiffeId(expect);
  return (_host, cert) => (describeIdentity(identityOf(cert)) === want ? undefined : new Error(`the server's certificate is not ${want} (it is ${describeIdentity(identityOf(cert))})`));
}

/**
 * The TLS server name (SNI) a client sends to `target` (HOST:PORT): the host, or, for an IP
 * address, a host name of the role, since a server name may not be an address (RFC 6066; Node
 * warns). The server is checked by its identity either way (serverIdentityCheck).
 */
export function tlsServerName(target: string, expect: Identity): string {
  const host = target.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? `${expect.role}.frontdesk` : host;
}

/** A companion's callers: Envoys only (any fleet), refused ones logged. */
export function envoysOnly(source: TlsSource, logger?: Pick<Logger, 'warn'>): { source: TlsSource; accept(peer: Identity | undefined): boolean; refused(peer: Identity | undefined): void } {
  return {
    source,
    accept: (peer) => peer?.role === 'envoy',
    refused: (peer) => logger?.warn({ peer: describeIdentity(peer) }, 'connection refused: not an Envoy certificate'),
  };
}
