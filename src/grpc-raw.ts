import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { encodeHeaders } from './http2/hpack.js';
import { UnaryConnection, type UnaryStream } from './http2/unary-connection.js';
import { identityOf, type Identity, type TlsSource } from './tls.js';

/**
 * gRPC for the companions' per-request methods, without grpc-js (which a companion process does
 * not load): the status codes, grpc-message encoding and a unary server.
 * The grpc-js servers (ADS, ext_proc, access logs) have their plumbing in grpc-js-server.ts.
 */

/** gRPC status codes (grpc/grpc doc/statuscodes.md). */
export const GRPC_STATUS = Object.freeze({
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
});

// The same for every answer: encoded once.
const OK_HEADERS = encodeHeaders([[':status', '200'], ['content-type', 'application/grpc']]);
const OK_TRAILERS = encodeHeaders([['grpc-status', '0']]);
/** SETTINGS_MAX_HEADER_LIST_SIZE: a call's metadata (Envoy sends a few hundred octets). */
const MAX_HEADER_LIST = 64 * 1024;

/**
 * A grpc-message header value as the gRPC HTTP/2 protocol percent-encodes it: the printable
 * ASCII characters (0x20-0x7E) as they are except '%', every other byte of the UTF-8 as %XX.
 * (encodeURIComponent would also encode ':' or '(' which clients need not decode.)
 */
export function grpcMessage(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => {
    let out = '';
    for (const b of Buffer.from(run)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    return out;
  });
}

/** A unary method: the request message, and the call's headers (its metadata: e.g. the trace context Envoy sends). */
export type UnaryHandler = (request: Uint8Array, headers?: import('node:http2').IncomingHttpHeaders) => Promise<Uint8Array | { code: number; message: string }>;

/** mTLS for a unary server: the certificates, and who may call (checked before any request is read). */
export interface UnaryTls {
  source: TlsSource;
  accept(peer: Identity | undefined): boolean;
  /** A connection refused for its identity (after a valid handshake). */
  refused?(peer: Identity | undefined): void;
}

export interface UnaryServer {
  port: number;
  stop(graceMs?: number): Promise<void>;
}

/**
 * A gRPC server for unary methods, for the per-request companions (authz Check, ratelimit
 * ShouldRateLimit) that Envoy calls on every request: the same wire protocol as grpc-js
 * (length-prefixed messages, grpc-status trailers) on HTTP/2 framed by src/http2/ (no
 * node:http2 stream objects per call: a call costs its frames, and the answers of an event-loop
 * turn go out in one socket write). Requests over `maxRequestBytes` are refused with
 * RESOURCE_EXHAUSTED; only uncompressed messages are read (this server offers no compression).
 *
 * With `tls`, a client without a certificate signed by the CA is refused at the handshake, and
 * one whose certificate names a party `accept` refuses is cut right after it, before any
 * request is read. New certificates apply to new connections; open ones go on.
 */
export async function serveUnary(host: string, port: number, methods: Record<string, UnaryHandler>, maxRequestBytes = 1024 * 1024, tls?: UnaryTls): Promise<UnaryServer> {
  const connections = new Set<UnaryConnection>();
  const trailersOnly = (s: UnaryStream, code: number, message: string) => {
    s.respond(encodeHeaders([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', String(code)], ['grpc-message', grpcMessage(message)]]));
  };
  const onRequest = (s: UnaryStream) => {
    const headers = s.headers;
    const handler = headers[':method'] === 'POST' ? methods[headers[':path'] ?? ''] : undefined;
    if (!handler) { trailersOnly(s, GRPC_STATUS.UNIMPLEMENTED, 'unknown method'); return; }
    const buf = s.body();
    if (buf.length < 5 || buf[0] !== 0 || buf.readUInt32BE(1) !== buf.length - 5) {
      trailersOnly(s, GRPC_STATUS.INVALID_ARGUMENT, 'expected one uncompressed message');
      return;
    }
    const answer = (out: Uint8Array | { code: number; message: string }) => {
      if (s.done) return;
      if (!(out instanceof Uint8Array)) { trailersOnly(s, out.code, out.message); return; }
      const data = Buffer.allocUnsafe(5 + out.length);
      data[0] = 0;
      data.writeUInt32BE(out.length, 1);
      data.set(out, 5);
      s.respond(OK_HEADERS, data, OK_TRAILERS);
    };
    const failed = (e: unknown) => { if (!s.done) trailersOnly(s, GRPC_STATUS.INTERNAL, (e as Error).message); };
    try {
      handler(buf.subarray(5), headers).then(answer, failed);
    } catch (e) {
      failed(e);
    }
  };
  const accept = (socket: Socket) => {
    const c: UnaryConnection = new UnaryConnection(socket, {
      maxConcurrentStreams: 10_000,
      maxBodyBytes: maxRequestBytes + 5,
      maxHeaderListSize: MAX_HEADER_LIST,
      onRequest,
      onTooLarge: (s) => trailersOnly(s, GRPC_STATUS.RESOURCE_EXHAUSTED, 'request too large'),
      onHeadersTooLarge: (s) => trailersOnly(s, GRPC_STATUS.RESOURCE_EXHAUSTED, 'request headers too large'),
      onClose: () => connections.delete(c),
    });
    connections.add(c);
  };
  let server: NetServer;
  if (tls) {
    const secure = createTlsServer({ ...tls.source.contextOptions(), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] });
    const onChange = () => secure.setSecureContext(tls.source.contextOptions());
    tls.source.on('change', onChange);
    secure.once('close', () => tls.source.off('change', onChange));
    secure.on('secureConnection', (socket: TLSSocket) => {
      socket.on('error', () => undefined);
      const peer = identityOf(socket.getPeerCertificate());
      if (!tls.accept(peer)) { tls.refused?.(peer); socket.destroy(); return; }
      accept(socket);
    });
    secure.on('tlsClientError', () => undefined);
    server = secure;
  } else {
    server = createNetServer(accept);
  }
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { const a = server.address(); resolve(typeof a === 'object' && a ? a.port : port); });
  });
  return {
    port: bound,
    stop: (graceMs = 2000) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => { for (const c of connections) c.destroy(); resolve(); }, graceMs);
      server.close(() => { clearTimeout(timer); resolve(); });
      // GOAWAY: each connection ends once its open calls are answered.
      for (const c of connections) c.goAway();
    }),
  };
}
