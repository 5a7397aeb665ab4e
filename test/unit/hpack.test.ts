/**
 * HPACK (src/http2/hpack.ts, huffman.ts) against RFC 7541 Appendix C: each example's header
 * blocks decoded in order through one decoder (the dynamic table carried from block to block,
 * with the RFC's table size), with and without Huffman coding; and the errors §5.2 and §4.2 name.
 * The encoder (literals without indexing, raw strings) against the RFC's octets for the same forms.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompressionError, encodeHeaders, HpackDecoder, tableSizeUpdate } from '../../src/http2/hpack.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decodeAll(tableSize: number, blocks: string[]): Array<Array<[string, string]>> {
  const d = new HpackDecoder(tableSize);
  return blocks.map((b) => {
    const out: Array<[string, string]> = [];
    d.decode(hex(b), (n, v) => out.push([n, v]));
    return out;
  });
}

const REQUESTS: Array<Array<[string, string]>> = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
];

const RESPONSES: Array<Array<[string, string]>> = [
  [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']],
  [[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']],
  [[':status', '200'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'], ['location', 'https://www.example.com'],
    ['content-encoding', 'gzip'], ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1']],
];

test('C.2: a literal with indexing, without, never indexed, and an indexed field', () => {
  assert.deepEqual(decodeAll(4096, ['400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572']), [[['custom-key', 'custom-header']]]);
  assert.deepEqual(decodeAll(4096, ['040c 2f73 616d 706c 652f 7061 7468']), [[[':path', '/sample/path']]]);
  assert.deepEqual(decodeAll(4096, ['1008 7061 7373 776f 7264 0673 6563 7265 74']), [[['password', 'secret']]]);
  assert.deepEqual(decodeAll(4096, ['82']), [[[':method', 'GET']]]);
});

test('C.3: three requests without Huffman coding share the dynamic table', () => {
  assert.deepEqual(decodeAll(4096, [
    '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '8286 84be 5808 6e6f 2d63 6163 6865',
    '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
  ]), REQUESTS);
});

test('C.4: the same requests with Huffman coding', () => {
  assert.deepEqual(decodeAll(4096, [
    '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
    '8286 84be 5886 a8eb 1064 9cbf',
    '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
  ]), REQUESTS);
});

test('C.5: three responses in a 256-octet table, entries evicted oldest first', () => {
  assert.deepEqual(decodeAll(256, [
    '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '4803 3330 37c1 c0bf',
    '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
  ]), RESPONSES);
});

test('C.6: the same responses with Huffman coding', () => {
  assert.deepEqual(decodeAll(256, [
    '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
    '4883 640e ffc1 c0bf',
    '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ]), RESPONSES);
});

test('the errors RFC 7541 names are CompressionErrors', () => {
  const fails = (block: string, size = 4096) => assert.throws(() => new HpackDecoder(size).decode(hex(block), () => undefined), CompressionError, block);
  fails('80'); // index 0 (§6.1)
  fails('be'); // index 62 with an empty dynamic table
  fails('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4'); // a string longer than its block
  fails('0081 ff 0161'); // padding of 8 bits (§5.2: more than 7 is an error)
  fails('0081 00 0161'); // padding "0" bits: not EOS's leading ones
  fails('0084 ffff ffff 0161'); // EOS itself in a string
  fails('3fe2 1f', 4096); // a table size update to 4,097, over the advertised 4,096 (§6.3)
  fails('82 3fe1 1f', 8192); // a size update after a field (§4.2; nghttp2 refuses it too)
});

test('a table size update at the start of a block empties the table and is obeyed', () => {
  const d = new HpackDecoder(4096);
  d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'), () => undefined);
  // size 0 evicts everything, so index 62 is gone
  assert.throws(() => d.decode(hex('20 be'), () => undefined), CompressionError);
});

test('the server\'s own blocks decode to what was encoded, names from the static table', () => {
  const headers: Array<[string, string]> = [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '14'], ['grpc-message', 'redis: timeout (50%25)']];
  const block = encodeHeaders(headers);
  assert.equal(block[0], 0x88, ':status 200 is static entry 8');
  const out: Array<[string, string]> = [];
  new HpackDecoder().decode(block, (n, v) => out.push([n, v]));
  assert.deepEqual(out, headers);
});

test('the encoder writes C.2.2\'s literal without indexing, a new name as §6.2.2 draws it, and C.1\'s integers', () => {
  // C.2.2: ":path: /sample/path", name by static index 4, value raw.
  assert.deepEqual(encodeHeaders([[':path', '/sample/path']]), hex('040c 2f73 616d 706c 652f 7061 7468'));
  // §6.2.2 figure 11: 0000 0000, then the name and the value as raw string literals (H = 0).
  assert.deepEqual(encodeHeaders([['custom-key', 'custom-header']]), hex('000a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
  // C.2.4: an exact static entry is one indexed octet.
  assert.deepEqual(encodeHeaders([[':method', 'GET']]), hex('82'));
  // C.1.2: 1337 on a 5-bit prefix is 1f 9a 0a; a table size update is that prefix under 001 (§6.3).
  assert.deepEqual(tableSizeUpdate(1337), hex('3f 9a 0a'));
  assert.deepEqual(tableSizeUpdate(0), hex('20'));
  // A string of 127 octets or more takes a multi-octet length (§5.1, 7-bit prefix): 0x7f then 200 - 127 = 73.
  const long = 'x'.repeat(200);
  const block = encodeHeaders([['grpc-message', long]]);
  assert.deepEqual(block.subarray(0, 2 + 'grpc-message'.length + 2), Buffer.concat([hex('000c'), Buffer.from('grpc-message'), hex('7f49')]));
  const out: Array<[string, string]> = [];
  new HpackDecoder().decode(Buffer.concat([tableSizeUpdate(0), block]), (n, v) => out.push([n, v]));
  assert.deepEqual(out, [['grpc-message', long]]);
});
