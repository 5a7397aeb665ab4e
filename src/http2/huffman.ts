/**
 * HPACK's Huffman code (RFC 7541 §5.2, Appendix B), decoding only: both sides write their own
 * header strings as raw octets, and read whatever the peer encodes (the server's clients:
 * Envoy's nghttp2 or oghttp2, grpc-go, nghttp2; the client's server: grpc-js on node:http2).
 *
 * The code is canonical: within each code length the symbols take consecutive codes in symbol
 * order, and each length's first code follows the last of the length before. So the 257 code
 * lengths of Appendix B (the 256 octets, then EOS) define it whole, and the codes are derived
 * from them here (test/unit/hpack.test.ts decodes the RFC's Appendix C examples with them).
 */

/** Appendix B's code length of each symbol, 0–255 then EOS (256). */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;

/**
 * The decoding tree: node n's children are TREE[2n] (bit 0) and TREE[2n + 1] (bit 1); a child
 * is another node's number (> 0), a symbol as -(symbol + 1), or 0 where no code leads.
 */
const TREE: Int32Array = (() => {
  const order = CODE_LENGTHS.map((_, s) => s).sort((a, b) => CODE_LENGTHS[a]! - CODE_LENGTHS[b]! || a - b);
  const tree = new Int32Array(2 * 512);
  let nodes = 1;
  let code = 0;
  let length = CODE_LENGTHS[order[0]!]!;
  for (let i = 0; i < order.length; i++) {
    const symbol = order[i]!;
    const len = CODE_LENGTHS[symbol]!;
    if (i > 0) code = (code + 1) * 2 ** (len - length);
    length = len;
    let node = 0;
    for (let b = len - 1; b > 0; b--) {
      const slot = 2 * node + (Math.floor(code / 2 ** b) & 1);
      if (tree[slot] === 0) tree[slot] = nodes++;
      node = tree[slot]!;
    }
    tree[2 * node + (code & 1)] = -(symbol + 1);
  }
  return tree;
})();

/** A Huffman-coded string that RFC 7541 §5.2 says must be treated as a decoding error. */
export class HuffmanError extends Error {}

/**
 * Decodes `input[start, end)` to a string of octets (latin1: one character per octet, as header
 * values are octets). Padding must be at most 7 bits of EOS's leading ones; EOS itself is an
 * error.
 */
export function huffmanDecode(input: Uint8Array, start: number, end: number): string {
  let out = '';
  let node = 0;
  let padBits = 0;
  let padOnes = true;
  for (let i = start; i < end; i++) {
    const byte = input[i]!;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = TREE[2 * node + bit]!;
      if (next > 0) {
        node = next;
        padBits++;
        padOnes &&= bit === 1;
      } else if (next < 0) {
        const symbol = -next - 1;
        if (symbol === EOS) throw new HuffmanError('EOS in a Huffman-coded string');
        out += String.fromCharCode(symbol);
        node = 0;
        padBits = 0;
        padOnes = true;
      } else {
        throw new HuffmanError('no Huffman code for these bits');
      }
    }
  }
  if (node !== 0 && (padBits > 7 || !padOnes)) throw new HuffmanError('a Huffman-coded string ends in bad padding');
  return out;
}
