import { EventEmitter } from 'node:events';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { GRPC_STATUS } from '../grpc-raw.js';
import { ClientConnection, type ClientStream, type ClientStreamEvents } from '../http2/client-connection.js';
import { H2_ERROR } from '../http2/frames.js';
import { serverIdentityCheck, tlsServerName, type Identity, type TlsSource } from '../tls.js';

/**
 * A gRPC client for bidirectional streams on the project's own HTTP/2 framing
 * (src/http2/client-connection.ts over node:net or node:tls), for the companions' ADS stream to
 * the control plane: no grpc-js and no node:http2 in a companion process (node:http2's module
 * and one session were ~3.4 MiB of its RSS). The gRPC HTTP/2 protocol
 * (grpc/grpc PROTOCOL-HTTP2.md), the parts a client of one long-lived stream needs:
 * - the request: POST, `content-type: application/grpc`, `te: trailers`, no `grpc-timeout`
 *   (a stream has no deadline), no `grpc-accept-encoding` (so messages come uncompressed);
 * - each message length-prefixed: one byte compressed-flag, four bytes big-endian length;
 * - the call's status from `grpc-status` / `grpc-message` (percent-decoded) in the trailers,
 *   or in the headers of a trailers-only answer; a stream the server resets (RST_STREAM) before
 *   its status takes the one PROTOCOL-HTTP2.md's "Errors" table gives its code: REFUSED_STREAM
 *   UNAVAILABLE (the server did not process it, it may be retried), CANCEL CANCELLED,
 *   ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED, INADEQUATE_SECURITY PERMISSION_DENIED, and every other
 *   code INTERNAL (NO_ERROR too: an OK status should have come first); a stream this client
 *   resets for a stream error in the server's frames (a malformed response: RST_STREAM
 *   PROTOCOL_ERROR) takes the status of the code it sent, INTERNAL, as grpc-js reports its
 *   stream's RST_STREAM code whichever side sent it; a lost connection is UNAVAILABLE, and a
 *   call the client cancelled CANCELLED;
 * - keepalive: an HTTP/2 PING every `keepaliveMs` (30 s), the connection dropped when one is
 *   not answered within `keepaliveTimeoutMs` (10 s), so a control plane that vanished without
 *   a FIN is noticed;
 * - the server's ACK of our SETTINGS within `settingsAckTimeoutMs` (10 s), else GOAWAY
 *   SETTINGS_TIMEOUT and the calls on the connection end as UNAVAILABLE (RFC 9113 §6.5.3);
 * - mTLS with a TlsSource: the server's chain checked against the CA and its identity (the URI
 *   SAN, tls.ts serverIdentityCheck), not its host name; to an IP address the TLS server name
 *   is a host name of the role (tls.ts tlsServerName);
 * - the connection (TCP, and TLS with ALPN `h2`) up within `connectTimeoutMs` (10 s); nothing
 *   is written on it before the server's certificate has passed, so a refused server sees no
 *   message.
 * One channel is one connection to one address, opened at the first call and again after it
 * is lost (or after the server's GOAWAY); the certificates are read at each connection, so a
 * rotation applies to the next one.
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
  /** Time for the server to acknowledge our SETTINGS once they are sent (default 10 s). */
  settingsAckTimeoutMs?: number;
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

/** One bidirectional call; see the module comment. */
export class GrpcBidiCall extends EventEmitter<GrpcBidiEvents> {
  private readonly stream: ClientStream;
  private chunks: Buffer[] = [];
  private have = 0;
  /** The length of the message being read, -1 while its prefix is read. */
  private length = -1;
  private responded = false;
  private status?: { code: number; details: string };
  private finished = false;
  private cancelled = false;

  /** `open` opens the HTTP/2 stream with the events given (GrpcH2Channel.bidi). */
  constructor(open: (events: ClientStreamEvents) => ClientStream, private readonly maxMessageBytes: number) {
    super();
    this.stream = open({
      headers: (fields, endStream) => this.onHeaders(fields, endStream),
      data: (chunk, endStream) => {
        this.onData(chunk);
        if (endStream) this.settle('the server ended the stream (END_STREAM)', H2_ERROR.NO_ERROR);
      },
      // A reset (the server's, or ours for a stream error in its frames, with its code), or a connection lost, gone away or closed: `why` says which.
      closed: (why, resetCode) => this.settle(why, resetCode),
    });
  }

  /** Sends one message; false when it waits for the server's flow-control window (it is still queued). */
  write(message: Uint8Array): boolean {
    if (this.finished) return false;
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    return this.stream.write(frame);
  }

  /** Half-closes the call: no more messages from this side; the server's still come. */
  end(): void {
    if (!this.finished) this.stream.end();
  }

  /** Ends the call from this side: `error` with CANCELLED follows, as grpc-js does. */
  cancel(): void {
    if (this.finished) return;
    this.cancelled = true;
    this.stream.reset(H2_ERROR.CANCEL);
    process.nextTick(() => this.settle('cancelled by the client'));
  }

  /** The response's headers (a trailers-only answer's status among them), then its trailers. */
  private onHeaders(h: Record<string, string>, endStream: boolean): void {
    if (this.finished) return;
    if (!this.responded) {
      this.responded = true;
      const status = Number(h[':status']);
      const type = h['content-type'] ?? '';
      if (status !== 200 || !type.startsWith('application/grpc')) {
        this.fail(status === 200 ? GRPC_STATUS.UNKNOWN : httpToGrpc(status), `the server answered HTTP ${status}${type ? ` (${type})` : ''}, not gRPC`);
        return;
      }
    }
    this.takeStatus(h);
    if (endStream) this.settle('the server ended the stream (END_STREAM)', H2_ERROR.NO_ERROR);
  }

  /**
   * The server's side ended with its status (trailers): the call is over, whether or not this
   * side has ended its own; an end without one is a stream the server ended without a status
   * (INTERNAL, as NO_ERROR), one reset by either side (the status its code maps to) or a lost
   * one (UNAVAILABLE), saying why.
   */
  private settle(why: string, resetCode?: number): void {
    if (this.finished) return;
    if (this.cancelled) { this.fail(GRPC_STATUS.CANCELLED, 'cancelled by the client'); return; }
    if (this.status) {
      if (this.status.code !== GRPC_STATUS.OK) { this.fail(this.status.code, this.status.details); return; }
      this.finished = true;
      this.stream.reset(H2_ERROR.NO_ERROR); // when this side had not ended: RST_STREAM NO_ERROR, as node:http2's close() did
      this.emit('end');
      return;
    }
    if (resetCode === undefined) { this.fail(GRPC_STATUS.UNAVAILABLE, why); return; }
    const { code, meaning } = resetToGrpc(resetCode);
    this.fail(code, meaning ? `${why}: ${meaning}` : why);
  }

  private takeStatus(h: Record<string, string>): void {
    const code = h['grpc-status'];
    if (code === undefined) return;
    const n = Number(code);
    this.status = { code: Number.isInteger(n) ? n : GRPC_STATUS.UNKNOWN, details: decodeGrpcMessage(h['grpc-message'] ?? '') };
  }

  private fail(code: number, details: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stream.reset(H2_ERROR.CANCEL);
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

/**
 * The gRPC status of a stream the server reset, by its RST_STREAM code (the table in grpc/grpc's
 * PROTOCOL-HTTP2.md, "Errors"), and what the table says the code means. A code the table gives
 * no status (STREAM_CLOSED: no open stream to tell) or does not list (HTTP_1_1_REQUIRED, codes
 * RFC 9113 does not define) is INTERNAL, as grpc-js has it.
 */
function resetToGrpc(resetCode: number): { code: number; meaning?: string } {
  switch (resetCode) {
    case H2_ERROR.NO_ERROR: return { code: GRPC_STATUS.INTERNAL, meaning: 'the stream ended without a gRPC status' };
    case H2_ERROR.REFUSED_STREAM: return { code: GRPC_STATUS.UNAVAILABLE, meaning: 'the server did not process the request; it may be retried' };
    case H2_ERROR.CANCEL: return { code: GRPC_STATUS.CANCELLED, meaning: 'the server cancelled the call' };
    case H2_ERROR.ENHANCE_YOUR_CALM: return { code: GRPC_STATUS.RESOURCE_EXHAUSTED, meaning: 'the server asks this client to slow down (bandwidth exhausted)' };
    case H2_ERROR.INADEQUATE_SECURITY: return { code: GRPC_STATUS.PERMISSION_DENIED, meaning: 'the connection is not secure enough for the call' };
    default: return { code: GRPC_STATUS.INTERNAL };
  }
}

/** A connection to one gRPC server for bidirectional calls; see the module comment. */
export class GrpcH2Channel {
  /** The connection new calls go on; the others (gone away, closing) only finish theirs. */
  private current?: ClientConnection;
  private readonly connections = new Set<ClientConnection>();
  private closed = false;

  constructor(private readonly o: GrpcChannelOptions) {}

  get target(): string { return this.o.target; }

  /** Opens a bidirectional call to `path` (/package.Service/Method). */
  bidi(path: string): GrpcBidiCall {
    const conn = this.connection();
    const request: Array<[string, string]> = [
      [':method', 'POST'],
      [':scheme', this.o.tls ? 'https' : 'http'],
      [':path', path],
      [':authority', authority(this.o.target)],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['user-agent', this.o.userAgent ?? 'frontdesk-grpc-h2'],
    ];
    return new GrpcBidiCall((events) => conn.request(request, events), this.o.maxMessageBytes ?? 64 * 1024 * 1024);
  }

  /** Closes the connection; the calls on it end (UNAVAILABLE, or CANCELLED for those cancelled). */
  close(): void {
    this.closed = true;
    for (const conn of this.connections) conn.close('the gRPC channel was closed');
    this.connections.clear();
    this.current = undefined;
  }

  private connection(): ClientConnection {
    if (this.closed) throw new Error('the gRPC channel is closed');
    if (this.current?.usable) return this.current;
    const { target, tls, expect } = this.o;
    const { host, port } = hostAndPort(target, tls ? 443 : 80);
    const socket = tls
      ? tlsConnect({
        host, port, ...tls.contextOptions(), ALPNProtocols: ['h2'],
        servername: tlsServerName(target, expect), checkServerIdentity: serverIdentityCheck(expect),
      })
      : netConnect({ host, port });
    const conn: ClientConnection = new ClientConnection(socket, {
      authority: authority(target),
      connectTimeoutMs: this.o.connectTimeoutMs ?? 10_000,
      keepaliveMs: this.o.keepaliveMs ?? 30_000,
      keepaliveTimeoutMs: this.o.keepaliveTimeoutMs ?? 10_000,
      settingsAckTimeoutMs: this.o.settingsAckTimeoutMs ?? 10_000,
      onClose: () => {
        this.connections.delete(conn);
        if (this.current === conn) this.current = undefined;
      },
    });
    this.connections.add(conn);
    this.current = conn;
    return conn;
  }
}

/** host:port, [v6]:port or a bare v6:port split; a target without a port takes the scheme's. */
function hostAndPort(target: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[(.*)\]:(\d+)$/.exec(target) ?? /^(.*):(\d+)$/.exec(target);
  if (m) return { host: m[1]!, port: Number(m[2]) };
  return { host: target.replace(/^\[(.*)\]$/, '$1'), port: defaultPort };
}

/** The :authority of a target: as given, an IPv6 address in brackets. */
function authority(target: string): string {
  const { host, port } = hostAndPort(target, 0);
  const h = host.includes(':') ? `[${host}]` : host;
  return port === 0 ? h : `${h}:${port}`;
}
