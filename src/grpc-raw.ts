import type { TLSSocket } from 'node:tls';
import { identityOf, type Identity, type TlsSource } from './tls.js';

/**
 * gRPC on node:http2 for the companions' per-request methods, without grpc-js (which a
 * companion process does not load): the status codes, grpc-message encoding and a unary server.
 * The grpc-js servers (ADS, ext_proc, access logs) have their plumbing in grpc-js-server.ts.
 */

/** gRPC status codes (grpc/grpc doc/statuscodes.md). */
export const GRPC_STATUS = Object.freeze({
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
});

// The same for every answer (node:http2 copies what it is given): built once.
const OK_HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc' });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const WAIT_FOR_TRAILERS = Object.freeze({ waitForTrailers: true });
const EMPTY = Buffer.alloc(0);

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
const ignore = () => undefined;
function sendOkTrailers(this: import('node:http2').ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
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
 * A gRPC server for unary methods straight on node:http2, for the per-request companions
 * (authz Check, ratelimit ShouldRateLimit) that Envoy calls on every request: the same wire
 * protocol as grpc-js (length-prefixed messages, grpc-status trailers) at a fraction of its CPU
 * per call. Requests over `maxRequestBytes` are refused with RESOURCE_EXHAUSTED.
 *
 * With `tls`, a client without a certificate signed by the CA is refused at the handshake, and
 * one whose certificate names a party `accept` refuses is cut right after it, before any
 * request is read. New certificates apply to new connections; open ones go on.
 */
export async function serveUnary(host: string, port: number, methods: Record<string, UnaryHandler>, maxRequestBytes = 1024 * 1024, tls?: UnaryTls): Promise<UnaryServer> {
  const { createServer, createSecureServer, constants } = await import('node:http2');
  const common = { settings: { maxConcurrentStreams: 10_000 }, maxSessionMemory: 64 };
  const server = tls
    ? createSecureServer({ ...common, ...tls.source.contextOptions(), requestCert: true, rejectUnauthorized: true, allowHTTP1: false })
    : createServer(common);
  if (tls) {
    const onChange = () => (server as import('node:http2').Http2SecureServer).setSecureContext(tls.source.contextOptions());
    tls.source.on('change', onChange);
    server.once('close', () => tls.source.off('change', onChange));
    server.on('secureConnection', (socket: TLSSocket) => {
      socket.on('error', () => undefined);
      const peer = identityOf(socket.getPeerCertificate());
      if (!tls.accept(peer)) { tls.refused?.(peer); socket.destroy(); }
    });
    server.on('tlsClientError', () => undefined);
  }
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    // A peer that goes away mid-call (Envoy restarting) resets the session: not an error of ours.
    s.on('error', () => undefined);
  });
  server.on('sessionError', () => undefined);
  const trailersOnly = (stream: import('node:http2').ServerHttp2Stream, code: number, message: string) => {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({ [constants.HTTP2_HEADER_STATUS]: 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': grpcMessage(message) }, { endStream: true });
  };
  server.on('stream', (stream, headers) => {
    const handler = methods[String(headers[constants.HTTP2_HEADER_PATH])];
    if (!handler) { trailersOnly(stream, GRPC_STATUS.UNIMPLEMENTED, 'unknown method'); return; }
    // A request is one DATA frame nearly always: an array only for the others.
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxRequestBytes + 5) { trailersOnly(stream, GRPC_STATUS.RESOURCE_EXHAUSTED, 'request too large'); stream.close(); return; }
      if (first === undefined) first = c;
      else (more ??= [first]).push(c);
    });
    stream.on('error', ignore);
    stream.on('end', () => {
      if (stream.destroyed || stream.headersSent) return;
      const buf = more ? Buffer.concat(more) : first ?? EMPTY;
      if (buf.length < 5 || buf[0] !== 0 || buf.readUInt32BE(1) !== buf.length - 5) {
        trailersOnly(stream, GRPC_STATUS.INVALID_ARGUMENT, 'expected one uncompressed message');
        return;
      }
      handler(buf.subarray(5), headers).then((out) => {
        if (stream.destroyed) return;
        if (!(out instanceof Uint8Array)) { trailersOnly(stream, out.code, out.message); return; }
        const frame = Buffer.allocUnsafe(5 + out.length);
        frame[0] = 0;
        frame.writeUInt32BE(out.length, 1);
        frame.set(out, 5);
        stream.respond(OK_HEADERS, WAIT_FOR_TRAILERS);
        // Emitted once per stream: no once() wrapper needed.
        stream.on('wantTrailers', sendOkTrailers);
        stream.end(frame);
      }, (e: unknown) => trailersOnly(stream, GRPC_STATUS.INTERNAL, (e as Error).message));
    });
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { const a = server.address(); resolve(typeof a === 'object' && a ? a.port : port); });
  });
  return {
    port: bound,
    stop: (graceMs = 2000) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => { for (const s of sessions) s.destroy(); resolve(); }, graceMs);
      server.close(() => { clearTimeout(timer); resolve(); });
      for (const s of sessions) s.close();
    }),
  };
}
