import * as grpc from '@grpc/grpc-js';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { identityOf, serverIdentityCheck, tlsServerName, type Identity, type TlsSource } from './tls.js';

/**
 * grpc-js plumbing for the server that runs on it (the control plane's ADS) and for grpc-js
 * servers and clients in tests and benchmarks: methods
 * whose messages travel as raw protobuf bytes (each service encodes and decodes itself, so
 * pre-encoded bytes go out as they are), binding, a graceful stop, and credentials from a
 * TlsSource. Kept apart from tls.ts and grpc-raw.ts so that a process without a grpc-js server
 * (every companion) never loads grpc-js.
 */

const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const asIs = (b: Buffer) => b;

/** A method definition that passes request and response bytes through untouched. */
export function rawMethod(path: string, stream: 'unary' | 'bidi'): grpc.MethodDefinition<Uint8Array, Uint8Array> {
  return {
    path, requestStream: stream !== 'unary', responseStream: stream === 'bidi',
    requestSerialize: toBuffer, requestDeserialize: asIs, responseSerialize: toBuffer, responseDeserialize: asIs,
  };
}

/** Binds a server on host:port (port 0: a free one), plaintext unless credentials are given, and resolves with the bound port. */
export function bindServer(server: grpc.Server, host: string, port: number, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** Lets calls in flight finish for up to `graceMs`, then cuts the rest. */
export function stopServer(server: grpc.Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, graceMs);
    server.tryShutdown(() => { clearTimeout(timer); resolve(); });
  });
}

/**
 * grpc-js server credentials that require a client certificate signed by the CA and follow the
 * source: grpc-js swaps the secure context of its listening socket (new handshakes only).
 */
class SourceServerCredentials extends grpc.ServerCredentials {
  constructor(source: TlsSource) {
    super({ requestCert: true, rejectUnauthorized: true }, source.contextOptions());
    source.on('change', () => this.updateSecureContextOptions(source.contextOptions()));
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** Server credentials for a grpc-js server: plaintext without a source, mTLS with one. */
export function serverCredentials(source: TlsSource | undefined): grpc.ServerCredentials {
  return source ? new SourceServerCredentials(source) : grpc.ServerCredentials.createInsecure();
}

/**
 * Channel credentials for a grpc-js client: mTLS with the source's certificate, the server
 * checked against the CA and its identity (tls.ts serverIdentityCheck).
 */
export function channelCredentials(source: TlsSource | undefined, expect: Identity): grpc.ChannelCredentials {
  if (!source) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(source.ca, source.key, source.cert, { checkServerIdentity: serverIdentityCheck(expect) });
}

/** grpc-js channel options for a client of `target` (HOST:PORT) over mTLS: the TLS server name of tls.ts tlsServerName. */
export function tlsChannelOptions(target: string, source: TlsSource | undefined, expect: Identity): grpc.ChannelOptions {
  if (!source) return {};
  const host = target.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? { 'grpc.ssl_target_name_override': tlsServerName(target, expect) } : {};
}

/** The identity of a grpc-js call's peer (mTLS), undefined on plaintext or without our SAN. */
export function callIdentity(call: { getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } | null }): Identity | undefined {
  return identityOf(call.getAuthContext?.()?.sslPeerCertificate);
}
