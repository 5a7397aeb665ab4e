/**
 * The HTTP/2 under the companions' unary gRPC server (src/http2/server-connection.ts through
 * src/grpc-raw.ts serveUnary), driven by node:http2's client (nghttp2: another implementation
 * of the same RFC) and by raw frames for what a client library will not send. Expected
 * behaviour is RFC 9113's: flow control both ways, padding, CONTINUATION, PING, GOAWAY, and
 * the connection and stream errors it names.
 */
import assert from 'node:assert/strict';
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { serveGrpc, serveUnary, type UnaryServer } from '../../src/grpc-raw.js';
import { H2_ERROR } from '../../src/http2/server-connection.js';
import { literal, PREFACE, rawFrame } from '../support/h2-frames.js';

let server: UnaryServer;

before(async () => {
  server = await serveUnary('127.0.0.1', 0, {
    '/t.T/Echo': async (req) => Buffer.from(req),
    '/t.T/Meta': async (_req, headers) => Buffer.from(String(headers?.['x-meta'] ?? '')),
    '/t.T/Held': () => new Promise(() => undefined), // never answers: its streams stay open
  }, 256 * 1024);
});
after(() => server.stop());

const framed = (msg: Buffer) => {
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt32BE(msg.length, 1);
  msg.copy(b, 5);
  return b;
};

function call(session: ClientHttp2Session, path: string, msg: Buffer, extra: Record<string, string> = {}): Promise<{ body: Buffer; status?: string; message?: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra });
    const chunks: Buffer[] = [];
    let trailers: Record<string, unknown> = {};
    req.on('response', (h) => { if (h['grpc-status'] !== undefined) trailers = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const all = Buffer.concat(chunks);
      resolve({ body: all.length >= 5 ? all.subarray(5) : all, status: trailers['grpc-status'] as string | undefined, message: trailers['grpc-message'] as string | undefined });
    });
    req.on('error', reject);
    req.end(framed(msg));
  });
}

const session = (settings: Record<string, number> = {}, options: Record<string, unknown> = {}) => h2connect(`http://127.0.0.1:${server.port}`, { settings, ...options });

test('a thousand concurrent calls on one connection are each answered with their own message', async () => {
  const s = session();
  try {
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => call(s, '/t.T/Echo', Buffer.from(`message ${i}`))));
    answers.forEach((a, i) => { assert.equal(a.status, '0'); assert.equal(a.body.toString(), `message ${i}`); });
  } finally {
    s.close();
  }
});

test('an answer larger than the client\'s window waits for its WINDOW_UPDATEs and arrives whole', async () => {
  const s = session({ initialWindowSize: 100 });
  try {
    const msg = Buffer.alloc(200_000, 7);
    for (let i = 0; i < msg.length; i += 997) msg[i] = i % 256;
    const a = await call(s, '/t.T/Echo', msg);
    assert.equal(a.status, '0');
    assert.ok(a.body.equals(msg));
  } finally {
    s.close();
  }
});

test('requests beyond the 16 MiB connection window are served: the window is given back as calls end', async () => {
  const s = session();
  try {
    const msg = Buffer.alloc(200 * 1024, 1);
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => call(s, '/t.T/Echo', msg)));
      for (const a of answers) assert.equal(a.body.length, msg.length);
    }
  } finally {
    s.close();
  }
});

test('padded frames and header blocks split over CONTINUATION frames are read', async () => {
  const s = session({}, { paddingStrategy: constants.PADDING_STRATEGY_MAX });
  try {
    assert.equal((await call(s, '/t.T/Echo', Buffer.from('padded'))).body.toString(), 'padded');
    const big = 'v'.repeat(40_000); // over one 16 KiB frame: HEADERS then CONTINUATIONs
    assert.equal((await call(s, '/t.T/Meta', Buffer.alloc(0), { 'x-meta': big })).body.toString(), big);
  } finally {
    s.close();
  }
});

test('a request over the size limit is RESOURCE_EXHAUSTED and the connection goes on', async () => {
  const s = session();
  try {
    const a = await call(s, '/t.T/Echo', Buffer.alloc(256 * 1024 + 1));
    assert.equal(a.status, String(8));
    assert.equal((await call(s, '/t.T/Echo', Buffer.from('ok'))).body.toString(), 'ok');
  } finally {
    s.close();
  }
});

test('PING is answered with its payload', async () => {
  const s = session();
  try {
    await new Promise((resolve) => s.once('connect', resolve)); // node:http2 cancels a ping sent before
    const payload = Buffer.from('12345678');
    const echoed = await new Promise<Buffer>((resolve, reject) => s.ping(payload, (err, _ms, p) => (err ? reject(err) : resolve(p))));
    assert.ok(echoed.equals(payload));
  } finally {
    s.close();
  }
});

// ---- raw frames ------------------------------------------------------------------------------


/** Opens a raw connection, sends the preface, an empty SETTINGS and `frames`, and collects the frames the server sends until it closes or `until` holds. */
function raw(frames: Buffer[], until: (got: Array<{ type: number; flags: number; id: number; payload: Buffer }>) => boolean, port = server.port): Promise<{ frames: Array<{ type: number; flags: number; id: number; payload: Buffer }>; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const got: Array<{ type: number; flags: number; id: number; payload: Buffer }> = [];
    let buf = Buffer.alloc(0);
    const sock: Socket = connect(port, '127.0.0.1', () => sock.write(Buffer.concat([PREFACE, rawFrame(4, 0, 0), ...frames])));
    // A server that never answers fails the test by the test's own timeout (RAW_TIMEOUT).
    const done = (closed: boolean) => { sock.destroy(); resolve({ frames: got, closed }); };
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const n = buf.readUIntBE(0, 3);
        got.push({ type: buf[3]!, flags: buf[4]!, id: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + n) });
        buf = buf.subarray(9 + n);
      }
      if (until(got)) done(false);
    });
    sock.on('close', () => done(true));
    sock.on('error', () => undefined); // 'close' follows
  });
}
/** The tests on raw frames: a server that does not answer is a failure within this, not the suite's 2 minutes. */
const RAW_TIMEOUT = { timeout: 10_000 };
const goAwayCode = (f: { payload: Buffer }) => f.payload.readUInt32BE(4);

test('a connection error is a GOAWAY with RFC 9113\'s code, then the end of the connection', RAW_TIMEOUT, async () => {
  const cases: Array<[string, Buffer, number]> = [
    ['DATA on stream 0', rawFrame(0, 0, 0, Buffer.from('x')), H2_ERROR.PROTOCOL_ERROR],
    ['a PING of 7 octets', rawFrame(6, 0, 0, Buffer.alloc(7)), H2_ERROR.FRAME_SIZE_ERROR],
    ['a frame over 16 KiB', rawFrame(0, 0, 1, Buffer.alloc(16_385)), H2_ERROR.FRAME_SIZE_ERROR],
    ['a header block HPACK cannot decode', rawFrame(1, 0x5, 1, Buffer.from([0x80])), H2_ERROR.COMPRESSION_ERROR],
    ['HEADERS on an even (server) stream', rawFrame(1, 0x5, 2, Buffer.from([0x83])), H2_ERROR.PROTOCOL_ERROR],
    ['a frame between HEADERS and its CONTINUATION', Buffer.concat([rawFrame(1, 0x1, 1, Buffer.from([0x83])), rawFrame(6, 0, 0, Buffer.alloc(8))]), H2_ERROR.PROTOCOL_ERROR],
    ['WINDOW_UPDATE of 0 on the connection', rawFrame(8, 0, 0, Buffer.alloc(4)), H2_ERROR.PROTOCOL_ERROR],
    ['PUSH_PROMISE from a client', rawFrame(5, 0x4, 1, Buffer.alloc(4)), H2_ERROR.PROTOCOL_ERROR],
  ];
  for (const [what, frames, code] of cases) {
    const r = await raw([frames], () => false);
    const goAway = r.frames.find((f) => f.type === 7);
    assert.ok(goAway, `${what}: a GOAWAY`);
    assert.equal(goAwayCode(goAway), code, what);
    assert.ok(r.closed, `${what}: the connection is closed`);
  }
});

test('a client whose first frame is not SETTINGS, or whose preface is wrong, is cut off', async () => {
  const wrongPreface = await new Promise<boolean>((resolve) => {
    const sock = connect(server.port, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.resume();
    sock.on('close', () => resolve(true));
    sock.on('error', () => undefined);
  });
  assert.ok(wrongPreface);
  const r = await new Promise<{ codes: number[] }>((resolve) => {
    const codes: number[] = [];
    const sock = connect(server.port, '127.0.0.1', () => sock.write(Buffer.concat([PREFACE, rawFrame(6, 0, 0, Buffer.alloc(8))])));
    let buf = Buffer.alloc(0);
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const n = buf.readUIntBE(0, 3);
        if (buf[3] === 7) codes.push(buf.readUInt32BE(9 + 4));
        buf = buf.subarray(9 + n);
      }
    });
    sock.on('close', () => resolve({ codes }));
    sock.on('error', () => undefined);
  });
  assert.deepEqual(r.codes, [H2_ERROR.PROTOCOL_ERROR]);
});

test('the server\'s SETTINGS are acknowledged by it too, and a client\'s PING gets an ACK on the raw wire', RAW_TIMEOUT, async () => {
  const r = await raw([rawFrame(6, 0, 0, Buffer.from('abcdefgh'))], (got) => got.some((f) => f.type === 6));
  const settings = r.frames.filter((f) => f.type === 4);
  assert.ok(settings.some((f) => (f.flags & 1) === 0), 'the server\'s own SETTINGS');
  assert.ok(settings.some((f) => (f.flags & 1) === 1 && f.payload.length === 0), 'an ACK of the client\'s');
  const ping = r.frames.find((f) => f.type === 6)!;
  assert.equal(ping.flags & 1, 1);
  assert.equal(ping.payload.toString(), 'abcdefgh');
});

test('stop() sends GOAWAY; a call in flight is still answered, then the connection ends', async () => {
  let begun!: () => void;
  const held = new Promise<void>((resolve) => { begun = resolve; });
  let answer!: () => void;
  const own = await serveUnary('127.0.0.1', 0, { '/t.T/Held': () => new Promise((resolve) => { answer = () => resolve(Buffer.from('late')); begun(); }) });
  const s = h2connect(`http://127.0.0.1:${own.port}`);
  const goaway = new Promise<void>((resolve) => s.once('goaway', () => resolve()));
  const pending = call(s, '/t.T/Held', Buffer.from('x'));
  await held; // the call is in the handler
  const stopped = own.stop(5000);
  await goaway;
  answer();
  const a = await pending;
  assert.equal(a.body.toString(), 'late');
  await stopped;
  s.destroy();
});

test('a malformed request (RFC 9113 §8.2, §8.3) is a stream error: RST_STREAM PROTOCOL_ERROR, the connection goes on', RAW_TIMEOUT, async () => {
  const base = Buffer.from([0x83, 0x86, 0x84]); // :method POST, :scheme http, :path /
  const blocks = [
    Buffer.concat([base, literal('X-Upper', 'a')]), // an uppercase field name
    Buffer.from([0x83, 0x86]), // no :path
    Buffer.concat([base, literal('connection', 'close')]), // a connection-specific field
    Buffer.concat([base, literal('te', 'gzip')]), // te other than "trailers"
    Buffer.concat([literal('x-a', 'b'), base]), // a pseudo-header after a regular one
    Buffer.concat([base, literal('x-a', 'b\r\nx-b: c')]), // CR LF in a value
  ];
  const frames = blocks.map((b, i) => rawFrame(1, 0x5, 2 * i + 1, b));
  const r = await raw([...frames, rawFrame(6, 0, 0, Buffer.from('stillup!'))], (got) => got.some((f) => f.type === 6 && (f.flags & 1) === 1));
  const resets = r.frames.filter((f) => f.type === 3);
  assert.deepEqual(resets.map((f) => f.id), [1, 3, 5, 7, 9, 11]);
  for (const f of resets) assert.equal(f.payload.readUInt32BE(0), H2_ERROR.PROTOCOL_ERROR);
  assert.equal(r.frames.filter((f) => f.type === 7).length, 0, 'no GOAWAY');
  assert.equal(r.frames.find((f) => f.type === 6)!.payload.toString(), 'stillup!');
});

/** HEADERS for /t.T/Held without END_STREAM: :method POST, :scheme http, :path literal. */
const HELD = Buffer.concat([Buffer.from([0x83, 0x86, 0x04, 9]), Buffer.from('/t.T/Held')]);

test('a client resetting open streams faster than nghttp2\'s limit (1,000 at once) is cut off: GOAWAY ENHANCE_YOUR_CALM', RAW_TIMEOUT, async () => {
  const frames: Buffer[] = [];
  for (let i = 0; i < 1100; i++) frames.push(rawFrame(1, 0x4, 2 * i + 1, HELD), rawFrame(3, 0, 2 * i + 1, Buffer.from([0, 0, 0, 8]))); // HEADERS, then RST_STREAM CANCEL
  const r = await raw(frames, () => false);
  const goAway = r.frames.find((f) => f.type === 7);
  assert.ok(goAway, 'a GOAWAY');
  assert.equal(goAwayCode(goAway), H2_ERROR.ENHANCE_YOUR_CALM);
  assert.ok(r.closed);
});

test('resets within the limit leave the connection up', RAW_TIMEOUT, async () => {
  const frames: Buffer[] = [];
  for (let i = 0; i < 500; i++) frames.push(rawFrame(1, 0x4, 2 * i + 1, HELD), rawFrame(3, 0, 2 * i + 1, Buffer.from([0, 0, 0, 8])));
  const r = await raw([...frames, rawFrame(6, 0, 0, Buffer.from('stillup!'))], (got) => got.some((f) => f.type === 6 && (f.flags & 1) === 1));
  assert.equal(r.frames.filter((f) => f.type === 7).length, 0);
});

/** HEADERS for a streaming method without END_STREAM (:method POST, :scheme http, :path literal). */
const streamHeaders = (path: string) => Buffer.concat([Buffer.from([0x83, 0x86, 0x04, path.length]), Buffer.from(path)]);
/** One gRPC message as a DATA frame's payload: the 5-octet prefix, then the bytes. */
const message = (text: string) => { const m = Buffer.from(text); const b = Buffer.alloc(5 + m.length); b.writeUInt32BE(m.length, 1); m.copy(b, 5); return b; };

test('streamed calls reset after their answer (Envoy\'s ext_proc without graceful close) are not a rapid-reset flood; unanswered ones are', RAW_TIMEOUT, async () => {
  const own = await serveGrpc('127.0.0.1', 0, {
    bidi: {
      '/t.S/Answer': (call) => ({ message: (m) => call.write(m), end: () => call.end(), cancel: () => undefined }),
      '/t.S/Silent': () => ({ message: () => undefined, end: () => undefined, cancel: () => undefined }),
    },
  });
  try {
    const calls = (path: string) => {
      const frames: Buffer[] = [];
      for (let i = 0; i < 1500; i++) {
        const id = 2 * i + 1;
        frames.push(rawFrame(1, 0x4, id, streamHeaders(path)), rawFrame(0, 0, id, message('x')), rawFrame(3, 0, id, Buffer.from([0, 0, 0, 8])));
      }
      return frames;
    };
    const answered = await raw([...calls('/t.S/Answer'), rawFrame(6, 0, 0, Buffer.from('stillup!'))], (got) => got.some((f) => f.type === 6 && (f.flags & 1) === 1), own.port);
    assert.equal(answered.frames.filter((f) => f.type === 7).length, 0, 'no GOAWAY');
    assert.equal(answered.frames.filter((f) => f.type === 0).length, 1500, 'each call answered');
    const silent = await raw(calls('/t.S/Silent'), () => false, own.port);
    const goAway = silent.frames.find((f) => f.type === 7);
    assert.ok(goAway, 'a GOAWAY');
    assert.equal(goAwayCode(goAway), H2_ERROR.ENHANCE_YOUR_CALM);
  } finally {
    await own.stop();
  }
});
