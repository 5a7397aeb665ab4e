import { ENTRY } from '../contracts/ratelimit.js';
import type { Entries, LimitAnswer, LimitRequest } from './limiter.js';
import { putVarint, varintSize, WireReader as Reader } from '../proto-wire.js';

/**
 * The two messages of envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit, read and
 * written by hand on the wire format (protobuf encoding: varints and length-delimited fields):
 * this runs once per request Envoy makes, and a general decoder builds and then drops an object
 * tree per call. Only what the service uses is read; every other field is skipped by its wire
 * type, as any protobuf reader does.
 *
 * RateLimitRequest (rls.proto):       domain = 1 (string), descriptors = 2 (RateLimitDescriptor),
 *                                     hits_addend = 3 (uint32)
 * RateLimitDescriptor (ratelimit/v3): entries = 1 (Entry: key = 1, value = 2)
 * RateLimitResponse:                  overall_code = 1 (enum), statuses = 2 (DescriptorStatus:
 *                                     code = 1), response_headers_to_add = 3 (HeaderValue:
 *                                     key = 1, value = 2), raw_body = 5 (bytes)
 */

const CODE_OK = 1;
const CODE_OVER_LIMIT = 2;

/** A malformed message (the server answers INVALID_ARGUMENT with the message). */
export { WireError } from '../proto-wire.js';

/** RateLimitRequest bytes → the service's request; throws WireError on a malformed message. */
export function decodeRateLimitRequest(bytes: Uint8Array): LimitRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, 0, buf.length);
  let domain = '';
  let hitsAddend = 0;
  const descriptors: Entries[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === 2) domain = r.string();
    else if (field === 2 && wire === 2) { const end = r.delimited(); descriptors.push(readDescriptor(r, end)); }
    else if (field === 3 && wire === 0) hitsAddend = r.varint() % 2 ** 32;
    else r.skip(wire);
  }
  return { domain, descriptors, hitsAddend };
}

/**
 * The entry keys Envoy sends on every request (contracts/ratelimit.ts ENTRY), as bytes: a key
 * read from the wire that is one of them is this string, not a new one per request.
 */
const KNOWN_KEYS: ReadonlyArray<{ text: string; bytes: Buffer }> = Object.values(ENTRY).map((text) => ({ text, bytes: Buffer.from(text) }));

function readKey(r: Reader): string {
  const end = r.delimited();
  const len = end - r.pos;
  const buf = r.buf;
  for (const k of KNOWN_KEYS) {
    const b = k.bytes;
    if (b.length !== len) continue;
    let i = 0;
    while (i < len && buf[r.pos + i] === b[i]) i++;
    if (i === len) { r.pos = end; return k.text; }
  }
  const s = buf.toString('utf8', r.pos, end);
  r.pos = end;
  return s;
}

/** One RateLimitDescriptor's entries, read by the request's reader narrowed to the descriptor (no reader per message). */
function readDescriptor(r: Reader, end: number): Entries {
  const entries: Record<string, string> = {};
  const outerEnd = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag !== 0x0a) { r.skip(tag & 7); continue; } // only entries = 1 is read
    const entryEnd = r.delimited();
    r.end = entryEnd;
    let key = '';
    let value = '';
    while (r.pos < entryEnd) {
      const t = r.varint();
      if (t === 0x0a) key = readKey(r);
      else if (t === 0x12) value = r.string();
      else r.skip(t & 7);
    }
    r.pos = entryEnd;
    r.end = end;
    if (key) entries[key] = value;
  }
  r.pos = end;
  r.end = outerEnd;
  return entries;
}

// ---- encoding -------------------------------------------------------------------------------

/** The answer with one status per descriptor and no header or body: the same bytes every time. */
const PLAIN_OK = new Map<number, Buffer>();

/** The service's answer → RateLimitResponse bytes. */
export function encodeRateLimitResponse(a: Extract<LimitAnswer, { kind: 'answer' }>): Buffer {
  const headers = a.responseHeaders;
  if (!a.overLimit && headers.length === 0 && a.body === undefined && !a.statuses.some(Boolean)) {
    let cached = PLAIN_OK.get(a.statuses.length);
    if (!cached) {
      cached = encode(a);
      if (a.statuses.length <= 16) PLAIN_OK.set(a.statuses.length, cached);
    }
    return cached;
  }
  return encode(a);
}

/** Each header's key, value and entry length, for the encode in progress (one array for every call, grown when needed). */
let lengths = new Uint32Array(3 * 16);

function encode(a: Extract<LimitAnswer, { kind: 'answer' }>): Buffer {
  const headers = a.responseHeaders;
  // Sizes first, then one buffer.
  if (lengths.length < 3 * headers.length) lengths = new Uint32Array(3 * headers.length);
  const lens = lengths;
  let size = 2; // overall_code: tag + one-byte value
  size += a.statuses.length * 4; // statuses: tag, length 2, code tag, code
  for (let i = 0; i < headers.length; i++) {
    const [k, v] = headers[i]!;
    const kl = Buffer.byteLength(k);
    const vl = Buffer.byteLength(v);
    const hl = 1 + varintSize(kl) + kl + 1 + varintSize(vl) + vl;
    lens[3 * i] = kl;
    lens[3 * i + 1] = vl;
    lens[3 * i + 2] = hl;
    size += 1 + varintSize(hl) + hl;
  }
  const body = a.body === undefined ? undefined : Buffer.from(a.body);
  if (body) size += 1 + varintSize(body.length) + body.length;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  buf[at++] = 0x08;
  buf[at++] = a.overLimit ? CODE_OVER_LIMIT : CODE_OK;
  for (const over of a.statuses) {
    buf[at++] = 0x12;
    buf[at++] = 2;
    buf[at++] = 0x08;
    buf[at++] = over ? CODE_OVER_LIMIT : CODE_OK;
  }
  for (let i = 0; i < headers.length; i++) {
    const [k, v] = headers[i]!;
    buf[at++] = 0x1a;
    at = putVarint(buf, at, lens[3 * i + 2]!);
    buf[at++] = 0x0a;
    at = putVarint(buf, at, lens[3 * i]!);
    at += buf.write(k, at, 'utf8');
    buf[at++] = 0x12;
    at = putVarint(buf, at, lens[3 * i + 1]!);
    at += buf.write(v, at, 'utf8');
  }
  if (body) {
    buf[at++] = 0x2a;
    at = putVarint(buf, at, body.length);
    body.copy(buf, at);
    at += body.length;
  }
  return buf;
}
