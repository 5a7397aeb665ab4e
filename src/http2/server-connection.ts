import type { Socket } from 'node:net';
import {
  ACK, CONTINUATION, DATA, DEFAULT_MAX_FRAME, DEFAULT_WINDOW, EMPTY, END_HEADERS, END_STREAM, frame, type FrameHandler, frameHeader,
  GOAWAY, goAwayFrame, H2_ERROR, HEADERS, headersFrame, MAX_MAX_FRAME, MAX_WINDOW, PING, PREFACE, PRIORITY, PRIORITY_FLAG,
  PUSH_PROMISE, readFrames, RST_STREAM, rstFrame, SETTINGS, SETTINGS_ENABLE_PUSH, SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE, settingsFrame, unpad, WINDOW_UPDATE,
  windowUpdate,
} from './frames.js';
import { CompressionError, HpackDecoder } from './hpack.js';

/**
 * The server side of one HTTP/2 connection (RFC 9113). A stream is either one request
 * (HEADERS, DATA up to END_STREAM) answered by one response (`onRequest`, which answers through
 * `respond`), or, when `open` takes it at its headers, a stream of DATA both ways (a gRPC
 * streaming call): its data handed over frame by frame as it arrives, its answers sent as they
 * are made (`sendHeaders`, `sendData`, `close`). Framing, HPACK, flow control both ways and the
 * protocol's errors are here; what a request means is the caller's.
 *
 * Why not node:http2: a Node Http2Stream is a Duplex stream with its own objects, events and
 * header objects per call, about 28 µs of CPU per call with an empty handler on the benchmark
 * machine, the larger part of a rate-limit decision. Here a call costs its frames: parsed in
 * place, its DATA kept as a view of the socket's chunk, its answer one buffer, and every answer
 * of an event-loop turn one socket write.
 *
 * Bounds: frames over 16 KiB, header blocks over 64 KiB, more than `maxConcurrentStreams` open
 * streams and any protocol error end the connection (GOAWAY) or the stream (RST_STREAM) as RFC
 * 9113 says. A stream's window is its largest body (and a frame) and the connection's 16 MiB: a
 * peer can hold at most that much unanswered request data in this process, since the window is
 * given back only when a stream's answer is sent or the stream is reset. A streamed stream's
 * data is handed over as it arrives, so its windows are given back as they are used (the
 * stream's once half of it is owed); what the handler keeps of it is the handler's bound.
 */

export { H2_ERROR } from './frames.js';

const MAX_FRAME = DEFAULT_MAX_FRAME;
const MAX_HEADER_BLOCK = 64 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
/**
 * Client resets of open streams: what node:http2 (nghttp2's stream reset rate limit) allowed
 * before, a burst of 1,000 then 33 a second; more end the connection with ENHANCE_YOUR_CALM.
 * Envoy resets a call when its filter's timeout fires, far below this under any load it can
 * answer. A streamed stream reset once it has been answered is not counted: Envoy's ext_proc
 * ends every finished stream so unless it closes them gracefully.
 */
const RESET_BURST = 1000;
const RESET_RATE = 33;
/** A connection that has not sent the preface and its SETTINGS by then is closed. */
const PREFACE_TIMEOUT_MS = 10_000;

export interface ServerConnectionOptions {
  maxConcurrentStreams: number;
  /** The largest request body; a larger one gets `onTooLarge` as soon as it is over. */
  maxBodyBytes: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: a request whose headers are larger gets `onHeadersTooLarge`. */
  maxHeaderListSize: number;
  /** A stream ended by the client (END_STREAM): its headers (pseudo-headers included) and body. */
  onRequest(stream: ServerStream): void;
  /** A request over `maxBodyBytes`: it is answered at once (its later data is dropped). */
  onTooLarge(stream: ServerStream): void;
  onHeadersTooLarge(stream: ServerStream): void;
  /** Called once when the connection is gone. */
  onClose?(): void;
  /**
   * A stream's first header block, when it did not end the stream: callbacks take it as a
   * streamed stream (its DATA handed over as it arrives); undefined leaves it a request read
   * whole for `onRequest`.
   */
  open?(stream: ServerStream): StreamCallbacks | undefined;
}

/** What a streamed stream tells its handler. */
export interface StreamCallbacks {
  /** A DATA frame's body, a view of the socket's chunk (copy what must outlive the call). */
  data(chunk: Buffer): void;
  /** The client's END_STREAM: it sends nothing more; the stream is open until `close`. */
  end(): void;
  /** The stream is gone before `close`: reset by the client, or the connection ended. */
  reset(): void;
}

/**
 * One stream. A request read whole: `respond` (once) sends the answer's three header blocks and
 * body. A streamed one: `sendHeaders`, any number of `sendData`, then `close`.
 */
export class ServerStream {
  headers: Record<string, string> = {};
  /** The body's chunks: one view of the socket's data nearly always. */
  chunks: Buffer[] = [];
  size = 0;
  /** Its first header block has been read (a second one is the client's trailers). */
  headersSeen = false;
  /** Set once the answer is queued or the stream is reset: nothing more is sent on it. */
  done = false;
  /** The client's END_STREAM has been seen. */
  ended = false;
  sendWindow: number;
  recvWindow: number;
  /** Flow-controlled output waiting for window: DATA payload left, then the closing header block. */
  pendingData?: Buffer;
  pendingTrailers?: Buffer;
  /** A streamed stream's handler (see ServerConnectionOptions.open). */
  streamed?: StreamCallbacks;
  /** A streamed stream's received octets not yet given back to its window. */
  unannounced = 0;
  /** A streamed stream has sent data since the client's last: the client's reset now wastes none of this server's work. */
  answered = false;

  constructor(readonly id: number, readonly conn: ServerConnection, sendWindow: number, recvWindow: number) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** The body as one buffer. */
  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }

  /**
   * Sends `headerBlock` (HPACK-encoded), then `data` as DATA frames, then `trailerBlock` with
   * END_STREAM. Without `data`, `headerBlock` alone ends the stream (a trailers-only answer).
   */
  respond(headerBlock: Buffer, data?: Buffer, trailerBlock?: Buffer): void {
    if (this.done) return;
    this.done = true;
    this.conn.answer(this, headerBlock, data, trailerBlock);
  }

  /** A streamed stream's response headers (HPACK-encoded), before its first data. */
  sendHeaders(headerBlock: Buffer): void {
    if (!this.done) this.conn.sendHeaders(this, headerBlock);
  }

  /** More of a streamed stream's response, as DATA frames its windows allow (the rest waits for WINDOW_UPDATE). */
  sendData(data: Buffer): void {
    if (!this.done && data.length > 0) this.conn.sendData(this, data);
  }

  /** Ends a streamed stream: `trailerBlock` with END_STREAM, once the data before it is sent. */
  close(trailerBlock: Buffer): void {
    if (this.done) return;
    this.done = true;
    this.conn.closeStream(this, trailerBlock);
  }
}

export class ServerConnection {
  private input: Buffer | undefined;
  private prefaceSeen = false;
  private settingsSeen = false;
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, ServerStream>();
  private lastStreamId = 0;
  /** A header block in progress (HEADERS without END_HEADERS, then CONTINUATIONs). */
  private block: { stream: ServerStream | undefined; id: number; endStream: boolean; parts: Buffer[]; size: number } | undefined;
  private peerMaxFrame = MAX_FRAME;
  private peerInitialWindow = DEFAULT_WINDOW;
  private sendWindow = DEFAULT_WINDOW;
  /** What the client may still send on the connection, and what was given back but not yet announced. */
  private recvWindow = CONNECTION_WINDOW;
  private unannounced = 0;
  private readonly blocked = new Set<ServerStream>();
  private out: Buffer[] = [];
  private flushScheduled = false;
  private goingAway = false;
  /** No more input is read: the connection is ending or gone. */
  private closed = false;
  private gone = false;
  private readonly streamWindow: number;
  private readonly prefaceTimer: ReturnType<typeof setTimeout>;
  /** Resets of open streams the client may still make: a burst, refilled at a steady rate (rapid reset, CVE-2023-44487). */
  private resetTokens = RESET_BURST;
  private resetAt = Date.now();
  private readonly flush = () => {
    this.flushScheduled = false;
    if (this.closed || this.out.length === 0) return;
    const out = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.socket.write(out);
    if (this.goingAway && this.streams.size === 0) {
      // Every call is answered: nothing more is read or written on this connection.
      this.closed = true;
      this.socket.end();
    }
  };

  constructor(private readonly socket: Socket, private readonly o: ServerConnectionOptions) {
    // Never under the default: a client may send that much before it reads these SETTINGS.
    this.streamWindow = Math.max(DEFAULT_WINDOW, Math.min(o.maxBodyBytes + MAX_FRAME, MAX_WINDOW));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.gone_());
    this.prefaceTimer = setTimeout(() => { if (!this.settingsSeen) this.destroy(); }, PREFACE_TIMEOUT_MS);
    this.prefaceTimer.unref();
    // Our SETTINGS, then the connection window raised from 65,535.
    const settings: Array<[number, number]> = [
      [SETTINGS_ENABLE_PUSH, 0],
      [SETTINGS_MAX_CONCURRENT_STREAMS, o.maxConcurrentStreams],
      [SETTINGS_INITIAL_WINDOW_SIZE, this.streamWindow],
      [SETTINGS_MAX_HEADER_LIST_SIZE, o.maxHeaderListSize],
    ];
    this.write(settingsFrame(settings));
    this.write(windowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
  }

  /** Sends GOAWAY: no new streams; the connection ends once the open ones are answered. */
  goAway(code: number = H2_ERROR.NO_ERROR): void {
    if (this.closed) return;
    if (!this.goingAway) this.write(goAwayFrame(this.lastStreamId, code));
    this.goingAway = true;
    if (code !== H2_ERROR.NO_ERROR) {
      const open = [...this.streams.values()];
      this.streams.clear();
      for (const s of open) this.dropped(s);
    }
    this.schedule();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private gone_(): void {
    if (this.gone) return;
    this.gone = true;
    this.closed = true;
    clearTimeout(this.prefaceTimer);
    const open = [...this.streams.values()];
    this.streams.clear();
    this.blocked.clear();
    for (const s of open) this.dropped(s);
    this.o.onClose?.();
  }

  /** Open streams (for a graceful stop). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** ServerStream.respond's work. */
  answer(s: ServerStream, headerBlock: Buffer, data: Buffer | undefined, trailerBlock: Buffer | undefined): void {
    if (this.closed || this.streams.get(s.id) !== s) return;
    const trailers = trailerBlock ?? EMPTY;
    if (data === undefined) {
      this.write(headersFrame(s.id, headerBlock, END_STREAM, this.peerMaxFrame));
    } else if (data.length > 0 && data.length <= Math.min(s.sendWindow, this.sendWindow, this.peerMaxFrame) && headerBlock.length <= this.peerMaxFrame && trailers.length <= this.peerMaxFrame) {
      // The usual answer: its three frames in one buffer.
      const b = Buffer.allocUnsafe(27 + headerBlock.length + data.length + trailers.length);
      let at = frameHeader(b, 0, headerBlock.length, HEADERS, END_HEADERS, s.id);
      at += headerBlock.copy(b, at);
      at = frameHeader(b, at, data.length, DATA, 0, s.id);
      at += data.copy(b, at);
      at = frameHeader(b, at, trailers.length, HEADERS, END_HEADERS | END_STREAM, s.id);
      trailers.copy(b, at);
      s.sendWindow -= data.length;
      this.sendWindow -= data.length;
      this.write(b);
    } else {
      // Larger than a frame or the windows: its DATA as they allow, then the trailers.
      this.write(headersFrame(s.id, headerBlock, 0, this.peerMaxFrame));
      s.pendingData = data;
      this.closeStream(s, trailers);
      return;
    }
    this.finish(s);
  }

  /** ServerStream.sendHeaders's work. */
  sendHeaders(s: ServerStream, headerBlock: Buffer): void {
    if (this.closed || this.streams.get(s.id) !== s) return;
    this.write(headersFrame(s.id, headerBlock, 0, this.peerMaxFrame));
  }

  /** ServerStream.sendData's work: after what already waits for window, in order. */
  sendData(s: ServerStream, data: Buffer): void {
    if (this.closed || this.streams.get(s.id) !== s) return;
    s.answered = true;
    if (s.pendingData === undefined && data.length <= Math.min(s.sendWindow, this.sendWindow, this.peerMaxFrame)) {
      this.write(frame(DATA, 0, s.id, data));
      s.sendWindow -= data.length;
      this.sendWindow -= data.length;
      return;
    }
    s.pendingData = s.pendingData === undefined ? data : Buffer.concat([s.pendingData, data]);
    this.pump(s);
    if (s.pendingData !== undefined) {
      this.blocked.add(s);
      this.schedule();
    }
  }

  /** ServerStream.close's work (and a unary answer's once its DATA waits for window). */
  closeStream(s: ServerStream, trailerBlock: Buffer): void {
    if (this.closed || this.streams.get(s.id) !== s) return;
    s.pendingTrailers = trailerBlock;
    this.pump(s);
    if (s.pendingTrailers !== undefined) {
      this.blocked.add(s);
      this.schedule();
      return;
    }
    this.finish(s);
  }

  /** A stream gone before its answer: a streamed one's handler is told. */
  private dropped(s: ServerStream): void {
    const wasOpen = !s.done;
    s.done = true;
    if (wasOpen) s.streamed?.reset();
  }

  /** Writes what the windows allow of a stream's DATA, then its closing block (once it is given). */
  private pump(s: ServerStream): void {
    let data = s.pendingData;
    while (data !== undefined && data.length > 0) {
      const n = Math.min(data.length, s.sendWindow, this.sendWindow, this.peerMaxFrame);
      if (n <= 0) break;
      this.write(frame(DATA, 0, s.id, data.subarray(0, n)));
      s.sendWindow -= n;
      this.sendWindow -= n;
      data = n === data.length ? undefined : data.subarray(n);
    }
    s.pendingData = data;
    if ((data === undefined || data.length === 0) && s.pendingTrailers !== undefined) {
      this.write(headersFrame(s.id, s.pendingTrailers, END_STREAM, this.peerMaxFrame));
      s.pendingData = undefined;
      s.pendingTrailers = undefined;
    }
  }

  /** The stream is answered: it is closed on our side; if the client has not finished, it is told to stop (RFC 9113 §8.1). */
  private finish(s: ServerStream): void {
    if (!s.ended) this.write(rstFrame(s.id, H2_ERROR.NO_ERROR));
    this.close(s);
    this.schedule();
  }

  private close(s: ServerStream): void {
    this.streams.delete(s.id);
    this.blocked.delete(s);
    this.dropped(s);
    this.giveBack(s.size);
  }

  /** Gives `n` octets of the connection window back, announced once a quarter of it is owed. */
  private giveBack(n: number): void {
    this.unannounced += n;
    if (this.unannounced >= CONNECTION_WINDOW / 4) {
      this.write(windowUpdate(0, this.unannounced));
      this.recvWindow += this.unannounced;
      this.unannounced = 0;
    }
  }

  private write(b: Buffer): void {
    this.out.push(b);
    this.schedule();
  }

  /** One socket write for everything an event-loop turn answers: after its callbacks and promise jobs. */
  private schedule(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with its code, then the end of the connection. */
  private error(code: number): void {
    if (this.closed) return;
    this.goAway(code);
    this.flush();
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const buf = this.input === undefined ? chunk : Buffer.concat([this.input, chunk]);
    this.input = undefined;
    let at = 0;
    if (!this.prefaceSeen) {
      const n = Math.min(buf.length, PREFACE.length);
      if (buf.compare(PREFACE, 0, n, 0, n) !== 0) { this.destroy(); return; }
      if (buf.length < PREFACE.length) { this.input = buf; return; }
      this.prefaceSeen = true;
      at = PREFACE.length;
    }
    const rest = readFrames(buf, at, MAX_FRAME, this.onFrame);
    if (rest !== undefined && !Buffer.isBuffer(rest)) { this.error(H2_ERROR.FRAME_SIZE_ERROR); return; }
    if (!this.closed) this.input = rest;
  }

  private readonly onFrame: FrameHandler = (type, flags, id, payload) => this.frame(type, flags, id, payload) && !this.closed;

  /** One frame; false when the connection was ended for it. */
  private frame(type: number, flags: number, id: number, p: Buffer): boolean {
    if (!this.settingsSeen) {
      // RFC 9113 §3.4: the client's preface ends with a SETTINGS frame.
      if (type !== SETTINGS || (flags & ACK) !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
      this.settingsSeen = true;
      clearTimeout(this.prefaceTimer);
    }
    if (this.block !== undefined && type !== CONTINUATION) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
    switch (type) {
      case DATA: return this.data(flags, id, p);
      case HEADERS: return this.headers(flags, id, p);
      case CONTINUATION: return this.continuation(flags, id, p);
      case PRIORITY:
        if (id === 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
        if (p.length !== 5) this.reset(id, H2_ERROR.FRAME_SIZE_ERROR);
        return true;
      case RST_STREAM: {
        if (id === 0 || id > this.lastStreamId) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
        if (p.length !== 4) { this.error(H2_ERROR.FRAME_SIZE_ERROR); return false; }
        const s = this.streams.get(id);
        if (s) {
          // A streamed stream reset after its answer is how a client ends a call it is done with
          // (Envoy's ext_proc without graceful close): no work of the server's was thrown away.
          const spent = s.streamed === undefined || !s.answered;
          this.close(s);
          if (spent && !this.resetAllowed()) { this.error(H2_ERROR.ENHANCE_YOUR_CALM); return false; }
        }
        return true;
      }
      case SETTINGS: return this.settings(flags, id, p);
      case PING:
        if (id !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
        if (p.length !== 8) { this.error(H2_ERROR.FRAME_SIZE_ERROR); return false; }
        if ((flags & ACK) === 0) this.write(frame(PING, ACK, 0, Buffer.from(p)));
        return true;
      case GOAWAY:
        if (id !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
        // The client opens no new stream: the connection ends once the open ones are answered.
        this.goAway();
        return true;
      case WINDOW_UPDATE: return this.windowUpdate(id, p);
      case PUSH_PROMISE: this.error(H2_ERROR.PROTOCOL_ERROR); return false;
      default: return true; // RFC 9113 §4.1: unknown frame types are ignored
    }
  }

  private settings(flags: number, id: number, p: Buffer): boolean {
    if (id !== 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
    if ((flags & ACK) !== 0) {
      if (p.length !== 0) { this.error(H2_ERROR.FRAME_SIZE_ERROR); return false; }
      return true;
    }
    if (p.length % 6 !== 0) { this.error(H2_ERROR.FRAME_SIZE_ERROR); return false; }
    for (let i = 0; i < p.length; i += 6) {
      const key = p.readUInt16BE(i);
      const value = p.readUInt32BE(i + 2);
      if (key === SETTINGS_ENABLE_PUSH && value > 1) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
      if (key === SETTINGS_INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) { this.error(H2_ERROR.FLOW_CONTROL_ERROR); return false; }
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
      if (key === SETTINGS_MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > MAX_MAX_FRAME) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
        this.peerMaxFrame = value;
      }
    }
    this.write(frame(SETTINGS, ACK, 0, EMPTY));
    this.unblock();
    return true;
  }

  private windowUpdate(id: number, p: Buffer): boolean {
    if (p.length !== 4) { this.error(H2_ERROR.FRAME_SIZE_ERROR); return false; }
    const increment = p.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) { this.error(H2_ERROR.FLOW_CONTROL_ERROR); return false; }
    } else {
      const s = this.streams.get(id);
      if (s === undefined) {
        if (id > this.lastStreamId) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
        return true; // a closed stream's late update
      }
      if (increment === 0) { this.reset(id, H2_ERROR.PROTOCOL_ERROR); return true; }
      s.sendWindow += increment;
      if (s.sendWindow > MAX_WINDOW) { this.reset(id, H2_ERROR.FLOW_CONTROL_ERROR); return true; }
    }
    this.unblock();
    return true;
  }

  private unblock(): void {
    for (const s of this.blocked) {
      const closing = s.pendingTrailers !== undefined;
      this.pump(s);
      if (closing && s.pendingTrailers === undefined) this.finish(s);
      else if (!closing && s.pendingData === undefined) this.blocked.delete(s);
      if (this.sendWindow <= 0) break;
    }
  }

  private data(flags: number, id: number, p: Buffer): boolean {
    if (id === 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
    const frameLength = p.length;
    this.recvWindow -= frameLength;
    if (this.recvWindow < 0) { this.error(H2_ERROR.FLOW_CONTROL_ERROR); return false; }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
      // A closed stream (answered or reset: RFC 9113 §5.1 says to ignore it); its data still
      // counted against the connection's window.
      this.giveBack(frameLength);
      return true;
    }
    if (s.ended) {
      this.giveBack(frameLength);
      this.reset(id, H2_ERROR.STREAM_CLOSED);
      return true;
    }
    const body = unpad(flags, p);
    if (body === undefined) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
    s.recvWindow -= frameLength;
    if (s.recvWindow < 0) { this.reset(id, H2_ERROR.FLOW_CONTROL_ERROR); return true; }
    // Padding counts against the windows but holds nothing: the stream gives back only its body.
    this.giveBack(frameLength - body.length);
    if (s.streamed !== undefined) {
      this.streamedData(s, frameLength, body);
    } else if (!s.done) {
      s.size += body.length;
      if (s.size > this.o.maxBodyBytes) {
        s.chunks = [];
        this.o.onTooLarge(s);
      } else if (body.length > 0) {
        s.chunks.push(body);
      }
    } else {
      this.giveBack(body.length);
    }
    if ((flags & END_STREAM) !== 0) this.endOfRequest(s);
    return true;
  }

  /** A streamed stream's DATA: handed over, and its windows given back as it is used. */
  private streamedData(s: ServerStream, frameLength: number, body: Buffer): void {
    this.giveBack(body.length);
    if (s.done) return;
    s.unannounced += frameLength;
    if (s.unannounced >= this.streamWindow / 2) {
      this.write(windowUpdate(s.id, s.unannounced));
      s.recvWindow += s.unannounced;
      s.unannounced = 0;
    }
    if (body.length > 0) {
      s.answered = false;
      s.streamed!.data(body);
    }
  }

  private endOfRequest(s: ServerStream): void {
    s.ended = true;
    if (s.done) return;
    if (s.streamed !== undefined) s.streamed.end();
    else this.o.onRequest(s);
  }

  private headers(flags: number, id: number, p: Buffer): boolean {
    if (id === 0 || id % 2 === 0) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
    let fragment = unpad(flags, p);
    if (fragment === undefined) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
    if ((flags & PRIORITY_FLAG) !== 0) {
      if (fragment.length < 5) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
      fragment = fragment.subarray(5);
    }
    let s = this.streams.get(id);
    if (s === undefined) {
      if (id <= this.lastStreamId) { this.error(H2_ERROR.STREAM_CLOSED); return false; }
      this.lastStreamId = id;
      if (this.goingAway) {
        s = undefined; // decoded below (the table must stay in step), then refused
      } else {
        s = new ServerStream(id, this, this.peerInitialWindow, this.streamWindow);
        this.streams.set(id, s);
      }
    } else if ((flags & END_STREAM) === 0 || s.ended) {
      // A second header block on a stream is the client's trailers, which end it.
      this.error(H2_ERROR.PROTOCOL_ERROR);
      return false;
    }
    const endStream = (flags & END_STREAM) !== 0;
    if ((flags & END_HEADERS) === 0) {
      this.block = { stream: s, id, endStream, parts: [Buffer.from(fragment)], size: fragment.length };
      return true;
    }
    return this.headerBlock(s, id, endStream, fragment);
  }

  private continuation(flags: number, id: number, p: Buffer): boolean {
    const b = this.block;
    if (b === undefined || b.id !== id) { this.error(H2_ERROR.PROTOCOL_ERROR); return false; }
    b.size += p.length;
    if (b.size > MAX_HEADER_BLOCK) { this.error(H2_ERROR.ENHANCE_YOUR_CALM); return false; }
    b.parts.push(Buffer.from(p));
    if ((flags & END_HEADERS) === 0) return true;
    this.block = undefined;
    return this.headerBlock(b.stream, id, b.endStream, Buffer.concat(b.parts, b.size));
  }

  private headerBlock(s: ServerStream | undefined, id: number, endStream: boolean, block: Buffer): boolean {
    const trailers = s !== undefined && s.headersSeen;
    if (s !== undefined) s.headersSeen = true;
    const into: Record<string, string> = trailers || s === undefined ? {} : s.headers;
    let listSize: number;
    let malformed = false;
    let regular = false;
    try {
      listSize = this.decoder.decode(block, (name, value) => {
        // RFC 9113 §8.2 and §8.3: what makes a request malformed.
        if (BAD_VALUE.test(value)) malformed = true;
        if (name.charCodeAt(0) === 0x3a) {
          if (trailers || regular || !REQUEST_PSEUDO.has(name) || into[name] !== undefined) malformed = true;
        } else {
          regular = true;
          if (BAD_NAME.test(name) || CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) malformed = true;
        }
        const had = into[name];
        into[name] = had === undefined ? value : `${had}, ${value}`;
      });
    } catch (e) {
      if (e instanceof CompressionError) { this.error(H2_ERROR.COMPRESSION_ERROR); return false; }
      throw e;
    }
    if (s === undefined) {
      this.write(rstFrame(id, H2_ERROR.REFUSED_STREAM));
      return true;
    }
    if (!trailers && this.streams.size > this.o.maxConcurrentStreams) {
      this.streams.delete(id);
      this.write(rstFrame(id, H2_ERROR.REFUSED_STREAM));
      return true;
    }
    if (!trailers && (into[':method'] === undefined || into[':scheme'] === undefined || into[':path'] === undefined)) malformed = true;
    if (malformed) { this.reset(id, H2_ERROR.PROTOCOL_ERROR); return true; }
    if (!trailers && listSize > this.o.maxHeaderListSize) this.o.onHeadersTooLarge(s);
    if (!trailers && !endStream && !s.done && this.o.open !== undefined) s.streamed = this.o.open(s);
    if (endStream) this.endOfRequest(s);
    return true;
  }

  /** One more reset of an open stream by the client, within nghttp2's defaults (a burst of 1,000, then 33 a second)? */
  private resetAllowed(): boolean {
    const now = Date.now();
    this.resetTokens = Math.min(RESET_BURST, this.resetTokens + ((now - this.resetAt) / 1000) * RESET_RATE);
    this.resetAt = now;
    if (this.resetTokens < 1) return false;
    this.resetTokens -= 1;
    return true;
  }

  private reset(id: number, code: number): void {
    this.write(rstFrame(id, code));
    const s = this.streams.get(id);
    if (s) this.close(s);
  }
}

/** The request's pseudo-headers (RFC 9113 §8.3.1; :protocol is for extended CONNECT only, which this server does not offer). */
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);
/** Connection-specific fields, which HTTP/2 forbids (§8.2.2); `te` only as "trailers". */
const CONNECTION_SPECIFIC = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
/** A field name must be a lowercase token (§8.2.1, RFC 9110 §5.1). */
const BAD_NAME = /[^a-z0-9!#$%&'*+\-.^_`|~]/;
/** A field value must not hold NUL, CR or LF, nor start or end with a space or tab (§8.2.1). */
const BAD_VALUE = /[\0\r\n]|^[ \t]|[ \t]$/;
