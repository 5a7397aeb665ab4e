/**
 * HTTP/2 frames built by hand for the raw-frame tests (RFC 9113 §4.1, RFC 7541 §6.2.2), written
 * from the RFCs and not from src/http2/, so that the code under test is checked against them.
 */

/** The client connection preface (§3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A frame: the 9-octet header (length, type, flags, stream id), then its payload. */
export function rawFrame(type: number, flags: number, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return Buffer.concat([h, payload]);
}

/** A header field as RFC 7541 §6.2.2 draws a literal without indexing, new name, raw strings (lengths under 127). */
export const literal = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
