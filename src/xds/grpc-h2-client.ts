import { EventEmitter } from 'node:events';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { GRPC_STATUS } from '../grpc-raw.js';
import { serverIdentityCheck, tlsServerName, type Identity, type TlsSource } from '../tls.js';

/**
 * A gRPC client for bidirectional streams straight on node:http2, for the companions' ADS
 * stream to the control plane (no grpc-js in a companion process). The gRPC HTTP/2 protocol
 * (grpc/grpc PROTOCOL-HTTP2.md), the parts a client of one long-lived stream needs:
 * - the request: POST, `content-type: application/grpc`, `te: trailers`, no `grpc-timeout`
 *   (a stream has no deadline), no `grpc-accept-encoding` (so messages come uncompressed);
 * - each message length-prefixed: one byte compressed-flag, four bytes big-endian length;
 * - the call's status from `grpc-status` / `grpc-message` (percent-decoded) in the trailers,
 *   or in the headers of a trailers-only answer; a stream reset or a lost connection is
 *   UNAVAILABLE (or CANCELLED when the client cancelled);
 * - keepalive: an HTTP/2 PING every `keepaliveMs` (30 s), the connection dropped when one is
 *   not answered within `keepaliveTimeoutMs` (10 s), so a control plane that vanished without
 *   a FIN is noticed;
 * - mTLS with a TlsSource: the server's chain checked against the CA and its identity (the URI
 *   SAN, tls.ts serverIdentityCheck), not its host name; to an IP address the TLS server name
 *   is a host name of the role (tls.ts tlsServerName).
 * One channel is one connection to one address, opened at the first call and again after it
 * is lost; the certificates are read at each connection, so a rotation applies to the next one.
 */

/** A call's end other than OK: the gRPC status code and message. */
export class GrpcCallError extends Error {
  constructor(readonly code: number, readonly details: string) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(GRPC_STATUS).map(([k, v]) => [v, k]));

export interface GrpcChannelOptions {
  /** host:port ([v6]:port) of the server. */
  target: string;
  /** mTLS: our certificate, the CA, and who the server must be. */
  tls?: TlsSource;
  expect: Identity;
  /** Largest message accepted (default 64 MiB); a larger one ends the call with RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
  /** Time for the connection (TCP and TLS) to be up (default 10 s). */
  connectTimeoutMs?: number;
  userAgent?: string;
}

export interface GrpcBidiEvents {
  /** One message from the server. */
  data: [message: Buffer];
  /** The call ended with status OK. */
  end: [];
  /** The call ended otherwise (once; no `end` after it). */
  error: [error: GrpcCallError];
}

/** `%XX` sequences of a grpc-message back to their bytes (the rest is as sent). */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** One bidirectional call; see the module comment. */
export class GrpcBidiCall extends EventEmitter<GrpcBidiEvents> {
  private chunks: Buffer[] = [];
  private have = 0;
  /** The length of the message being read, -1 while its prefix is read. */
  private length = -1;
  private status?: { code: number; details: string };
  private streamError?: string;
  private finished = false;
  private cancelled = false;

  constructor(private readonly stream: ClientHttp2Stream, private readonly maxMessageBytes: number, lost: () => string | undefined) {
    super();
    stream.on('response', (headers) => {
      const status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      const type = header(headers, 'content-type') ?? '';
      if (status !== 200 || !type.startsWith('application/grpc')) {
        this.fail(status === 200 ? GRPC_STATUS.UNKNOWN : httpToGrpc(status), `the server answered HTTP ${status}${type ? ` (${type})` : ''}, not gRPC`);
        return;
      }
      this.takeStatus(headers); // trailers-only
    });
    stream.on('trailers', (trailers) => this.takeStatus(trailers));
    stream.on('data', (c: Buffer) => this.onData(c));
    // Its end is reported on 'close'; the error says why (a refused connection, a failed handshake).
    stream.on('error', (e: Error) => { this.streamError ??= e.message; });
    // The server's side ends with its status (trailers): the call is over, whether or not this
    // side has ended its own; a close without one is a lost stream.
    const settle = () => {
      if (this.finished) return;
      if (this.cancelled) { this.fail(GRPC_STATUS.CANCELLED, 'cancelled by the client'); return; }
      if (this.status) {
        if (this.status.code !== GRPC_STATUS.OK) { this.fail(this.status.code, this.status.details); return; }
        this.finished = true;
        if (!stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR);
        this.emit('end');
        return;
      }
      const why = lost() ?? this.streamError ?? (stream.rstCode && stream.rstCode !== constants.NGHTTP2_NO_ERROR ? `stream reset (HTTP/2 error ${stream.rstCode})` : 'the stream ended without a gRPC status');
      this.fail(GRPC_STATUS.UNAVAILABLE, why);
    };
    stream.on('end', settle);
    stream.on('close', settle);
  }

  /** Sends one message; false when the stream's buffer is full (it is still queued). */
  write(message: Uint8Array): boolean {
    if (this.finished || this.stream.destroyed) return false;
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    return this.stream.write(frame);
  }

  /** Half-closes the call: no more messages from this side; the server's still come. */
  end(): void {
    if (!this.finished && !this.stream.destroyed) this.stream.end();
  }

  /** Ends the call from this side: `error` with CANCELLED follows, as grpc-js does. */
  cancel(): void {
    if (this.finished) return;
    this.cancelled = true;
    if (this.stream.destroyed) this.fail(GRPC_STATUS.CANCELLED, 'cancelled by the client');
    else this.stream.close(constants.NGHTTP2_CANCEL);
  }

  private takeStatus(h: IncomingHttpHeaders): void {
    const code = header(h, 'grpc-status');
    if (code === undefined) return;
    const n = Number(code);
    this.status = { code: Number.isInteger(n) ? n : GRPC_STATUS.UNKNOWN, details: decodeGrpcMessage(header(h, 'grpc-message') ?? '') };
  }

  private fail(code: number, details: string): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
    this.emit('error', new GrpcCallError(code, details));
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    this.chunks.push(chunk);
    this.have += chunk.length;
    for (;;) {
      const need = this.length < 0 ? 5 : 5 + this.length;
      if (this.have < need) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.have);
      if (this.length < 0) {
        if (all[0] !== 0) { this.fail(GRPC_STATUS.INTERNAL, 'a compressed message, though none was asked for'); return; }
        const length = all.readUInt32BE(1);
        if (length > this.maxMessageBytes) { this.fail(GRPC_STATUS.RESOURCE_EXHAUSTED, `a message of ${length} bytes (more than ${this.maxMessageBytes})`); return; }
        this.length = length;
        this.chunks = [all];
        continue;
      }
      const message = all.subarray(5, need);
      const rest = all.subarray(need);
      this.chunks = rest.length ? [rest] : [];
      this.have = rest.length;
      this.length = -1;
      this.emit('data', message);
      if (this.finished) return;
    }
  }
}

/** The gRPC status for an HTTP status that is not 200 (the table of grpc/grpc's http-grpc-status-mapping.md). */
function httpToGrpc(status: number): number {
  switch (status) {
    case 400: return GRPC_STATUS.INTERNAL;
    case 401: return GRPC_STATUS.UNAUTHENTICATED;
    case 403: return GRPC_STATUS.PERMISSION_DENIED;
    case 404: return GRPC_STATUS.UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return GRPC_STATUS.UNAVAILABLE;
    default: return GRPC_STATUS.UNKNOWN;
  }
}

/** A connection to one gRPC server for bidirectional calls; see the module comment. */
export class GrpcH2Channel {
  private session?: { session: ClientHttp2Session; why?: string };
  private closed = false;

  constructor(private readonly o: GrpcChannelOptions) {}

  get target(): string { return this.o.target; }

  /** Opens a bidirectional call to `path` (/package.Service/Method). */
  bidi(path: string): GrpcBidiCall {
    const conn = this.connection();
    const { session } = conn;
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': this.o.userAgent ?? 'frontdesk-grpc-h2',
    }, { endStream: false });
    return new GrpcBidiCall(stream, this.o.maxMessageBytes ?? 64 * 1024 * 1024, () => conn.why);
  }

  /** Closes the connection; the calls on it end (UNAVAILABLE, or CANCELLED for those cancelled). */
  close(): void {
    this.closed = true;
    this.session?.session.destroy();
    this.session = undefined;
  }

  private connection(): { session: ClientHttp2Session; why?: string } {
    if (this.closed) throw new Error('the gRPC channel is closed');
    const current = this.session;
    if (current && !current.session.closed && !current.session.destroyed) return current;
    const { target, tls, expect } = this.o;
    const hostPort = target.startsWith('[') ? target : target.replace(/^(.*):(\d+)$/, (all, host: string, port: string) => (host.includes(':') ? `[${host}]:${port}` : all));
    const session = tls
      ? connect(`https://${hostPort}`, {
        ...tls.contextOptions(), servername: tlsServerName(target, expect), checkServerIdentity: serverIdentityCheck(expect),
      })
      : connect(`http://${hostPort}`);
    // Why this connection went away, when not from an error its streams see (a timeout of ours).
    const conn: { session: ClientHttp2Session; why?: string } = { session };
    this.session = conn;
    const lose = (why: string) => { conn.why ??= why; };
    const connectTimer = setTimeout(() => { lose(`no connection to ${target} within ${this.o.connectTimeoutMs ?? 10_000} ms`); session.destroy(); }, this.o.connectTimeoutMs ?? 10_000);
    connectTimer.unref();
    let ping: NodeJS.Timeout | undefined;
    session.once('connect', () => {
      clearTimeout(connectTimer);
      const every = this.o.keepaliveMs ?? 30_000;
      const within = this.o.keepaliveTimeoutMs ?? 10_000;
      ping = setInterval(() => {
        if (session.destroyed) return;
        const timer = setTimeout(() => { lose(`no answer to a keepalive PING within ${within} ms`); session.destroy(); }, within);
        timer.unref();
        const sent = session.ping((err) => { clearTimeout(timer); if (err && !session.destroyed) { lose(`keepalive PING failed: ${err.message}`); session.destroy(); } });
        if (!sent) clearTimeout(timer);
      }, every);
      ping.unref();
    });
    session.on('error', () => undefined); // each stream on it sees the error
    session.on('goaway', (code: number) => { if (code !== constants.NGHTTP2_NO_ERROR) lose(`the server closed the connection (GOAWAY, HTTP/2 error ${code})`); });
    session.once('close', () => {
      clearTimeout(connectTimer);
      clearInterval(ping);
      if (this.session === conn) this.session = undefined;
    });
    return conn;
  }
}
