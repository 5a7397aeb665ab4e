import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  ACK, CONTINUATION, DATA, DEFAULT_MAX_FRAME, DEFAULT_WINDOW, describeH2Error, EMPTY, END_HEADERS, END_STREAM, frame, type
  FrameHandler, GOAWAY, goAwayFrame, H2_ERROR, HEADERS, headersFrame, MAX_MAX_FRAME, MAX_WINDOW, PING, PREFACE, PRIORITY,
  PRIORITY_FLAG, PUSH_PROMISE, readFrames, RST_STREAM, rstFrame, SETTINGS, SETTINGS_ENABLE_PUSH, SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE,
  settingsFrame, unpad, WINDOW_UPDATE, windowUpdate,
} from './frames.js';
import { CompressionError, encodeHeaders, HpackDecoder, tableSizeUpdate } from './hpack.js';

/**
 * The client side of one HTTP/2 connection (RFC 9113) for a few long-lived bidirectional
 * streams: what the companions' gRPC client (src/xds/grpc-h2-client.ts) runs its ADS stream on,
 * so that no companion process loads node:http2 (its module and one session cost ~3.4 MiB of
 * RSS). A stream is opened with its request headers; then DATA goes both ways, and the server's
 * header blocks (its response, then its trailers) and DATA reach the stream's events.
 *
 * What it does, with the RFC's rule for each:
 * - nothing is written before the socket is up (TCP, and TLS with ALPN `h2`), so a server whose
 *   certificate is refused never sees a byte; then the preface, our SETTINGS (ENABLE_PUSH 0,
 *   16 MiB stream windows, 64 KiB header lists) and the connection window raised to 16 MiB (§3.4,
 *   §6.5, §6.9);
 * - the server's first frame must be its SETTINGS (§3.4), and its ACK of ours must come within
 *   `settingsAckTimeoutMs` of our sending it, else the connection ends with GOAWAY
 *   SETTINGS_TIMEOUT (§6.5.3); each SETTINGS of the server's is acknowledged and its
 *   INITIAL_WINDOW_SIZE moves every open stream's window by the difference (§6.9.2), its
 *   MAX_FRAME_SIZE bounds our frames, its MAX_CONCURRENT_STREAMS holds new streams back until
 *   one ends, and a HEADER_TABLE_SIZE under 4,096 makes our next header block start with a table
 *   size update to 0 (RFC 7541 §4.2; our blocks use no table anyway);
 * - DATA is sent within the smaller of the connection's and the stream's windows and queued
 *   beyond them until the server's WINDOW_UPDATE (§6.9.1); received DATA is handed to the
 *   stream's events as it comes and its window given back (connection and stream) once a quarter
 *   of the window is owed;
 * - a PING is answered with its payload (§6.7); our keepalive PING goes every `keepaliveMs` and
 *   the connection is dropped when its ACK is not back within `keepaliveTimeoutMs`;
 * - RST_STREAM ends one stream, its error code handed to the stream's `closed` (and no RST_STREAM
 *   sent back, §5.4.2); GOAWAY (NO_ERROR) ends the streams above its last stream id
 *   (the server never took them), lets the others finish, and opens no new ones (§6.8); a GOAWAY
 *   with another code is the server's connection error: every stream ends with it as the reason;
 * - anything else RFC 9113 calls a connection error (§5.4.1), a frame over 16 KiB, a frame on a
 *   stream this client never opened, a header block HPACK cannot decode, a PUSH_PROMISE after
 *   ENABLE_PUSH 0..., sends GOAWAY with its code and ends the connection; a stream error (a
 *   malformed response, DATA over a stream's window) sends RST_STREAM and ends that stream, its
 *   `closed` given the code sent.
 *
 * Every frame of an event-loop turn goes out in one socket write. Bounds: frames of at most
 * 16 KiB in (we never raise SETTINGS_MAX_FRAME_SIZE), header blocks of at most 64 KiB in; what a
 * stream's events keep of its DATA is theirs to bound (grpc-h2-client.ts: its largest message).
 */

/** Our windows: a stream's (SETTINGS_INITIAL_WINDOW_SIZE) and the connection's. */
const STREAM_WINDOW = 16 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
const MAX_FRAME = DEFAULT_MAX_FRAME;
/** The largest header block (compressed) read, and the SETTINGS_MAX_HEADER_LIST_SIZE we ask for. */
const MAX_HEADER_BLOCK = 64 * 1024;
/** The table size an HPACK encoder may assume until the peer's SETTINGS say otherwise (RFC 7541 §4.2, RFC 9113 §6.5.2). */
const DEFAULT_TABLE_SIZE = 4096;
const MAX_STREAM_ID = 0x7fffffff;
/** After our GOAWAY, the time the socket is given to flush before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

export interface ClientConnectionOptions {
  /** The server's host:port, to name it in reasons. */
  authority: string;
  /** Time for the socket to be up (TCP, and TLS when it is a TLSSocket). */
  connectTimeoutMs: number;
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  /** Time for the server to acknowledge our SETTINGS, from the moment they are sent (§6.5.3). */
  settingsAckTimeoutMs: number;
  /** Called once when the connection is gone, after its streams' `closed`. */
  onClose?(why: string): void;
}

/** What a stream hears from the server. Called from socket events, never from inside this side's own calls. */
export interface ClientStreamEvents {
  /**
   * A header block: the response's headers first (informational 1xx ones are skipped), then,
   * ending the stream, its trailers; or one block that ends the stream (a trailers-only
   * answer). Repeated fields are joined with ", ".
   */
  headers(fields: Record<string, string>, endStream: boolean): void;
  /** A DATA frame's payload (a view of the socket's data); `endStream` on the server's last. */
  data(chunk: Buffer, endStream: boolean): void;
  /**
   * The stream is over without this side having reset it: the server reset it, or the
   * connection was lost, went away or was closed, or this side found a stream error in what the
   * server sent. `why` says which, for a person; `resetCode` is the error code of the RST_STREAM
   * (§6.4) that ended it, the server's or the one this side sent for its stream error, else
   * undefined.
   */
  closed(why: string, resetCode?: number): void;
}

/** One stream of a ClientConnection: its request was given at `request`; then DATA both ways. */
export class ClientStream {
  /** 0 until its HEADERS are sent (a stream waits while the server's MAX_CONCURRENT_STREAMS are open). */
  id = 0;
  sendWindow = 0;
  recvWindow = STREAM_WINDOW;
  /** Received DATA consumed but not yet given back with a WINDOW_UPDATE. */
  unannounced = 0;
  /** DATA written but not yet sent for want of window. */
  queue: Buffer[] = [];
  queued = 0;
  /** `end()` was called: END_STREAM goes with (or after) the last queued DATA. */
  endQueued = false;
  /** END_STREAM sent, or reset: nothing more is sent on it. */
  localEnded = false;
  /** The server's END_STREAM has been read. */
  remoteEnded = false;
  /** The response's (non-1xx) headers have been read: the next block is its trailers. */
  headersSeen = false;
  /** Over: closed both ways or reset; no more events. */
  done = false;

  constructor(readonly conn: ClientConnection, readonly request: ReadonlyArray<readonly [string, string]>, readonly events: ClientStreamEvents) {}

  /** Queues `data` as DATA; true when all of it went out within the windows (else it waits for WINDOW_UPDATE). */
  write(data: Buffer): boolean {
    if (this.done || this.endQueued) return false;
    if (data.length > 0) {
      this.queue.push(data);
      this.queued += data.length;
      this.conn.pump(this);
    }
    return this.queued === 0;
  }

  /** Half-closes the stream from this side: END_STREAM after what is queued. */
  end(): void {
    if (this.done || this.endQueued) return;
    this.endQueued = true;
    this.conn.pump(this);
  }

  /** Ends the stream from this side: RST_STREAM with `code` if it was open; no `closed` event follows. */
  reset(code: number = H2_ERROR.CANCEL): void {
    this.conn.resetStream(this, code);
  }
}

export class ClientConnection {
  private started = false;
  private input: Buffer | undefined;
  private settingsSeen = false;
  private readonly decoder = new HpackDecoder(DEFAULT_TABLE_SIZE);
  /** Open streams (HEADERS sent), by id. */
  private readonly streams = new Map<number, ClientStream>();
  /** Streams held back by the server's MAX_CONCURRENT_STREAMS, in the order they were made. */
  private waiting: ClientStream[] = [];
  private nextId = 1;
  /** A header block in progress (HEADERS without END_HEADERS, then CONTINUATIONs). */
  private block: { id: number; endStream: boolean; parts: Buffer[]; size: number } | undefined;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxStreams = Infinity;
  /** The server lowered its table under 4,096 and our next block has not said 0 yet. */
  private tableUpdatePending = false;
  private tableAtZero = false;
  private sendWindow = DEFAULT_WINDOW;
  private recvWindow = CONNECTION_WINDOW;
  private unannounced = 0;
  private readonly blocked = new Set<ClientStream>();
  private out: Buffer[] = [];
  private flushScheduled = false;
  /** No new streams: the server sent GOAWAY, or this side is closing. */
  private goingAway = false;
  /** Nothing more is read or written. */
  private closed = false;
  private gone = false;
  /** The first reason this connection went or is going away, for its streams' `closed`. */
  why: string | undefined;
  private readonly connectTimer: ReturnType<typeof setTimeout>;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private pingTimer: ReturnType<typeof setTimeout> | undefined;
  private pingPayload: Buffer | undefined;
  private pings = 0;
  /** Runs from our SETTINGS going out until the server's ACK of them. */
  private settingsTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly flush = () => {
    this.flushScheduled = false;
    if (!this.started || this.out.length === 0 || this.socket.destroyed) return;
    const out = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.socket.write(out);
  };

  constructor(private readonly socket: Socket | TLSSocket, private readonly o: ClientConnectionOptions) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: Error) => this.lose(e.message));
    socket.on('end', () => this.lose('the server closed the connection'));
    socket.on('close', () => this.finish('the connection was closed'));
    this.connectTimer = setTimeout(() => {
      this.lose(`no connection to ${o.authority} within ${o.connectTimeoutMs} ms`);
      socket.destroy();
    }, o.connectTimeoutMs);
    this.connectTimer.unref();
    const secure = (socket as TLSSocket).encrypted === true;
    if (secure) socket.once('secureConnect', () => this.start());
    else if (socket.connecting) socket.once('connect', () => this.start());
    else process.nextTick(() => this.start());
    this.out.push(PREFACE, settingsFrame([
      [SETTINGS_ENABLE_PUSH, 0],
      [SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW],
      [SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK],
    ]), windowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
  }

  /** Can take a new stream: not closed, and no GOAWAY either way. */
  get usable(): boolean {
    return !this.closed && !this.goingAway;
  }

  /**
   * Opens a stream with `headers` (pseudo-headers first) and no END_STREAM. On a connection
   * that cannot take it, its `closed` comes at once (on the next tick).
   */
  request(headers: ReadonlyArray<readonly [string, string]>, events: ClientStreamEvents): ClientStream {
    const s = new ClientStream(this, headers, events);
    if (!this.usable) {
      s.done = true;
      const why = this.why ?? 'the connection is closing';
      process.nextTick(() => events.closed(why));
      return s;
    }
    if (this.streams.size < this.peerMaxStreams) this.open(s);
    else this.waiting.push(s);
    return s;
  }

  /** Closes the connection from this side: GOAWAY, then the end of the socket; open streams get `closed(why)`. */
  close(why = 'the connection was closed by this client'): void {
    if (this.closed) return;
    this.lose(why);
    this.goingAway = true;
    if (this.started) {
      this.out.push(goAwayFrame(0, H2_ERROR.NO_ERROR));
      this.shutdown();
    } else {
      this.closed = true;
      this.socket.destroy();
    }
    process.nextTick(() => this.finish(why));
  }

  private start(): void {
    if (this.closed || this.started) return;
    clearTimeout(this.connectTimer);
    const tls = this.socket as TLSSocket;
    if (tls.encrypted === true) {
      // The CA and the identity were checked in the handshake (tls.connect's checkServerIdentity).
      if (!tls.authorized) { this.lose(`the server's certificate was not accepted: ${String(tls.authorizationError)}`); this.socket.destroy(); return; }
      if (tls.alpnProtocol !== 'h2') { this.lose(`the server did not choose HTTP/2 in TLS (ALPN: ${tls.alpnProtocol || 'none'})`); this.socket.destroy(); return; }
    }
    this.started = true;
    this.schedule();
    // Our SETTINGS go out in this turn's write, the first since the preface.
    this.settingsTimer = setTimeout(() => {
      this.settingsTimer = undefined;
      this.error(H2_ERROR.SETTINGS_TIMEOUT, `no ACK of this client's SETTINGS within ${this.o.settingsAckTimeoutMs} ms`);
    }, this.o.settingsAckTimeoutMs);
    this.settingsTimer.unref();
    this.keepalive = setInterval(() => this.ping(), this.o.keepaliveMs);
    this.keepalive.unref();
  }

  /** Our keepalive PING; the connection is dropped when its ACK does not come in time. One at a time. */
  private ping(): void {
    if (this.closed || this.pingPayload !== undefined) return;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(++this.pings, 4);
    this.pingPayload = payload;
    this.write(frame(PING, 0, 0, payload));
    this.pingTimer = setTimeout(() => {
      this.lose(`no answer to a keepalive PING within ${this.o.keepaliveTimeoutMs} ms`);
      this.socket.destroy();
    }, this.o.keepaliveTimeoutMs);
    this.pingTimer.unref();
  }

  private lose(why: string): void {
    this.why ??= why;
  }

  /** The connection is over: every stream hears why, then the owner. */
  private finish(fallback: string): void {
    if (this.gone) return;
    this.gone = true;
    this.closed = true;
    this.goingAway = true;
    clearTimeout(this.connectTimer);
    clearInterval(this.keepalive);
    clearTimeout(this.pingTimer);
    clearTimeout(this.settingsTimer);
    const why = this.why ?? fallback;
    const streams = [...this.streams.values(), ...this.waiting];
    this.streams.clear();
    this.waiting = [];
    this.blocked.clear();
    for (const s of streams) this.closeStream(s, why);
    this.o.onClose?.(why);
  }

  /** Writes what is queued (our GOAWAY last), then ends the socket, destroying it if it does not close in time. */
  private shutdown(): void {
    this.flush();
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with its code, the end of the connection, and its streams told why. */
  private error(code: number, what: string): void {
    if (this.closed) return;
    this.lose(`HTTP/2 protocol error from the server: ${what} (GOAWAY ${describeH2Error(code)} sent)`);
    this.goingAway = true;
    this.out.push(goAwayFrame(0, code));
    this.shutdown();
    this.finish(this.why!);
  }

  /** A stream error (§5.4.2): RST_STREAM with its code; the stream hears why, and the code. */
  private streamError(s: ClientStream, code: number, what: string): void {
    this.write(rstFrame(s.id, code));
    this.remove(s);
    this.closeStream(s, `HTTP/2 stream error: ${what} (RST_STREAM ${describeH2Error(code)} sent)`, code);
  }

  private closeStream(s: ClientStream, why: string, resetCode?: number): void {
    s.done = true;
    s.localEnded = true;
    s.queue = [];
    s.queued = 0;
    s.events.closed(why, resetCode);
  }

  /** ClientStream.reset's work. */
  resetStream(s: ClientStream, code: number): void {
    if (s.done) return;
    s.done = true;
    s.localEnded = true;
    s.queue = [];
    s.queued = 0;
    if (s.id === 0) {
      this.waiting = this.waiting.filter((w) => w !== s);
      return;
    }
    if (!this.closed) this.write(rstFrame(s.id, code));
    this.remove(s);
  }

  /** Drops a stream from the open ones; the next waiting stream may open; after GOAWAY, the last one ends the connection. */
  private remove(s: ClientStream): void {
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    this.blocked.delete(s);
    s.done = true;
    if (this.goingAway && this.streams.size === 0 && !this.closed) {
      this.shutdown();
      process.nextTick(() => this.finish('the server closed the connection (GOAWAY)'));
      return;
    }
    this.openWaiting();
  }

  private open(s: ClientStream): void {
    if (this.nextId > MAX_STREAM_ID) {
      // §5.1.1: a connection whose stream ids are spent takes no new stream; the next goes to a new connection.
      this.goingAway = true;
      this.lose('no stream ids left on the connection');
      this.closeStream(s, this.why!);
      return;
    }
    s.id = this.nextId;
    this.nextId += 2;
    s.sendWindow = this.peerInitialWindow;
    this.streams.set(s.id, s);
    let block = encodeHeaders(s.request);
    if (this.tableUpdatePending) {
      block = Buffer.concat([tableSizeUpdate(0), block]);
      this.tableUpdatePending = false;
    }
    this.write(headersFrame(s.id, block, 0, this.peerMaxFrame));
    this.pump(s);
  }

  private openWaiting(): void {
    while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams && this.usable) this.open(this.waiting.shift()!);
  }

  /** Sends what the windows allow of a stream's queued DATA, then its END_STREAM once all is out. */
  pump(s: ClientStream): void {
    if (s.id === 0 || s.done || s.localEnded || this.closed) return;
    while (s.queued > 0) {
      const n = Math.min(s.queued, s.sendWindow, this.sendWindow, this.peerMaxFrame);
      if (n <= 0) break;
      const payload = take(s, n);
      const last = s.queued === 0 && s.endQueued;
      this.write(frame(DATA, last ? END_STREAM : 0, s.id, payload));
      s.sendWindow -= n;
      this.sendWindow -= n;
      if (last) s.localEnded = true;
    }
    if (s.queued === 0 && s.endQueued && !s.localEnded) {
      this.write(frame(DATA, END_STREAM, s.id, EMPTY));
      s.localEnded = true;
    }
    if (s.queued > 0) this.blocked.add(s);
    else this.blocked.delete(s);
    if (s.localEnded && s.remoteEnded) this.remove(s);
  }

  private unblock(): void {
    for (const s of this.blocked) {
      if (this.sendWindow <= 0) break;
      this.pump(s);
    }
  }

  private write(b: Buffer): void {
    if (this.closed) return;
    this.out.push(b);
    this.schedule();
  }

  /** One socket write for everything of an event-loop turn: after its callbacks and promise jobs. */
  private schedule(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  }

  /** A stream id this client never opened: even (the server's, which it may not open with push off) or not yet used. */
  private idle(id: number): boolean {
    return id % 2 === 0 || id >= this.nextId;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const buf = this.input === undefined ? chunk : Buffer.concat([this.input, chunk]);
    this.input = undefined;
    const rest = readFrames(buf, 0, MAX_FRAME, this.onFrame);
    if (rest !== undefined && !Buffer.isBuffer(rest)) { this.error(H2_ERROR.FRAME_SIZE_ERROR, `a frame of ${rest.tooLarge} octets, over the ${MAX_FRAME} this client allows`); return; }
    if (!this.closed) this.input = rest;
  }

  private readonly onFrame: FrameHandler = (type, flags, id, payload) => {
    this.frame(type, flags, id, payload);
    return !this.closed;
  };

  private frame(type: number, flags: number, id: number, p: Buffer): void {
    if (!this.settingsSeen) {
      // §3.4: the server's preface is a SETTINGS frame, the first it sends.
      if (type !== SETTINGS || (flags & ACK) !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR, 'its first frame is not SETTINGS'); return; }
      this.settingsSeen = true;
    }
    if (this.block !== undefined && type !== CONTINUATION) { this.error(H2_ERROR.PROTOCOL_ERROR, `a frame of type ${type} inside a header block`); return; }
    switch (type) {
      case DATA: this.data(flags, id, p); return;
      case HEADERS: this.headers(flags, id, p); return;
      case CONTINUATION: this.continuation(flags, id, p); return;
      case PRIORITY:
        if (id === 0) { this.error(H2_ERROR.PROTOCOL_ERROR, 'PRIORITY on stream 0'); return; }
        if (p.length !== 5) {
          const s = this.streams.get(id);
          if (s) this.streamError(s, H2_ERROR.FRAME_SIZE_ERROR, `a PRIORITY of ${p.length} octets`);
          else this.write(rstFrame(id, H2_ERROR.FRAME_SIZE_ERROR));
        }
        return; // priorities are advice (§5.3); there is nothing to order here
      case RST_STREAM: this.rstStream(id, p); return;
      case SETTINGS: this.settings(flags, id, p); return;
      case PUSH_PROMISE: this.error(H2_ERROR.PROTOCOL_ERROR, 'PUSH_PROMISE, though this client sent ENABLE_PUSH 0'); return;
      case PING:
        if (id !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR, `PING on stream ${id}`); return; }
        if (p.length !== 8) { this.error(H2_ERROR.FRAME_SIZE_ERROR, `a PING of ${p.length} octets`); return; }
        if ((flags & ACK) === 0) this.write(frame(PING, ACK, 0, Buffer.from(p)));
        else if (this.pingPayload !== undefined && p.equals(this.pingPayload)) {
          clearTimeout(this.pingTimer);
          this.pingTimer = undefined;
          this.pingPayload = undefined;
        }
        return;
      case GOAWAY: this.goAway(id, p); return;
      case WINDOW_UPDATE: this.windowUpdate(id, p); return;
      default: return; // §4.1: unknown frame types are ignored
    }
  }

  private settings(flags: number, id: number, p: Buffer): void {
    if (id !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR, `SETTINGS on stream ${id}`); return; }
    if ((flags & ACK) !== 0) {
      if (p.length !== 0) { this.error(H2_ERROR.FRAME_SIZE_ERROR, 'a SETTINGS ACK with a payload'); return; }
      clearTimeout(this.settingsTimer); // the ACK of the one SETTINGS this client sends
      this.settingsTimer = undefined;
      return;
    }
    if (p.length % 6 !== 0) { this.error(H2_ERROR.FRAME_SIZE_ERROR, `a SETTINGS of ${p.length} octets`); return; }
    for (let i = 0; i < p.length; i += 6) {
      const key = p.readUInt16BE(i);
      const value = p.readUInt32BE(i + 2);
      switch (key) {
        case SETTINGS_HEADER_TABLE_SIZE:
          if (value < DEFAULT_TABLE_SIZE && !this.tableAtZero) { this.tableUpdatePending = true; this.tableAtZero = true; }
          break;
        case SETTINGS_ENABLE_PUSH:
          // §6.5.2: a client treats ENABLE_PUSH 1 from a server (or any value but 0 and 1) as a PROTOCOL_ERROR.
          if (value !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value} from a server`); return; }
          break;
        case SETTINGS_MAX_CONCURRENT_STREAMS:
          this.peerMaxStreams = value;
          break;
        case SETTINGS_INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) { this.error(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`); return; }
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) { this.error(H2_ERROR.FLOW_CONTROL_ERROR, `a stream window over 2^31-1 after SETTINGS_INITIAL_WINDOW_SIZE ${value}`); return; }
          }
          break;
        }
        case SETTINGS_MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME || value > MAX_MAX_FRAME) { this.error(H2_ERROR.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`); return; }
          this.peerMaxFrame = value;
          break;
        default: break; // SETTINGS_MAX_HEADER_LIST_SIZE is advice; unknown settings are ignored (§6.5.2)
      }
    }
    this.write(frame(SETTINGS, ACK, 0, EMPTY));
    this.unblock();
    this.openWaiting();
  }

  private windowUpdate(id: number, p: Buffer): void {
    if (p.length !== 4) { this.error(H2_ERROR.FRAME_SIZE_ERROR, `a WINDOW_UPDATE of ${p.length} octets`); return; }
    const increment = p.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) { this.error(H2_ERROR.PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0 on the connection'); return; }
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) { this.error(H2_ERROR.FLOW_CONTROL_ERROR, 'the connection window over 2^31-1'); return; }
    } else {
      if (this.idle(id)) { this.error(H2_ERROR.PROTOCOL_ERROR, `WINDOW_UPDATE on stream ${id}, which this client never opened`); return; }
      const s = this.streams.get(id);
      if (s === undefined) return; // a closed stream's late update
      if (increment === 0) { this.streamError(s, H2_ERROR.PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0'); return; }
      s.sendWindow += increment;
      if (s.sendWindow > MAX_WINDOW) { this.streamError(s, H2_ERROR.FLOW_CONTROL_ERROR, 'a stream window over 2^31-1'); return; }
    }
    this.unblock();
  }

  private rstStream(id: number, p: Buffer): void {
    if (id === 0) { this.error(H2_ERROR.PROTOCOL_ERROR, 'RST_STREAM on stream 0'); return; }
    if (p.length !== 4) { this.error(H2_ERROR.FRAME_SIZE_ERROR, `a RST_STREAM of ${p.length} octets`); return; }
    if (this.idle(id)) { this.error(H2_ERROR.PROTOCOL_ERROR, `RST_STREAM on stream ${id}, which this client never opened`); return; }
    const s = this.streams.get(id);
    if (s === undefined) return;
    const code = p.readUInt32BE(0);
    this.remove(s);
    this.closeStream(s, `the server reset the stream (HTTP/2 error ${describeH2Error(code)})`, code);
  }

  private goAway(id: number, p: Buffer): void {
    if (id !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR, `GOAWAY on stream ${id}`); return; }
    if (p.length < 8) { this.error(H2_ERROR.FRAME_SIZE_ERROR, `a GOAWAY of ${p.length} octets`); return; }
    const lastId = p.readUInt32BE(0) & 0x7fffffff;
    const code = p.readUInt32BE(4);
    if (code !== H2_ERROR.NO_ERROR) {
      // A connection error on the server's side (§5.4.1): it closes the connection, so nothing
      // more will come on any stream. Every stream ends now (as node:http2 ended its session).
      const debug = p.subarray(8).toString('latin1').replace(/[^\x20-\x7e]/g, '');
      this.close(`the server closed the connection (GOAWAY, HTTP/2 error ${describeH2Error(code)}${debug ? `: ${debug}` : ''})`);
      return;
    }
    this.goingAway = true;
    // §6.8: streams above the last id were never taken by the server: they may be retried elsewhere.
    const untaken = this.why ?? `the server is going away (GOAWAY) and did not take the stream (its last is ${lastId})`;
    const dropped = [...this.waiting, ...[...this.streams.values()].filter((s) => s.id > lastId)];
    this.waiting = [];
    for (const s of dropped) {
      this.streams.delete(s.id);
      this.blocked.delete(s);
      this.closeStream(s, untaken);
    }
    if (this.streams.size === 0 && !this.closed) {
      this.shutdown();
      this.finish(untaken);
    }
  }

  private data(flags: number, id: number, p: Buffer): void {
    if (id === 0) { this.error(H2_ERROR.PROTOCOL_ERROR, 'DATA on stream 0'); return; }
    if (this.idle(id)) { this.error(H2_ERROR.PROTOCOL_ERROR, `DATA on stream ${id}, which this client never opened`); return; }
    const length = p.length;
    this.recvWindow -= length;
    if (this.recvWindow < 0) { this.error(H2_ERROR.FLOW_CONTROL_ERROR, 'DATA over the connection window'); return; }
    const s = this.streams.get(id);
    if (s === undefined || s.remoteEnded) {
      // A stream this side reset or closed (§5.1: ignored), or one the server had ended: its
      // octets still counted against the connection's window.
      this.giveBack(undefined, length);
      if (s !== undefined) this.streamError(s, H2_ERROR.STREAM_CLOSED, 'DATA after the server ended the stream');
      return;
    }
    const body = unpad(flags, p);
    if (body === undefined) { this.error(H2_ERROR.PROTOCOL_ERROR, 'DATA whose padding is longer than itself'); return; }
    s.recvWindow -= length;
    if (s.recvWindow < 0) { this.giveBack(undefined, length); this.streamError(s, H2_ERROR.FLOW_CONTROL_ERROR, 'DATA over the stream window'); return; }
    if (!s.headersSeen) { this.giveBack(undefined, length); this.streamError(s, H2_ERROR.PROTOCOL_ERROR, 'DATA before the response headers'); return; }
    const end = (flags & END_STREAM) !== 0;
    if (end) s.remoteEnded = true;
    s.events.data(body, end);
    // The stream's events have taken it: its window is given back, padding included.
    this.giveBack(s, length);
    if (end) this.ended(s);
  }

  /**
   * Gives `n` octets back to the connection's window and, while it is open, the stream's;
   * each WINDOW_UPDATE once a quarter of the window is owed.
   */
  private giveBack(s: ClientStream | undefined, n: number): void {
    this.unannounced += n;
    if (this.unannounced >= CONNECTION_WINDOW / 4) {
      this.write(windowUpdate(0, this.unannounced));
      this.recvWindow += this.unannounced;
      this.unannounced = 0;
    }
    if (s === undefined || s.done || s.remoteEnded) return;
    s.unannounced += n;
    if (s.unannounced >= STREAM_WINDOW / 4) {
      this.write(windowUpdate(s.id, s.unannounced));
      s.recvWindow += s.unannounced;
      s.unannounced = 0;
    }
  }

  /** The server's END_STREAM: the stream is closed once this side has ended too. */
  private ended(s: ClientStream): void {
    if (s.localEnded) this.remove(s);
  }

  private headers(flags: number, id: number, p: Buffer): void {
    if (id === 0) { this.error(H2_ERROR.PROTOCOL_ERROR, 'HEADERS on stream 0'); return; }
    if (this.idle(id)) { this.error(H2_ERROR.PROTOCOL_ERROR, `HEADERS on stream ${id}, which this client never opened`); return; }
    let fragment = unpad(flags, p);
    if (fragment === undefined) { this.error(H2_ERROR.PROTOCOL_ERROR, 'HEADERS whose padding is longer than itself'); return; }
    if ((flags & PRIORITY_FLAG) !== 0) {
      if (fragment.length < 5) { this.error(H2_ERROR.FRAME_SIZE_ERROR, 'HEADERS too short for its priority'); return; }
      fragment = fragment.subarray(5);
    }
    const endStream = (flags & END_STREAM) !== 0;
    if ((flags & END_HEADERS) === 0) {
      this.block = { id, endStream, parts: [Buffer.from(fragment)], size: fragment.length };
      if (fragment.length > MAX_HEADER_BLOCK) this.error(H2_ERROR.ENHANCE_YOUR_CALM, `a header block over ${MAX_HEADER_BLOCK} octets`);
      return;
    }
    this.headerBlock(id, endStream, fragment);
  }

  private continuation(flags: number, id: number, p: Buffer): void {
    const b = this.block;
    if (b === undefined || b.id !== id) { this.error(H2_ERROR.PROTOCOL_ERROR, `CONTINUATION on stream ${id} without HEADERS before it`); return; }
    b.size += p.length;
    if (b.size > MAX_HEADER_BLOCK) { this.error(H2_ERROR.ENHANCE_YOUR_CALM, `a header block over ${MAX_HEADER_BLOCK} octets`); return; }
    b.parts.push(Buffer.from(p));
    if ((flags & END_HEADERS) === 0) return;
    this.block = undefined;
    this.headerBlock(id, b.endStream, Buffer.concat(b.parts, b.size));
  }

  private headerBlock(id: number, endStream: boolean, block: Buffer): void {
    // Decoded whatever became of the stream: the dynamic table must stay in step (RFC 7541 §2.2).
    const s = this.streams.get(id);
    const trailers = s?.headersSeen === true;
    const fields: Record<string, string> = {};
    let malformed: string | undefined;
    let regular = false;
    try {
      this.decoder.decode(block, (name, value) => {
        // RFC 9113 §8.3: a response's one pseudo-header is :status, before the regular fields; trailers have none.
        if (name.charCodeAt(0) === 0x3a) {
          if (trailers) malformed ??= `the pseudo-header ${name} in trailers`;
          else if (name !== ':status') malformed ??= `the pseudo-header ${name} in a response`;
          else if (regular || fields[name] !== undefined) malformed ??= ':status twice or after a regular field';
        } else {
          regular = true;
        }
        const had = fields[name];
        fields[name] = had === undefined ? value : `${had}, ${value}`;
      });
    } catch (e) {
      if (e instanceof CompressionError) { this.error(H2_ERROR.COMPRESSION_ERROR, `a header block HPACK cannot decode: ${e.message}`); return; }
      throw e;
    }
    if (s === undefined) return; // a stream this side reset or closed (§5.1: ignored)
    if (s.remoteEnded) { this.streamError(s, H2_ERROR.STREAM_CLOSED, 'HEADERS after the server ended the stream'); return; }
    if (!trailers && malformed === undefined) {
      const status = fields[':status'];
      if (status === undefined || !/^[1-5]\d\d$/.test(status)) malformed = `a response whose :status is ${status ?? 'missing'}`;
      else if (status === '101') malformed = 'a 101 response, which HTTP/2 does not have (§8.6)';
      else if (status[0] === '1') {
        // §8.1: an informational response; the final one follows on the same stream.
        if (endStream) malformed = 'an informational (1xx) response that ends the stream';
        else return;
      }
    }
    if (trailers && !endStream) malformed ??= 'a second header block (trailers) without END_STREAM';
    if (malformed !== undefined) { this.streamError(s, H2_ERROR.PROTOCOL_ERROR, malformed); return; }
    s.headersSeen = true;
    if (endStream) s.remoteEnded = true;
    s.events.headers(fields, endStream);
    if (endStream) this.ended(s);
  }
}

/** The first `n` queued octets of a stream, off its queue. */
function take(s: ClientStream, n: number): Buffer {
  s.queued -= n;
  const head = s.queue[0]!;
  if (head.length === n) { s.queue.shift(); return head; }
  if (head.length > n) { s.queue[0] = head.subarray(n); return head.subarray(0, n); }
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  while (at < n) {
    const b = s.queue[0]!;
    const k = Math.min(b.length, n - at);
    b.copy(out, at, 0, k);
    at += k;
    if (k === b.length) s.queue.shift();
    else s.queue[0] = b.subarray(k);
  }
  return out;
}
