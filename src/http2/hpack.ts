import { HuffmanError, huffmanDecode } from './huffman.js';

/**
 * HPACK (RFC 7541): a decoder for the header blocks the peer sends, and the few encodings this
 * side writes. The decoder keeps the connection's dynamic table, so every header block of a
 * connection must go through it in order, whatever becomes of its stream.
 *
 * Our own blocks use no dynamic table and no Huffman coding (literals "without indexing", raw
 * strings, which §5.2 and §6.2.2 allow any encoder): the server's answers are a handful of
 * constant headers built once, the client's requests (client-connection.ts) one block per call.
 */

/** RFC 7541 Appendix A. Index 1 is STATIC[0]. */
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** A header block this decoder cannot decode: HTTP/2's COMPRESSION_ERROR (the connection is lost). */
export class CompressionError extends Error {}

/** RFC 7541 §4.1: an entry's size is its name's and value's octets plus 32. */
const ENTRY_OVERHEAD = 32;

export class HpackDecoder {
  /** The dynamic table, oldest first (index 62 is the last entry). */
  private names: string[] = [];
  private values: string[] = [];
  private size = 0;
  private limit: number;

  /** `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE this side advertised (default 4,096). */
  constructor(private readonly maxTableSize = 4096) {
    this.limit = maxTableSize;
  }

  /**
   * Decodes one complete header block (a HEADERS frame's fragment and its CONTINUATIONs),
   * calling `onHeader` for each field in order. Returns the header list's size as RFC 7540
   * §6.5.2 counts it (octets plus 32 per field), for the caller's SETTINGS_MAX_HEADER_LIST_SIZE.
   * Throws CompressionError on anything malformed.
   */
  decode(block: Buffer, onHeader: (name: string, value: string) => void): number {
    let at = 0;
    let listSize = 0;
    let fields = 0;
    const end = block.length;
    const int = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let value = block[at++]! & mask;
      if (value < mask) return value;
      let shift = 0;
      for (;;) {
        if (at >= end) throw new CompressionError('a header block ends inside an integer');
        const b = block[at++]!;
        value += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (value > 0x7fffffff) throw new CompressionError('an integer in a header block is too large');
        if ((b & 0x80) === 0) return value;
      }
    };
    const str = (): string => {
      if (at >= end) throw new CompressionError('a header block ends before a string');
      const huffman = (block[at]! & 0x80) !== 0;
      const length = int(7);
      if (length > end - at) throw new CompressionError('a string runs past its header block');
      const from = at;
      at += length;
      if (!huffman) return latin1(block, from, at);
      try {
        return huffmanDecode(block, from, at);
      } catch (e) {
        throw new CompressionError((e as HuffmanError).message);
      }
    };
    while (at < end) {
      const b = block[at]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // §6.1 Indexed Header Field
        [name, value] = this.entry(int(7));
      } else if (b & 0x40) {
        // §6.2.1 Literal Header Field with Incremental Indexing
        const index = int(6);
        name = index === 0 ? str() : this.entry(index)[0];
        value = str();
        this.add(name, value);
      } else if (b & 0x20) {
        // §6.3 Dynamic Table Size Update: only before the block's first field (§4.2)
        if (fields > 0) throw new CompressionError('a dynamic table size update after a header field');
        const size = int(5);
        if (size > this.maxTableSize) throw new CompressionError(`a dynamic table size of ${size} over the ${this.maxTableSize} allowed`);
        this.limit = size;
        this.evict(0);
        continue;
      } else {
        // §6.2.2 without indexing (0000), §6.2.3 never indexed (0001)
        const index = int(4);
        name = index === 0 ? str() : this.entry(index)[0];
        value = str();
      }
      fields++;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      onHeader(name, value);
    }
    return listSize;
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new CompressionError('header index 0');
    if (index <= STATIC.length) return STATIC[index - 1]!;
    const i = this.names.length - 1 - (index - STATIC.length - 1);
    if (i < 0) throw new CompressionError(`header index ${index} is past the dynamic table`);
    return [this.names[i]!, this.values[i]!];
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // §4.4: an entry larger than the table empties it and is not added.
    if (size > this.limit) {
      this.names = [];
      this.values = [];
      this.size = 0;
      return;
    }
    this.evict(size);
    this.names.push(name);
    this.values.push(value);
    this.size += size;
  }

  /** Evicts the oldest entries until `room` more octets fit within the limit. */
  private evict(room: number): void {
    let drop = 0;
    while (this.size + room > this.limit && drop < this.names.length) {
      this.size -= this.names[drop]!.length + this.values[drop]!.length + ENTRY_OVERHEAD;
      drop++;
    }
    if (drop > 0) {
      this.names.splice(0, drop);
      this.values.splice(0, drop);
    }
  }
}

function latin1(b: Buffer, from: number, to: number): string {
  return b.toString('latin1', from, to);
}

/** An HPACK integer with an `prefixBits`-bit prefix, its first octet or-ed with `flags` (§5.1). */
function integer(value: number, prefixBits: number, flags: number): number[] {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return [flags | value];
  const out = [flags | mask];
  value -= mask;
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

/** A raw (not Huffman-coded) string literal. */
function rawString(s: string): number[] {
  const bytes = Buffer.from(s, 'latin1');
  return [...integer(bytes.length, 7, 0), ...bytes];
}

/**
 * A header block of literals without indexing (§6.2.2), their names by static index where the
 * static table has them: changes no table, so it can be sent on any stream of any connection.
 */
export function encodeHeaders(headers: readonly (readonly [string, string])[]): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    const exact = STATIC.findIndex(([n, v]) => n === name && v === value);
    if (exact >= 0) {
      out.push(...integer(exact + 1, 7, 0x80));
      continue;
    }
    const named = STATIC.findIndex(([n]) => n === name);
    if (named >= 0) out.push(...integer(named + 1, 4, 0));
    else out.push(0, ...rawString(name));
    out.push(...rawString(value));
  }
  return Buffer.from(out);
}

/**
 * A dynamic table size update (§6.3) to `size`, to begin a header block with: what an encoder
 * must send first after the peer lowers SETTINGS_HEADER_TABLE_SIZE below the size it used
 * (§4.2). This encoder keeps no table, so it only ever needs 0.
 */
export function tableSizeUpdate(size: number): Buffer {
  return Buffer.from(integer(size, 5, 0x20));
}
