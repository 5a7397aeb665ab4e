/**
 * The protobuf wire format by hand, for the few messages read or written on a hot path (the
 * rate-limit requests, the access-log entries, the ADS responses of the companions) where a
 * full protobufjs decode to objects costs more than the fields read. Pure: no I/O.
 */

/** A malformed message: truncated, a length past its end, a varint too long, a group. */
export class WireError extends Error {}

/** A cursor over one message's bytes, from `pos` up to `end` (a nested message narrows `end`). */
export class WireReader {
  constructor(readonly buf: Buffer, public pos: number, public end: number) {}

  /** A reader over `bytes` (a Buffer view of them, no copy). */
  static of(bytes: Uint8Array): WireReader {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new WireReader(buf, 0, buf.length);
  }

  get more(): boolean {
    return this.pos < this.end;
  }

  /** A varint as a number: exact below 2^53 (counts, sizes, seconds); higher bits of a 64-bit value are dropped. */
  varint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++]!;
      if (mul < 2 ** 53) n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
    throw new WireError('varint too long');
  }

  /** The end offset of the length-delimited field starting here (its length read). */
  delimited(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new WireError('truncated field: its length is past the end of the message');
    return end;
  }

  string(): string {
    const end = this.delimited();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  /** The bytes of a length-delimited field (a view, no copy). */
  bytes(): Uint8Array {
    const end = this.delimited();
    const b = this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  /** A reader over the next length-delimited field; this one moves past it. */
  message(): WireReader {
    const end = this.delimited();
    const r = new WireReader(this.buf, this.pos, end);
    this.pos = end;
    return r;
  }

  /** Skips a field's value of this wire type (groups, 3 and 4, are refused). */
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.advance(8);
    else if (wireType === 2) this.pos = this.delimited();
    else if (wireType === 5) this.advance(4);
    else throw new WireError(`unsupported wire type ${wireType}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new WireError('truncated field');
    this.pos += n;
  }
}

/** The bytes a varint of `n` (a whole number below 2^53) takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); size++; }
  return size;
}

/** Writes `n` as a varint at `at`; returns the offset after it. */
export function putVarint(buf: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** `n` as a varint in a Buffer of its own. */
export function varintBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(varintSize(n));
  putVarint(out, 0, n);
  return out;
}
