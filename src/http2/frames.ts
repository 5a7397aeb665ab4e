/**
 * HTTP/2 frames (RFC 9113 §4, §6): the constants and encoders both sides of a connection use,
 * the server's (server-connection.ts) and the client's (client-connection.ts). Each encoder makes
 * one buffer, header and payload together, so a connection's writes of a turn are one concat.
 */

/** The client's connection preface (§3.4), before its SETTINGS. */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Frame types (§6). */
export const DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4, PUSH_PROMISE = 0x5, PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
/** Frame flags (§6): END_STREAM on DATA and HEADERS, ACK on SETTINGS and PING. */
export const END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;

/** SETTINGS parameters (§6.5.2). */
export const SETTINGS_HEADER_TABLE_SIZE = 0x1, SETTINGS_ENABLE_PUSH = 0x2, SETTINGS_MAX_CONCURRENT_STREAMS = 0x3,
  SETTINGS_INITIAL_WINDOW_SIZE = 0x4, SETTINGS_MAX_FRAME_SIZE = 0x5, SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

/** HTTP/2 error codes (RFC 9113 §7). */
export const H2_ERROR = Object.freeze({
  NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, FLOW_CONTROL_ERROR: 0x3, SETTINGS_TIMEOUT: 0x4, STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6, REFUSED_STREAM: 0x7, CANCEL: 0x8, COMPRESSION_ERROR: 0x9, CONNECT_ERROR: 0xa, ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc, HTTP_1_1_REQUIRED: 0xd,
});

const ERROR_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(H2_ERROR).map(([name, code]) => [code, name]));

/** An error code as a reader wants it: `8 (CANCEL)`, or the bare number for a code RFC 9113 does not define. */
export function describeH2Error(code: number): string {
  const name = ERROR_NAMES.get(code);
  return name === undefined ? String(code) : `${code} (${name})`;
}

/** SETTINGS_MAX_FRAME_SIZE's initial value, and the least a peer may set (§6.5.2). */
export const DEFAULT_MAX_FRAME = 16_384;
/** The largest SETTINGS_MAX_FRAME_SIZE (§6.5.2). */
export const MAX_MAX_FRAME = 0xffffff;
/** The initial window of the connection and of every stream (§6.9.2). */
export const DEFAULT_WINDOW = 65_535;
/** The largest a window may grow (§6.9.1). */
export const MAX_WINDOW = 0x7fffffff;

export const EMPTY = Buffer.alloc(0);

/** Writes a frame's 9-octet header into `b` at `at`; returns where its payload starts. */
export function frameHeader(b: Buffer, at: number, length: number, type: number, flags: number, id: number): number {
  b[at] = length >>> 16;
  b[at + 1] = (length >>> 8) & 0xff;
  b[at + 2] = length & 0xff;
  b[at + 3] = type;
  b[at + 4] = flags;
  b.writeUInt32BE(id, at + 5);
  return at + 9;
}

export function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(9 + payload.length);
  payload.copy(b, frameHeader(b, 0, payload.length, type, flags, id));
  return b;
}

/** A header block as HEADERS, and CONTINUATIONs when it is larger than a frame (§6.10). */
export function headersFrame(id: number, block: Buffer, flags: number, maxFrame: number): Buffer {
  if (block.length <= maxFrame) return frame(HEADERS, flags | END_HEADERS, id, block);
  const parts = [frame(HEADERS, flags, id, block.subarray(0, maxFrame))];
  for (let at = maxFrame; at < block.length; at += maxFrame) {
    const last = at + maxFrame >= block.length;
    parts.push(frame(CONTINUATION, last ? END_HEADERS : 0, id, block.subarray(at, at + maxFrame)));
  }
  return Buffer.concat(parts);
}

/** A SETTINGS frame of `[parameter, value]` pairs. */
export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const payload = Buffer.alloc(6 * settings.length);
  settings.forEach(([id, value], i) => { payload.writeUInt16BE(id, 6 * i); payload.writeUInt32BE(value, 6 * i + 2); });
  return frame(SETTINGS, 0, 0, payload);
}

export function rstFrame(id: number, code: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(code, 0);
  return frame(RST_STREAM, 0, id, p);
}

export function windowUpdate(id: number, increment: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return frame(WINDOW_UPDATE, 0, id, p);
}

export function goAwayFrame(lastId: number, code: number): Buffer {
  const p = Buffer.allocUnsafe(8);
  p.writeUInt32BE(lastId, 0);
  p.writeUInt32BE(code, 4);
  return frame(GOAWAY, 0, 0, p);
}

/** A DATA or HEADERS payload without its padding (§6.1, §6.2), or undefined when the pad length is too long. */
export function unpad(flags: number, p: Buffer): Buffer | undefined {
  if ((flags & PADDED) === 0) return p;
  if (p.length < 1) return undefined;
  const pad = p[0]!;
  if (pad > p.length - 1) return undefined;
  return p.subarray(1, p.length - pad);
}

/** One frame read in place: its payload is a view of the socket's data. False ends the reading. */
export type FrameHandler = (type: number, flags: number, id: number, payload: Buffer) => boolean;

/**
 * The whole frames of `buf` from `at` on, each handed to `onFrame` in order (§4.1: a 9-octet
 * header, then its payload), until one is not whole or `onFrame` answers false. Returns what is
 * left to read with the next data: undefined when every octet was read or the reading was ended,
 * `{ tooLarge }` with its length when a frame says it is longer than `maxFrame` (a
 * FRAME_SIZE_ERROR, §4.2).
 */
export function readFrames(buf: Buffer, at: number, maxFrame: number, onFrame: FrameHandler): Buffer | { tooLarge: number } | undefined {
  while (buf.length - at >= 9) {
    const length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
    if (length > maxFrame) return { tooLarge: length };
    if (buf.length - at < 9 + length) break;
    const type = buf[at + 3]!;
    const flags = buf[at + 4]!;
    const id = buf.readUInt32BE(at + 5) & 0x7fffffff;
    const payload = buf.subarray(at + 9, at + 9 + length);
    at += 9 + length;
    if (!onFrame(type, flags, id, payload)) return undefined;
  }
  return at < buf.length ? (at === 0 ? buf : buf.subarray(at)) : undefined;
}
