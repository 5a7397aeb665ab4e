import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { encodeHeaders } from './http2/hpack.js';
import { ServerConnection, type ServerStream, type StreamCallbacks } from './http2/server-connection.js';
import { identityOf, type Identity, type TlsSource } from './tls.js';

/**
 * gRPC for the companions' per-request methods, without grpc-js (which a companion process does
 * not load): the status codes, grpc-message encoding and a server of unary and bidirectional
 * streaming methods. The one grpc-js server (the control plane's ADS) has its plumbing in
 * grpc-js-server.ts.
 */

/** gRPC status codes (grpc/grpc doc/statuscodes.md). */
export const GRPC_STATUS = Object.freeze({
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
});

// The same for every answer: encoded once.
const OK_HEADERS = encodeHeaders([[':status', '200'], ['content-type', 'application/grpc']]);
const OK_TRAILERS = encodeHeaders([['grpc-status', '0']]);
const OK_TRAILERS_ONLY = encodeHeaders([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '0']]);
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

/** A bidirectional streaming call, as its handler sees it. */
export interface BidiCall {
  /** The call's headers (its metadata, pseudo-headers included). */
  readonly headers: Record<string, string>;
  /** Sends one message (the response headers go before the first). */
  write(message: Uint8Array): void;
  /** Ends the call with its status (OK when not given); nothing more is sent on it. */
  end(code?: number, message?: string): void;
}

/**
 * What a bidirectional call tells its handler: each message (a view: decode or copy it before
 * returning), the client's half-close, and the call's end before the handler's: reset by the
 * client, or (`refused`) ended by the server for what the client sent (a message over the limit
 * or compressed, a handler's exception).
 */
export interface BidiCallbacks {
  message(message: Buffer): void;
  end(): void;
  cancel(refused?: boolean): void;
}

export type BidiHandler = (call: BidiCall) => BidiCallbacks;

export interface GrpcServerOptions {
  unary?: Record<string, UnaryHandler>;
  bidi?: Record<string, BidiHandler>;
  /** The largest unary request message. */
  maxRequestBytes?: number;
  /** The largest message of a streaming call. */
  maxStreamMessageBytes?: number;
  tls?: UnaryTls;
}

/**
 * A stream's gRPC messages out of its DATA, which may split or join them anywhere: each whole
 * message handed over as a view of the data it arrived in, the pieces of a split one joined
 * once it is complete (so a large message costs one copy, not one per frame).
 */
class MessageReader {
  private parts: Buffer[] = [];
  private size = 0;
  /** The octets the first part needs before a message can be read from it: its 5-octet prefix, then the whole message. */
  private need = 5;
  private failed = false;

  constructor(private readonly max: number, private readonly onMessage: (m: Buffer) => void, private readonly onError: (code: number, message: string) => void) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    let buf = chunk;
    if (this.parts.length > 0) {
      this.parts.push(chunk);
      this.size += chunk.length;
      if (this.size < this.need) return;
      buf = Buffer.concat(this.parts, this.size);
      this.parts = [];
      this.size = 0;
    }
    let at = 0;
    this.need = 5;
    while (buf.length - at >= 5) {
      if (buf[at] !== 0) { this.fail(GRPC_STATUS.UNIMPLEMENTED, 'compressed messages are not accepted'); return; }
      const n = buf.readUInt32BE(at + 1);
      if (n > this.max) { this.fail(GRPC_STATUS.RESOURCE_EXHAUSTED, 'message too large'); return; }
      if (buf.length - at - 5 < n) { this.need = 5 + n; break; }
      this.onMessage(buf.subarray(at + 5, at + 5 + n));
      at += 5 + n;
    }
    if (at < buf.length) {
      this.parts = [buf.subarray(at)];
      this.size = buf.length - at;
    }
  }

  private fail(code: number, message: string): void {
    this.failed = true;
    this.parts = [];
    this.onError(code, message);
  }
}

/** One message with gRPC's 5-octet prefix (uncompressed, its length). */
function framed(message: Uint8Array): Buffer {
  const data = Buffer.allocUnsafe(5 + message.length);
  data[0] = 0;
  data.writeUInt32BE(message.length, 1);
  data.set(message, 5);
  return data;
}

const statusTrailers = (code: number, message: string) => encodeHeaders([['grpc-status', String(code)], ['grpc-message', grpcMessage(message)]]);
const trailersOnlyBlock = (code: number, message: string) => encodeHeaders([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', String(code)], ['grpc-message', grpcMessage(message)]]);

/** A streamed stream as a BidiCall: headers before the first message, trailers (or a trailers-only answer) at its end. */
function bidiCall(s: ServerStream): BidiCall {
  let headersSent = false;
  return {
    headers: s.headers,
    write(message) {
      if (s.done) return;
      if (!headersSent) { headersSent = true; s.sendHeaders(OK_HEADERS); }
      s.sendData(framed(message));
    },
    end(code = GRPC_STATUS.OK, message = '') {
      if (s.done) return;
      if (!headersSent) s.close(code === GRPC_STATUS.OK && message === '' ? OK_TRAILERS_ONLY : trailersOnlyBlock(code, message));
      else s.close(code === GRPC_STATUS.OK && message === '' ? OK_TRAILERS : statusTrailers(code, message));
    },
  };
}

/**
 * A gRPC server for unary methods, for the per-request companions (authz Check, ratelimit
 * ShouldRateLimit) that Envoy calls on every request: see serveGrpc.
 */
export function serveUnary(host: string, port: number, methods: Record<string, UnaryHandler>, maxRequestBytes = 1024 * 1024, tls?: UnaryTls): Promise<UnaryServer> {
  return serveGrpc(host, port, { unary: methods, maxRequestBytes, tls });
}

/**
 * A gRPC server for the companions Envoy calls (authz Check, ratelimit ShouldRateLimit,
 * transform's ext_proc Process stream, the log companion's access-log stream): the same wire
 * protocol as grpc-js (length-prefixed messages, grpc-status trailers) on HTTP/2 framed by
 * src/http2/ (no node:http2 stream objects per call: a call costs its frames, and the answers
 * of an event-loop turn go out in one socket write). Unary requests over `maxRequestBytes` and streamed messages
 * over `maxStreamMessageBytes` are refused with RESOURCE_EXHAUSTED; only uncompressed messages
 * are read (this server offers no compression).
 *
 * With `tls`, a client without a certificate signed by the CA is refused at the handshake, and
 * one whose certificate names a party `accept` refuses is cut right after it, before any
 * request is read. New certificates apply to new connections; open ones go on.
 */
export async function serveGrpc(host: string, port: number, o: GrpcServerOptions): Promise<UnaryServer> {
  const methods = o.unary ?? {};
  const streaming = o.bidi ?? {};
  const maxRequestBytes = o.maxRequestBytes ?? 1024 * 1024;
  const maxStreamMessage = o.maxStreamMessageBytes ?? 4 * 1024 * 1024;
  const tls = o.tls;
  const connections = new Set<ServerConnection>();
  const trailersOnly = (s: ServerStream, code: number, message: string) => {
    s.respond(trailersOnlyBlock(code, message));
  };
  const onRequest = (s: ServerStream) => {
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
      s.respond(OK_HEADERS, framed(out), OK_TRAILERS);
    };
    const failed = (e: unknown) => { if (!s.done) trailersOnly(s, GRPC_STATUS.INTERNAL, (e as Error).message); };
    try {
      handler(buf.subarray(5), headers).then(answer, failed);
    } catch (e) {
      failed(e);
    }
  };
  /** At a stream's headers: a streaming method's call, a unary one left to be read whole, an unknown one answered at once. */
  const open = (s: ServerStream): StreamCallbacks | undefined => {
    const path = s.headers[':path'] ?? '';
    const post = s.headers[':method'] === 'POST';
    const handler = post ? streaming[path] : undefined;
    if (handler === undefined) {
      if (!post || methods[path] === undefined) trailersOnly(s, GRPC_STATUS.UNIMPLEMENTED, 'unknown method');
      return undefined;
    }
    const call = bidiCall(s);
    const callbacks = handler(call);
    const stop = (code: number, message: string) => { call.end(code, message); callbacks.cancel(true); };
    const reader = new MessageReader(maxStreamMessage, (m) => {
      // A handler's bug ends its call, not the connection it shares with other calls.
      try { callbacks.message(m); } catch (e) { stop(GRPC_STATUS.INTERNAL, (e as Error).message); }
    }, stop);
    return { data: (chunk) => reader.push(chunk), end: () => callbacks.end(), reset: () => callbacks.cancel(false) };
  };
  const accept = (socket: Socket) => {
    const c: ServerConnection = new ServerConnection(socket, {
      maxConcurrentStreams: 10_000,
      maxBodyBytes: maxRequestBytes + 5,
      maxHeaderListSize: MAX_HEADER_LIST,
      onRequest,
      onTooLarge: (s) => trailersOnly(s, GRPC_STATUS.RESOURCE_EXHAUSTED, 'request too large'),
      onHeadersTooLarge: (s) => trailersOnly(s, GRPC_STATUS.RESOURCE_EXHAUSTED, 'request headers too large'),
      onClose: () => connections.delete(c),
      open,
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
