import { connect, type DetailedPeerCertificate, type PeerCertificate, type TLSSocket } from 'node:tls';
import { waitFor } from './wait.js';

export interface PeerHandshake {
  /** Whether the chain verifies against the `ca` given (and names the server). */
  authorized: boolean;
  error?: string;
  leaf: DetailedPeerCertificate;
  /** How many certificates the server sent (leaf first, up to its issuer's issuer...). */
  chain: number;
}

/** A TLS handshake with 127.0.0.1:`port` for `servername`: the certificate the server presents, and whether it verifies against `ca`. */
export function handshake(port: number, servername: string, ca: string[]): Promise<PeerHandshake> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const leaf = socket.getPeerCertificate(true);
      let chain = 0;
      for (let c: PeerCertificate | undefined = leaf; c && chain < 10; c = (c as DetailedPeerCertificate).issuerCertificate === c ? undefined : (c as DetailedPeerCertificate).issuerCertificate) chain++;
      resolve({ authorized: socket.authorized, ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}), leaf, chain });
      socket.end();
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', reject);
  });
}

/** Waits until 127.0.0.1:`port` presents, for `servername`, a certificate that verifies against `ca`. */
export function awaitTrusted(port: number, servername: string, ca: string[], what: string, timeoutMs = 30_000, everyMs = 100): Promise<PeerHandshake> {
  return waitFor(async () => {
    const h = await handshake(port, servername, ca);
    return h.authorized ? h : undefined;
  }, what, timeoutMs, everyMs);
}
