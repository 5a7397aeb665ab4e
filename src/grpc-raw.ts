import * as grpc from '@grpc/grpc-js';
import type { TLSSocket } from 'node:tls';
import { identityOf, type Identity, type TlsSource } from './tls.js';

/**
 * gRPC plumbing shared by the ADS server and the companion services: methods whose messages
 * travel as raw protobuf bytes (each service encodes and decodes with protobufjs itself, so
 * pre-encoded bytes go out as they are), binding, and a graceful stop.
 */

const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const asIs = (b: Buffer) => b;

/** A method definition that passes request and response bytes through untouched. */
export function rawMethod(path: string, stream: 'unary' | 'bidi' | 'client'): grpc.MethodDefinition<Uint8Array, Uint8Array> {
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
    if (!handler) { trailersOnly(stream, grpc.status.UNIMPLEMENTED, 'unknown method'); return; }
    // A request is one DATA frame nearly always: an array only for the others.
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxRequestBytes + 5) { trailersOnly(stream, grpc.status.RESOURCE_EXHAUSTED, 'request too large'); stream.close(); return; }
      if (first === undefined) first = c;
      else (more ??= [first]).push(c);
    });
    stream.on('error', ignore);
    stream.on('end', () => {
      if (stream.destroyed || stream.headersSent) return;
      const buf = more ? Buffer.concat(more) : first ?? EMPTY;
      if (buf.length < 5 || buf[0] !== 0 || buf.readUInt32BE(1) !== buf.length - 5) {
        trailersOnly(stream, grpc.status.INVALID_ARGUMENT, 'expected one uncompressed message');
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
      }, (e: unknown) => trailersOnly(stream, grpc.status.INTERNAL, (e as Error).message));
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
