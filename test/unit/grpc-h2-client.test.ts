/**
 * The companions' gRPC client (src/xds/grpc-h2-client.ts on src/http2/client-connection.ts),
 * against a grpc-js server as the control plane runs one: messages split over DATA frames or
 * packed several to a frame arrive whole and in order, the server's status and percent-encoded
 * grpc-message reach the caller, mTLS checks the server's identity (not its address), a refused
 * connection and a server that stops answering without closing (no PING answer) end the call as
 * UNAVAILABLE. grpc-js serves on node:http2, whose nghttp2 encodes header blocks with HPACK's
 * dynamic table and Huffman coding by default: every answer here is read through both.
 *
 * Then node:http2 servers driven by hand for what a grpc-js server does not do on demand (a small
 * window, GOAWAY, RST_STREAM, its own PING, huge trailers, a table of 0), and a raw server
 * writing hand-built frames for the protocol errors RFC 9113 names. Expected codes are RFC
 * 9113's and gRPC's (PROTOCOL-HTTP2.md); a lost connection is UNAVAILABLE, and a stream the
 * server resets takes the status PROTOCOL-HTTP2.md's "Errors" table gives its code, as the
 * client's module comment says.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { constants, createServer as createH2Server, type ServerHttp2Session, type ServerHttp2Stream, type Settings } from 'node:http2';
import { createServer, Socket, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { bindServer, rawMethod, serverCredentials, stopServer } from '../../src/grpc-js-server.js';
import { GRPC_STATUS } from '../../src/grpc-raw.js';
import { H2_ERROR } from '../../src/http2/frames.js';
import { HpackDecoder } from '../../src/http2/hpack.js';
import { TlsSource } from '../../src/tls.js';
import { GrpcH2Channel, type GrpcBidiCall, type GrpcCallError } from '../../src/xds/grpc-h2-client.js';
import { literal, PREFACE, rawFrame } from '../support/h2-frames.js';
import { testPki, type TestPki } from '../support/mtls.js';
import { waitFor } from '../support/wait.js';

type Duplex = grpc.ServerDuplexStream<Buffer, Uint8Array>;

/** A grpc-js server with three bidi methods: Echo (each message back, reversed), Burst, Fail. */
async function startServer(credentials?: grpc.ServerCredentials): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService({
    Echo: rawMethod('/test.Stream/Echo', 'bidi'),
    Burst: rawMethod('/test.Stream/Burst', 'bidi'),
    Fail: rawMethod('/test.Stream/Fail', 'bidi'),
  }, {
    Echo: (call: Duplex) => {
      call.on('data', (m: Buffer) => call.write(Buffer.from(m).reverse()));
      call.on('end', () => call.end());
    },
    // A large message (many DATA frames), then small ones written together (several to a frame).
    Burst: (call: Duplex) => {
      call.once('data', () => {
        const big = Buffer.alloc(300_000);
        for (let i = 0; i < big.length; i++) big[i] = i % 251;
        call.write(big);
        for (let i = 0; i < 50; i++) call.write(Buffer.from(`m${i}`));
        call.write(Buffer.alloc(0));
        call.end();
      });
    },
    Fail: (call: Duplex) => {
      call.once('data', () => call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'policy refused: 50% zählt\nnicht' }));
    },
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await bindServer(server, '127.0.0.1', 0, credentials);
  return { port, server };
}

/** Everything a call gives until it ends. */
function collect(call: GrpcBidiCall): Promise<{ messages: Buffer[]; error?: GrpcCallError }> {
  const messages: Buffer[] = [];
  return new Promise((resolve) => {
    call.on('data', (m) => messages.push(Buffer.from(m)));
    call.on('end', () => resolve({ messages }));
    call.on('error', (error) => resolve({ messages, error }));
  });
}

describe('gRPC bidi streams on our HTTP/2 client, plaintext, against grpc-js', () => {
  let srv: { port: number; server: grpc.Server };
  let channel: GrpcH2Channel;
  before(async () => {
    srv = await startServer();
    channel = new GrpcH2Channel({ target: `127.0.0.1:${srv.port}`, expect: { role: 'control-plane' } });
  });
  after(async () => {
    channel.close();
    await stopServer(srv.server, 100);
  });

  test('messages go both ways in order; the call ends with OK when the server ends it', async () => {
    const call = channel.bidi('/test.Stream/Echo');
    const got: string[] = [];
    call.on('data', (m) => got.push(m.toString()));
    for (const m of ['one', 'two', 'three']) call.write(Buffer.from(m));
    await waitFor(() => got.length === 3, 'three answers');
    assert.deepEqual(got, ['eno', 'owt', 'eerht']);
    const ended = new Promise<string>((resolve) => { call.on('end', () => resolve('end')); call.on('error', (e) => resolve(`error ${e.message}`)); });
    // The server's handler ends its side once ours ends; then its OK status closes the call.
    call.end();
    assert.equal(await ended, 'end');
  });

  test('a message over many DATA frames and many messages in one frame arrive whole and in order', async () => {
    const call = channel.bidi('/test.Stream/Burst');
    call.write(Buffer.from('go'));
    const r = await collect(call);
    assert.equal(r.error, undefined);
    assert.equal(r.messages.length, 52);
    assert.equal(r.messages[0]!.length, 300_000);
    assert.ok(r.messages[0]!.every((b, i) => b === i % 251), 'the large message byte for byte');
    assert.deepEqual(r.messages.slice(1, 51).map(String), Array.from({ length: 50 }, (_, i) => `m${i}`));
    assert.equal(r.messages[51]!.length, 0, 'an empty message is a message');
  });

  test("the server's status and its percent-encoded grpc-message reach the caller decoded", async () => {
    const call = channel.bidi('/test.Stream/Fail');
    call.write(Buffer.from('x'));
    const r = await collect(call);
    assert.equal(r.error?.code, GRPC_STATUS.FAILED_PRECONDITION);
    assert.equal(r.error?.details, 'policy refused: 50% zählt\nnicht');
  });

  test('an unknown method is UNIMPLEMENTED (a trailers-only answer)', async () => {
    const call = channel.bidi('/test.Stream/Nope');
    call.write(Buffer.from('x'));
    assert.equal((await collect(call)).error?.code, GRPC_STATUS.UNIMPLEMENTED);
  });

  test('a message over the size limit ends the call with RESOURCE_EXHAUSTED', async () => {
    const small = new GrpcH2Channel({ target: `127.0.0.1:${srv.port}`, expect: { role: 'control-plane' }, maxMessageBytes: 100_000 });
    try {
      const call = small.bidi('/test.Stream/Burst');
      call.write(Buffer.from('go'));
      const r = await collect(call);
      assert.equal(r.error?.code, GRPC_STATUS.RESOURCE_EXHAUSTED);
      assert.equal(r.messages.length, 0);
    } finally {
      small.close();
    }
  });

  test('cancel ends the call with CANCELLED; the channel opens the next call', async () => {
    const call = channel.bidi('/test.Stream/Echo');
    const done = collect(call);
    const echoed = new Promise<string>((resolve) => call.once('data', (m) => resolve(m.toString())));
    call.write(Buffer.from('ab'));
    assert.equal(await echoed, 'ba');
    call.cancel();
    assert.equal((await done).error?.code, GRPC_STATUS.CANCELLED);
    const next = channel.bidi('/test.Stream/Echo');
    const nextDone = collect(next);
    const got = new Promise<string>((resolve) => next.once('data', (m) => resolve(m.toString())));
    next.write(Buffer.from('cd'));
    assert.equal(await got, 'dc');
    next.cancel();
    assert.equal((await nextDone).error?.code, GRPC_STATUS.CANCELLED);
  });
});

describe('connections that fail', () => {
  test('a refused connection ends the call as UNAVAILABLE, naming the cause', async () => {
    const closed = await new Promise<number>((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); }); });
    const channel = new GrpcH2Channel({ target: `127.0.0.1:${closed}`, expect: { role: 'control-plane' } });
    try {
      const r = await collect(channel.bidi('/test.Stream/Echo'));
      assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE);
      assert.match(r.error!.details, /ECONNREFUSED/);
    } finally {
      channel.close();
    }
  });

  test('a server that stops answering without closing is noticed by an unanswered keepalive PING', async () => {
    const srv = await startServer();
    // A TCP relay that can go silent: it keeps both sockets open and forwards nothing more.
    let silent = false;
    const sockets: Socket[] = [];
    const relay: Server = createServer((down) => {
      const up = new Socket();
      sockets.push(down, up);
      up.connect(srv.port, '127.0.0.1');
      down.on('data', (b) => { if (!silent) up.write(b); });
      up.on('data', (b) => { if (!silent) down.write(b); });
      down.on('error', () => undefined);
      up.on('error', () => undefined);
    });
    const port = await new Promise<number>((resolve) => relay.listen(0, '127.0.0.1', () => resolve((relay.address() as { port: number }).port)));
    const channel = new GrpcH2Channel({ target: `127.0.0.1:${port}`, expect: { role: 'control-plane' }, keepaliveMs: 100, keepaliveTimeoutMs: 300 });
    try {
      const call = channel.bidi('/test.Stream/Echo');
      const done = collect(call);
      const first = new Promise<string>((resolve) => call.once('data', (m) => resolve(m.toString())));
      call.write(Buffer.from('up'));
      assert.equal(await first, 'pu', 'the relay forwards while it is not silent');
      silent = true;
      const r = await done;
      assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE);
      assert.match(r.error!.details, /keepalive PING/);
    } finally {
      channel.close();
      for (const s of sockets) s.destroy();
      relay.close();
      await stopServer(srv.server, 100);
    }
  });
});

describe('mTLS', () => {
  let pki: TestPki;
  let srv: { port: number; server: grpc.Server };
  let server: TlsSource;
  let client: TlsSource;
  before(async () => {
    pki = testPki(['web']);
    server = new TlsSource(pki.files({ role: 'control-plane' }));
    client = new TlsSource(pki.files({ role: 'companion', name: 'ratelimit' }));
    srv = await startServer(serverCredentials(server));
  });
  after(async () => {
    await stopServer(srv.server, 100);
    server.close();
    client.close();
    pki.remove();
  });

  test('to an IP address, the server is accepted by its identity and answers', async () => {
    const channel = new GrpcH2Channel({ target: `127.0.0.1:${srv.port}`, expect: { role: 'control-plane' }, tls: client });
    try {
      const call = channel.bidi('/test.Stream/Echo');
      const done = collect(call);
      const got = new Promise<string>((resolve) => call.once('data', (m) => resolve(m.toString())));
      call.write(Buffer.from('tls'));
      assert.equal(await got, 'slt');
      call.end();
      assert.equal((await done).error, undefined, 'the call ends with OK once both sides have ended');
    } finally {
      channel.close();
    }
  });

  test('a server whose certificate names another party is refused before any message', async () => {
    const channel = new GrpcH2Channel({ target: `127.0.0.1:${srv.port}`, expect: { role: 'companion', name: 'authz' }, tls: client });
    try {
      const r = await collect(channel.bidi('/test.Stream/Echo'));
      assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE);
      assert.match(r.error!.details, /not spiffe:\/\/frontdesk\/companion\/authz \(it is spiffe:\/\/frontdesk\/control-plane\)/);
      assert.equal(r.messages.length, 0);
    } finally {
      channel.close();
    }
  });

  test('without TLS to a TLS server, the call fails as UNAVAILABLE', async () => {
    const channel = new GrpcH2Channel({ target: `127.0.0.1:${srv.port}`, expect: { role: 'control-plane' }, connectTimeoutMs: 2000 });
    try {
      const r = await collect(channel.bidi('/test.Stream/Echo'));
      assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE);
    } finally {
      channel.close();
    }
  });
});

// ---- node:http2 servers driven by hand -------------------------------------------------------

const framed = (msg: Buffer): Buffer => {
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt32BE(msg.length, 1);
  msg.copy(b, 5);
  return b;
};

/** The messages of a gRPC body (length-prefixed, uncompressed). */
function messagesOf(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 5 <= body.length; at += 5 + body.readUInt32BE(at + 1)) out.push(body.subarray(at + 5, at + 5 + body.readUInt32BE(at + 1)));
  return out;
}

/** A plaintext node:http2 server calling `onStream` for each stream; it counts its connections. */
async function h2Server(onStream: (stream: ServerHttp2Stream, session: number) => void, settings: Settings = {}): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const server = createH2Server({ settings });
  const sessions = new Set<ServerHttp2Session>();
  let connections = 0;
  const numbers = new WeakMap<ServerHttp2Session, number>();
  server.on('session', (s) => {
    numbers.set(s, ++connections);
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    onStream(stream, numbers.get(stream.session as ServerHttp2Session) ?? 0);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    port,
    connections: () => connections,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The gRPC answer's headers, with trailers to come once the stream's side ends. */
function respond(stream: ServerHttp2Stream, trailers: Record<string, string> = { 'grpc-status': '0' }, extra: Record<string, string> = {}): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...extra }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
}

/** Each message back, reversed; the call ends when the client's side does. */
function echo(stream: ServerHttp2Stream): void {
  respond(stream);
  let pending = Buffer.alloc(0);
  stream.on('data', (c: Buffer) => {
    pending = Buffer.concat([pending, c]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const n = pending.readUInt32BE(1);
      stream.write(framed(Buffer.from(pending.subarray(5, 5 + n)).reverse()));
      pending = pending.subarray(5 + n);
    }
  });
  stream.on('end', () => stream.end());
}

/** Writes `text`, resolves with the first message back. */
function firstAnswer(call: GrpcBidiCall, text: string): Promise<string> {
  const got = new Promise<string>((resolve, reject) => {
    call.once('data', (m) => resolve(m.toString()));
    call.once('error', reject);
  });
  call.write(Buffer.from(text));
  return got;
}

describe('flow control, GOAWAY, RST_STREAM and PING against node:http2 servers', () => {
  const target = (port: number) => ({ target: `127.0.0.1:${port}`, expect: { role: 'control-plane' as const } });

  test("a message larger than the server's window (initialWindowSize 1,000) goes out whole, within the windows its WINDOW_UPDATEs give", async () => {
    // nghttp2 resets a stream (FLOW_CONTROL_ERROR) that sends past its window: the call's OK says there was none.
    const srv = await h2Server((stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        respond(stream);
        for (const m of messagesOf(Buffer.concat(chunks))) stream.write(framed(createHash('sha256').update(m).digest()));
        stream.end();
      });
    }, { initialWindowSize: 1000 });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      const big = Buffer.alloc(300_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256;
      const call = channel.bidi('/test.Stream/Digest');
      const done = collect(call);
      call.write(big);
      call.write(Buffer.from('and a small one after it'));
      call.end();
      const r = await done;
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(r.messages.map((m) => m.toString('hex')), [createHash('sha256').update(big).digest('hex'), createHash('sha256').update('and a small one after it').digest('hex')]);
    } finally {
      channel.close();
      await srv.close();
    }
  });

  test('20 MB over many messages arrive whole: the client gives its connection and stream windows back as it reads', { timeout: 60_000 }, async () => {
    // Our windows are 16 MiB: past them, the server sends only as our WINDOW_UPDATEs allow.
    const count = 80;
    const size = 250_000;
    const srv = await h2Server((stream) => {
      respond(stream);
      stream.once('data', () => {
        for (let i = 0; i < count; i++) stream.write(framed(Buffer.alloc(size, i % 256)));
        stream.end();
      });
    });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      const call = channel.bidi('/test.Stream/Flood');
      let messages = 0;
      let bytes = 0;
      let inOrder = true;
      call.on('data', (m) => {
        if (m.length !== size || m[0] !== messages % 256 || m[size - 1] !== messages % 256) inOrder = false;
        messages++;
        bytes += m.length;
      });
      const ended = new Promise<string>((resolve) => { call.on('end', () => resolve('end')); call.on('error', (e) => resolve(e.message)); });
      call.write(Buffer.from('go'));
      assert.equal(await ended, 'end');
      assert.equal(messages, count);
      assert.equal(bytes, count * size);
      assert.ok(inOrder, 'each message whole and in order');
    } finally {
      channel.close();
      await srv.close();
    }
  });

  test("a server's GOAWAY with an error code (its connection error) ends its calls, naming the code; the next call opens a new connection", async () => {
    const srv = await h2Server((stream, connection) => {
      if (connection === 1) stream.session!.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('calm down'));
      else echo(stream);
    });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      const first = channel.bidi('/test.Stream/Echo');
      first.write(Buffer.from('x'));
      const r = await collect(first);
      assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE);
      assert.match(r.error!.details, /GOAWAY, HTTP\/2 error 11 \(ENHANCE_YOUR_CALM\): calm down/);
      const next = channel.bidi('/test.Stream/Echo');
      assert.equal(await firstAnswer(next, 'again'), 'niaga');
      next.cancel();
      assert.equal(srv.connections(), 2);
    } finally {
      channel.close();
      await srv.close();
    }
  });

  test('a graceful GOAWAY (NO_ERROR, last stream 1) lets the call the server took finish, ends the one above it; calls after it go to a new connection', async () => {
    const srv = await h2Server((stream, connection) => {
      if (connection === 1 && stream.id === 1) stream.session!.goaway(constants.NGHTTP2_NO_ERROR, 1);
      echo(stream);
    });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      // Two calls opened in one turn: streams 1 and 3 of the first connection.
      const taken = channel.bidi('/test.Stream/Echo');
      const untaken = channel.bidi('/test.Stream/Echo');
      const takenDone = collect(taken);
      const untakenDone = collect(untaken);
      // The GOAWAY was written before this answer, on the same connection: the client has read it.
      assert.equal(await firstAnswer(taken, 'ab'), 'ba');
      const u = await untakenDone;
      assert.equal(u.error?.code, GRPC_STATUS.UNAVAILABLE, 'stream 3, above the last stream id, was never taken (RFC 9113 §6.8)');
      assert.match(u.error!.details, /GOAWAY\) and did not take the stream/);
      const after = channel.bidi('/test.Stream/Echo');
      const afterDone = collect(after);
      assert.equal(await firstAnswer(after, 'cd'), 'dc');
      assert.equal(srv.connections(), 2, 'the call after the GOAWAY went on a new connection');
      taken.end();
      after.end();
      assert.equal((await takenDone).error, undefined, 'the call the server took ends with OK');
      assert.equal((await afterDone).error, undefined);
    } finally {
      channel.close();
      await srv.close();
    }
  });

  test('a stream the server resets (RST_STREAM REFUSED_STREAM) ends as UNAVAILABLE naming the code; the connection goes on', async () => {
    const srv = await h2Server((stream) => {
      if (stream.id === 1) {
        respond(stream);
        stream.once('data', () => stream.close(constants.NGHTTP2_REFUSED_STREAM));
      } else {
        echo(stream);
      }
    });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      const reset = channel.bidi('/test.Stream/Refused');
      reset.write(Buffer.from('x'));
      const r = await collect(reset);
      assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE);
      assert.match(r.error!.details, /reset the stream \(HTTP\/2 error 7 \(REFUSED_STREAM\)\)/);
      const next = channel.bidi('/test.Stream/Echo');
      assert.equal(await firstAnswer(next, 'on'), 'no');
      next.cancel();
      assert.equal(srv.connections(), 1, 'the same connection');
    } finally {
      channel.close();
      await srv.close();
    }
  });

  test("the server's PING is answered with its payload (RFC 9113 §6.7)", async () => {
    const srv = await h2Server((stream) => {
      respond(stream);
      stream.session!.ping(Buffer.from('fd-ping!'), (err, _ms, payload) => {
        stream.write(framed(Buffer.from(err ? `error: ${err.message}` : payload.toString())));
        stream.end();
      });
    });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      const call = channel.bidi('/test.Stream/Ping');
      call.write(Buffer.from('x'));
      const r = await collect(call);
      assert.equal(r.error, undefined);
      assert.deepEqual(r.messages.map(String), ['fd-ping!']);
    } finally {
      channel.close();
      await srv.close();
    }
  });

  test('headers and trailers larger than a frame (HEADERS, then CONTINUATION) are read whole', async () => {
    const details = `${'m'.repeat(39_990)} 50% zählt`;
    const srv = await h2Server((stream) => {
      respond(stream, { 'grpc-status': '9', 'grpc-message': encodeURIComponent(details) }, { 'x-large': 'h'.repeat(30_000) });
      stream.end();
    });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      const call = channel.bidi('/test.Stream/Large');
      call.write(Buffer.from('x'));
      const r = await collect(call);
      assert.equal(r.error?.code, GRPC_STATUS.FAILED_PRECONDITION);
      assert.equal(r.error?.details, details);
    } finally {
      channel.close();
      await srv.close();
    }
  });

  test('a server whose HPACK table is 0 gets a table size update at the start of our next header block (RFC 7541 §4.2)', async () => {
    // nghttp2 refuses a header block without it (COMPRESSION_ERROR) once it has lowered its table.
    const srv = await h2Server(echo, { headerTableSize: 0 });
    const channel = new GrpcH2Channel(target(srv.port));
    try {
      for (const word of ['one', 'two', 'three']) {
        const call = channel.bidi('/test.Stream/Echo');
        const done = collect(call);
        assert.equal(await firstAnswer(call, word), [...word].reverse().join(''));
        call.end();
        assert.equal((await done).error, undefined);
      }
      assert.equal(srv.connections(), 1);
    } finally {
      channel.close();
      await srv.close();
    }
  });
});

// ---- a raw server: hand-built frames ---------------------------------------------------------

interface RawFrame { type: number; flags: number; id: number; payload: Buffer }
/** :status 200 (static entry 8, §6.1) and content-type application/grpc. */
const GRPC_RESPONSE = Buffer.concat([Buffer.from([0x88]), literal('content-type', 'application/grpc')]);
const SETTINGS_FRAME = (pairs: Array<[number, number]> = []) => {
  const p = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([k, v], i) => { p.writeUInt16BE(k, 6 * i); p.writeUInt32BE(v, 6 * i + 2); });
  return rawFrame(4, 0, 0, p);
};
const END_STREAM = 0x1, END_HEADERS = 0x4;

/** One client connection as the raw server sees it: the preface checked, the frames it sent, and what the test writes back. */
class RawPeer {
  readonly frames: RawFrame[] = [];
  prefaceOk = false;
  closed = false;
  private buf = Buffer.alloc(0);
  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      if (!this.prefaceOk) {
        if (this.buf.length < PREFACE.length) return;
        assert.ok(this.buf.subarray(0, PREFACE.length).equals(PREFACE), 'the client preface (RFC 9113 §3.4)');
        this.prefaceOk = true;
        this.buf = this.buf.subarray(PREFACE.length);
      }
      while (this.buf.length >= 9 && this.buf.length >= 9 + this.buf.readUIntBE(0, 3)) {
        const n = this.buf.readUIntBE(0, 3);
        this.frames.push({ type: this.buf[3]!, flags: this.buf[4]!, id: this.buf.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(this.buf.subarray(9, 9 + n)) });
        this.buf = this.buf.subarray(9 + n);
      }
    });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => undefined);
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** The first frame the client sent that `match` accepts, awaited. */
  frame(match: (f: RawFrame) => boolean, what: string): Promise<RawFrame> {
    return waitFor(() => this.frames.find(match), what, 5000);
  }

  /** Everything the client has written before this resolves: a PING of ours, and its ACK back. */
  async sync(tag: string): Promise<void> {
    const payload = Buffer.from(tag.padEnd(8).slice(0, 8));
    this.send(rawFrame(6, 0, 0, payload));
    await this.frame((f) => f.type === 6 && (f.flags & 1) === 1 && f.payload.equals(payload), `the ACK of PING ${tag}`);
  }
}

async function rawServer(): Promise<{ port: number; peer(): Promise<RawPeer>; close(): void }> {
  const peers: RawPeer[] = [];
  const server = createServer((socket) => peers.push(new RawPeer(socket)));
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  let taken = 0;
  return {
    port,
    peer: async () => waitFor(() => peers[taken] && peers[taken++], 'a connection from the client', 5000),
    close: () => { for (const p of peers) p.socket.destroy(); server.close(); },
  };
}

/**
 * Call number `i` of a test (stream 2i+1) on the channel's one connection: the raw peer (taken,
 * and sent its SETTINGS, at the first call) waits for the request and answers with `frames`.
 */
async function answerCall(srv: { peer(): Promise<RawPeer> }, channel: GrpcH2Channel, one: { peer?: RawPeer }, i: number, what: string, frames: (id: number) => Buffer[]): Promise<{ peer: RawPeer; id: number; done: ReturnType<typeof collect> }> {
  const id = 2 * i + 1;
  const done = collect(channel.bidi('/test.Stream/Echo'));
  if (!one.peer) {
    one.peer = await srv.peer();
    one.peer.send(SETTINGS_FRAME());
  }
  await one.peer.frame((f) => f.type === 1 && f.id === id, `${what}: the request`);
  one.peer.send(...frames(id));
  return { peer: one.peer, id, done };
}

/** The header fields of a block, decoded by the HPACK decoder that RFC 7541's Appendix C checks (hpack.test.ts). */
function fieldsOf(block: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  new HpackDecoder().decode(block, (n, v) => out.push([n, v]));
  return out;
}

describe('the wire, against a raw server', () => {
  const RAW = { timeout: 15_000 };
  let srv: Awaited<ReturnType<typeof rawServer>>;
  before(async () => { srv = await rawServer(); });
  after(() => srv.close());
  const channelTo = (o: Partial<ConstructorParameters<typeof GrpcH2Channel>[0]> = {}) => new GrpcH2Channel({ target: `127.0.0.1:${srv.port}`, expect: { role: 'control-plane' }, ...o });

  test('the preface, our SETTINGS and window, the request as PROTOCOL-HTTP2.md has it, ACKs of SETTINGS and PING', RAW, async () => {
    const channel = channelTo({ userAgent: 'wire-test' });
    try {
      const call = channel.bidi('/test.Stream/Echo');
      const done = collect(call);
      call.write(Buffer.from('hello'));
      const peer = await srv.peer();
      const settings = await peer.frame((f) => f.type === 4, 'the client SETTINGS');
      assert.equal(peer.frames[0], settings, 'SETTINGS is the first frame after the preface (§3.4)');
      assert.equal(settings.flags, 0);
      const values = new Map<number, number>();
      for (let i = 0; i < settings.payload.length; i += 6) values.set(settings.payload.readUInt16BE(i), settings.payload.readUInt32BE(i + 2));
      assert.equal(values.get(0x2), 0, 'SETTINGS_ENABLE_PUSH 0');
      assert.equal(values.get(0x4), 16 * 1024 * 1024, 'SETTINGS_INITIAL_WINDOW_SIZE 16 MiB');
      const wu = await peer.frame((f) => f.type === 8 && f.id === 0, 'the connection WINDOW_UPDATE');
      assert.equal(wu.payload.readUInt32BE(0), 16 * 1024 * 1024 - 65_535, 'the connection window raised from 65,535 to 16 MiB (§6.9.2)');
      const headers = await peer.frame((f) => f.type === 1, 'the request HEADERS');
      assert.equal(headers.id, 1, 'the first stream a client opens is 1 (§5.1.1)');
      assert.equal(headers.flags & END_STREAM, 0, 'a bidi stream stays open after its headers');
      assert.equal(headers.flags & END_HEADERS, END_HEADERS);
      assert.deepEqual(fieldsOf(headers.payload), [
        [':method', 'POST'], [':scheme', 'http'], [':path', '/test.Stream/Echo'], [':authority', `127.0.0.1:${srv.port}`],
        ['content-type', 'application/grpc'], ['te', 'trailers'], ['user-agent', 'wire-test'],
      ]);
      const data = await peer.frame((f) => f.type === 0 && f.id === 1, 'the message');
      assert.deepEqual(data.payload, Buffer.from([0, 0, 0, 0, 5, ...Buffer.from('hello')]), 'a message: compressed flag 0, 4 octets of length, the bytes');
      peer.send(SETTINGS_FRAME());
      await peer.frame((f) => f.type === 4 && f.flags === 1 && f.payload.length === 0, 'the ACK of our SETTINGS (§6.5.3)');
      await peer.sync('abcdefgh');
      // The answer: headers, a message in a padded DATA frame (§6.1), trailers.
      const padded = Buffer.concat([Buffer.from([3]), Buffer.from([0, 0, 0, 0, 2]), Buffer.from('hi'), Buffer.alloc(3)]);
      peer.send(rawFrame(1, END_HEADERS, 1, GRPC_RESPONSE), rawFrame(0, 0x8, 1, padded), rawFrame(1, END_HEADERS | END_STREAM, 1, literal('grpc-status', '0')));
      const r = await done;
      assert.equal(r.error, undefined);
      assert.deepEqual(r.messages.map(String), ['hi']);
      // This side had not ended: the server's END_STREAM closes the call, the stream is reset with NO_ERROR (RFC 9113 §8.1).
      const rst = await peer.frame((f) => f.type === 3 && f.id === 1, 'RST_STREAM of the ended call');
      assert.equal(rst.payload.readUInt32BE(0), H2_ERROR.NO_ERROR);
    } finally {
      channel.close();
    }
  });

  test("the server's INITIAL_WINDOW_SIZE and WINDOW_UPDATEs bound what is sent (§6.9)", RAW, async () => {
    const channel = channelTo();
    try {
      const call = channel.bidi('/test.Stream/Window');
      const done = collect(call);
      const peer = await srv.peer();
      await peer.frame((f) => f.type === 1, 'the request HEADERS');
      peer.send(SETTINGS_FRAME([[0x4, 10]])); // SETTINGS_INITIAL_WINDOW_SIZE 10
      await peer.frame((f) => f.type === 4 && f.flags === 1, 'the ACK of the SETTINGS');
      const sent = () => peer.frames.filter((f) => f.type === 0 && f.id === 1).reduce((n, f) => n + f.payload.length, 0);
      call.write(Buffer.alloc(100, 1)); // 105 octets with its prefix
      await peer.sync('window1');
      assert.equal(sent(), 10, 'the stream window (10) and no more');
      peer.send(rawFrame(8, 0, 1, Buffer.from([0, 0, 0, 50])));
      await peer.sync('window2');
      assert.equal(sent(), 60, 'a WINDOW_UPDATE of 50 lets 50 more go');
      peer.send(rawFrame(8, 0, 1, Buffer.from([0, 0, 0x10, 0])));
      await peer.sync('window3');
      assert.equal(sent(), 105, 'the rest, once the window allows it');
      call.cancel();
      const rst = await peer.frame((f) => f.type === 3 && f.id === 1, 'RST_STREAM of the cancelled call');
      assert.equal(rst.payload.readUInt32BE(0), H2_ERROR.CANCEL, 'a cancelled call is RST_STREAM CANCEL (PROTOCOL-HTTP2.md)');
      assert.equal((await done).error?.code, GRPC_STATUS.CANCELLED);
    } finally {
      channel.close();
    }
  });

  test("the server's MAX_CONCURRENT_STREAMS holds a new stream back until one ends", RAW, async () => {
    const channel = channelTo();
    try {
      const first = channel.bidi('/test.Stream/One');
      const firstDone = collect(first);
      const peer = await srv.peer();
      await peer.frame((f) => f.type === 1 && f.id === 1, 'stream 1');
      peer.send(SETTINGS_FRAME([[0x3, 1]])); // SETTINGS_MAX_CONCURRENT_STREAMS 1
      await peer.frame((f) => f.type === 4 && f.flags === 1, 'the ACK of the SETTINGS');
      const second = channel.bidi('/test.Stream/Two');
      const secondDone = collect(second);
      await peer.sync('held');
      assert.equal(peer.frames.filter((f) => f.type === 1).length, 1, 'the second stream waits');
      peer.send(rawFrame(1, END_HEADERS | END_STREAM, 1, Buffer.concat([GRPC_RESPONSE, literal('grpc-status', '0')])));
      assert.equal((await firstDone).error, undefined, 'a trailers-only OK');
      const opened = await peer.frame((f) => f.type === 1 && f.id === 3, 'stream 3, once stream 1 is closed');
      assert.deepEqual(fieldsOf(opened.payload).find(([n]) => n === ':path'), [':path', '/test.Stream/Two']);
      peer.send(rawFrame(1, END_HEADERS | END_STREAM, 3, Buffer.concat([GRPC_RESPONSE, literal('grpc-status', '0')])));
      assert.equal((await secondDone).error, undefined);
    } finally {
      channel.close();
    }
  });

  test('a connection error from the server is a GOAWAY with RFC 9113\'s code, the end of the connection, and UNAVAILABLE', RAW, async () => {
    const headersThenPing = Buffer.concat([rawFrame(1, 0, 1, Buffer.from([0x88])), rawFrame(6, 0, 0, Buffer.alloc(8))]);
    const cases: Array<[string, Buffer, number]> = [
      ['DATA on a stream the client never opened', rawFrame(0, 0, 3, Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('x')])), H2_ERROR.PROTOCOL_ERROR],
      ['HEADERS on an even (server) stream', rawFrame(1, END_HEADERS, 2, GRPC_RESPONSE), H2_ERROR.PROTOCOL_ERROR],
      ['a frame over 16 KiB, the SETTINGS_MAX_FRAME_SIZE we keep', rawFrame(0, 0, 1, Buffer.alloc(16_385)), H2_ERROR.FRAME_SIZE_ERROR],
      ['a PING of 7 octets', rawFrame(6, 0, 0, Buffer.alloc(7)), H2_ERROR.FRAME_SIZE_ERROR],
      ['PUSH_PROMISE after ENABLE_PUSH 0', rawFrame(5, END_HEADERS, 1, Buffer.from([0, 0, 0, 2, 0x88])), H2_ERROR.PROTOCOL_ERROR],
      ['SETTINGS_ENABLE_PUSH 1 from a server', SETTINGS_FRAME([[0x2, 1]]), H2_ERROR.PROTOCOL_ERROR],
      ['SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1', SETTINGS_FRAME([[0x4, 0x80000000]]), H2_ERROR.FLOW_CONTROL_ERROR],
      ['a header block HPACK cannot decode', rawFrame(1, END_HEADERS, 1, Buffer.from([0x80])), H2_ERROR.COMPRESSION_ERROR],
      ['a frame between HEADERS and its CONTINUATION', headersThenPing, H2_ERROR.PROTOCOL_ERROR],
      ['WINDOW_UPDATE of 0 on the connection', rawFrame(8, 0, 0, Buffer.alloc(4)), H2_ERROR.PROTOCOL_ERROR],
      ['RST_STREAM on a stream the client never opened', rawFrame(3, 0, 5, Buffer.alloc(4)), H2_ERROR.PROTOCOL_ERROR],
    ];
    for (const [what, frames, code] of cases) {
      const channel = channelTo();
      try {
        const done = collect(channel.bidi('/test.Stream/Echo'));
        const peer = await srv.peer();
        await peer.frame((f) => f.type === 1, `${what}: the request`);
        peer.send(SETTINGS_FRAME(), frames);
        const goAway = await peer.frame((f) => f.type === 7, `${what}: a GOAWAY`);
        assert.equal(goAway.payload.readUInt32BE(4), code, what);
        assert.equal(goAway.payload.readUInt32BE(0), 0, `${what}: the last stream id is 0 (the server opened none)`);
        const r = await done;
        assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE, what);
        assert.match(r.error!.details, /HTTP\/2 protocol error from the server/, what);
        await waitFor(() => peer.closed, `${what}: the connection closed`, 5000);
      } finally {
        channel.close();
      }
    }
  });

  test('a first frame other than SETTINGS is a PROTOCOL_ERROR (§3.4)', RAW, async () => {
    const channel = channelTo();
    try {
      const done = collect(channel.bidi('/test.Stream/Echo'));
      const peer = await srv.peer();
      peer.send(rawFrame(6, 0, 0, Buffer.alloc(8)));
      const goAway = await peer.frame((f) => f.type === 7, 'a GOAWAY');
      assert.equal(goAway.payload.readUInt32BE(4), H2_ERROR.PROTOCOL_ERROR);
      assert.equal((await done).error?.code, GRPC_STATUS.UNAVAILABLE);
    } finally {
      channel.close();
    }
  });

  test('a malformed response is a stream error: RST_STREAM PROTOCOL_ERROR, INTERNAL as grpc-js says for its RST_STREAM code, the connection goes on', RAW, async () => {
    const channel = channelTo();
    try {
      const cases: Array<[string, (id: number) => Buffer[]]> = [
        ['DATA before the response headers', (id) => [rawFrame(0, 0, id, Buffer.from([0, 0, 0, 0, 0]))]],
        ['a response without :status', (id) => [rawFrame(1, END_HEADERS, id, literal('content-type', 'application/grpc'))]],
        ['a pseudo-header in trailers', (id) => [rawFrame(1, END_HEADERS, id, GRPC_RESPONSE), rawFrame(1, END_HEADERS | END_STREAM, id, Buffer.from([0x88]))]],
      ];
      const one: { peer?: RawPeer } = {};
      for (const [i, [what, frames]] of cases.entries()) {
        const { peer, id, done } = await answerCall(srv, channel, one, i, what, frames);
        const rst = await peer.frame((f) => f.type === 3 && f.id === id, `${what}: RST_STREAM`);
        assert.equal(rst.payload.readUInt32BE(0), H2_ERROR.PROTOCOL_ERROR, what);
        const r = await done;
        // Not UNAVAILABLE: the server did take the request (PROTOCOL-HTTP2.md keeps UNAVAILABLE for REFUSED_STREAM).
        assert.equal(r.error?.code, GRPC_STATUS.INTERNAL, what);
        assert.match(r.error!.details, /HTTP\/2 stream error/, what);
      }
      await one.peer!.sync('stillup');
      assert.equal(one.peer!.frames.filter((f) => f.type === 7).length, 0, 'no GOAWAY');
    } finally {
      channel.close();
    }
  });

  test('a server that ends its stream without a grpc-status: the messages before it arrive, then INTERNAL (grpc-js: "Call ended without gRPC status")', RAW, async () => {
    const channel = channelTo();
    try {
      const cases: Array<[string, (id: number) => Buffer[], string[]]> = [
        ['the last DATA frame ends the stream', (id) => [rawFrame(1, END_HEADERS, id, GRPC_RESPONSE), rawFrame(0, END_STREAM, id, framed(Buffer.from('hi')))], ['hi']],
        ['a header block that ends the stream with no grpc-status in it', (id) => [rawFrame(1, END_HEADERS | END_STREAM, id, GRPC_RESPONSE)], []],
      ];
      const one: { peer?: RawPeer } = {};
      for (const [i, [what, frames, messages]] of cases.entries()) {
        const r = await (await answerCall(srv, channel, one, i, what, frames)).done;
        assert.deepEqual(r.messages.map(String), messages, what);
        assert.equal(r.error?.code, GRPC_STATUS.INTERNAL, what);
        assert.match(r.error!.details, /without a gRPC status/, what);
      }
      await one.peer!.sync('stillup');
      assert.equal(one.peer!.frames.filter((f) => f.type === 7).length, 0, 'no GOAWAY');
    } finally {
      channel.close();
    }
  });

  test("a stream the server resets ends with the status PROTOCOL-HTTP2.md gives the RST_STREAM's code, naming it; none is sent back, the connection goes on", RAW, async () => {
    // The codes and names of RFC 9113 §7; the statuses of PROTOCOL-HTTP2.md's "Errors" table, which
    // gives STREAM_CLOSED none and does not list HTTP_1_1_REQUIRED or undefined codes (INTERNAL, as grpc-js).
    const cases: Array<[code: number, name: string, status: number, meaning?: RegExp]> = [
      [0x0, 'NO_ERROR', GRPC_STATUS.INTERNAL, /without a gRPC status/],
      [0x1, 'PROTOCOL_ERROR', GRPC_STATUS.INTERNAL],
      [0x2, 'INTERNAL_ERROR', GRPC_STATUS.INTERNAL],
      [0x3, 'FLOW_CONTROL_ERROR', GRPC_STATUS.INTERNAL],
      [0x4, 'SETTINGS_TIMEOUT', GRPC_STATUS.INTERNAL],
      [0x5, 'STREAM_CLOSED', GRPC_STATUS.INTERNAL],
      [0x6, 'FRAME_SIZE_ERROR', GRPC_STATUS.INTERNAL],
      [0x7, 'REFUSED_STREAM', GRPC_STATUS.UNAVAILABLE, /did not process the request; it may be retried/],
      [0x8, 'CANCEL', GRPC_STATUS.CANCELLED],
      [0x9, 'COMPRESSION_ERROR', GRPC_STATUS.INTERNAL],
      [0xa, 'CONNECT_ERROR', GRPC_STATUS.INTERNAL],
      [0xb, 'ENHANCE_YOUR_CALM', GRPC_STATUS.RESOURCE_EXHAUSTED, /slow down/],
      [0xc, 'INADEQUATE_SECURITY', GRPC_STATUS.PERMISSION_DENIED, /not secure enough/],
      [0xd, 'HTTP_1_1_REQUIRED', GRPC_STATUS.INTERNAL],
      [0x1234, '', GRPC_STATUS.INTERNAL],
    ];
    const channel = channelTo();
    try {
      let peer: RawPeer | undefined;
      let id = -1;
      const reset = async (before: (id: number) => Buffer[], code: number) => {
        id += 2;
        const call = channel.bidi('/test.Stream/Echo');
        const done = collect(call);
        call.write(Buffer.from('x'));
        if (!peer) {
          peer = await srv.peer();
          peer.send(SETTINGS_FRAME());
        }
        await peer.frame((f) => f.type === 1 && f.id === id, `the request on stream ${id}`);
        const code4 = Buffer.alloc(4);
        code4.writeUInt32BE(code, 0);
        peer.send(...before(id), rawFrame(3, 0, id, code4));
        return done;
      };
      for (const [code, name, status, meaning] of cases) {
        const r = await reset(() => [], code);
        const what = name || `undefined code ${code}`;
        assert.equal(r.error?.code, status, what);
        assert.ok(r.error!.details.startsWith(`the server reset the stream (HTTP/2 error ${name ? `${code} (${name})` : code})`), `${what}: ${r.error!.details}`);
        if (meaning) assert.match(r.error!.details, meaning, what);
      }
      // A reset with NO_ERROR after the response headers and a message, before the trailers: the message, then INTERNAL.
      const late = await reset((at) => [rawFrame(1, END_HEADERS, at, GRPC_RESPONSE), rawFrame(0, 0, at, framed(Buffer.from('hi')))], 0x0);
      assert.deepEqual(late.messages.map(String), ['hi']);
      assert.equal(late.error?.code, GRPC_STATUS.INTERNAL);
      assert.match(late.error!.details, /without a gRPC status/);
      await peer!.sync('afterrst');
      assert.deepEqual(peer!.frames.filter((f) => f.type === 3).map((f) => f.id), [], 'no RST_STREAM in answer to a RST_STREAM (RFC 9113 §5.4.2)');
      assert.equal(peer!.frames.filter((f) => f.type === 7).length, 0, 'no GOAWAY');
      const next = collect(channel.bidi('/test.Stream/Echo'));
      await peer!.frame((f) => f.type === 1 && f.id === id + 2, 'the next call, on the same connection');
      peer!.send(rawFrame(1, END_HEADERS | END_STREAM, id + 2, Buffer.concat([GRPC_RESPONSE, literal('grpc-status', '0')])));
      assert.equal((await next).error, undefined);
    } finally {
      channel.close();
    }
  });

  test('a server that never acknowledges our SETTINGS: GOAWAY SETTINGS_TIMEOUT once settingsAckTimeoutMs is past, and the call ends as UNAVAILABLE naming it (§6.5.3)', RAW, async () => {
    const timeout = 300;
    const channel = channelTo({ settingsAckTimeoutMs: timeout });
    try {
      const opened = Date.now();
      const done = collect(channel.bidi('/test.Stream/Echo'));
      const peer = await srv.peer();
      await peer.frame((f) => f.type === 1, 'the request');
      peer.send(SETTINGS_FRAME()); // its own SETTINGS, and never the ACK of ours
      await peer.frame((f) => f.type === 4 && f.flags === 1, 'the ACK of its SETTINGS');
      const goAway = await peer.frame((f) => f.type === 7, 'a GOAWAY');
      // Less a millisecond: a timer may fire within the millisecond it is due.
      assert.ok(Date.now() - opened >= timeout - 1, `the GOAWAY came ${Date.now() - opened} ms after the call was opened`);
      assert.equal(goAway.payload.readUInt32BE(4), 0x4, 'SETTINGS_TIMEOUT (RFC 9113 §7)');
      assert.equal(goAway.payload.readUInt32BE(0), 0, 'the last stream id is 0 (the server opened none)');
      const r = await done;
      assert.equal(r.error?.code, GRPC_STATUS.UNAVAILABLE, 'a connection error: its calls are UNAVAILABLE (PROTOCOL-HTTP2.md, "Connection failure")');
      assert.match(r.error!.details, /SETTINGS_TIMEOUT/);
      await waitFor(() => peer.closed, 'the connection closed', 5000);
    } finally {
      channel.close();
    }
  });

  test('a server that acknowledges our SETTINGS: no SETTINGS_TIMEOUT once the call is over and settingsAckTimeoutMs past; the connection takes the next call', RAW, async () => {
    // The client's own keepalive PING, due 800 ms after the connection is up, marks the 400 ms as past.
    const channel = channelTo({ settingsAckTimeoutMs: 400, keepaliveMs: 800 });
    try {
      const first = collect(channel.bidi('/test.Stream/Echo'));
      const peer = await srv.peer();
      await peer.frame((f) => f.type === 1 && f.id === 1, 'the request');
      peer.send(SETTINGS_FRAME(), rawFrame(4, 1, 0), rawFrame(1, END_HEADERS | END_STREAM, 1, Buffer.concat([GRPC_RESPONSE, literal('grpc-status', '0')])));
      assert.equal((await first).error, undefined, 'a trailers-only OK');
      await peer.frame((f) => f.type === 6 && f.flags === 0, "the client's keepalive PING");
      assert.equal(peer.frames.filter((f) => f.type === 7).length, 0, 'no GOAWAY');
      assert.equal(peer.closed, false);
      const next = collect(channel.bidi('/test.Stream/Echo'));
      await peer.frame((f) => f.type === 1 && f.id === 3, 'the next call, on the same connection');
      peer.send(rawFrame(1, END_HEADERS | END_STREAM, 3, Buffer.concat([GRPC_RESPONSE, literal('grpc-status', '0')])));
      assert.equal((await next).error, undefined);
    } finally {
      channel.close();
    }
  });

  test('close() sends GOAWAY NO_ERROR and ends the connection; its calls end as UNAVAILABLE', RAW, async () => {
    const channel = channelTo();
    const done = collect(channel.bidi('/test.Stream/Echo'));
    const peer = await srv.peer();
    await peer.frame((f) => f.type === 1, 'the request');
    channel.close();
    const goAway = await peer.frame((f) => f.type === 7, 'a GOAWAY');
    assert.equal(goAway.payload.readUInt32BE(4), H2_ERROR.NO_ERROR);
    assert.equal((await done).error?.code, GRPC_STATUS.UNAVAILABLE);
    await waitFor(() => peer.closed, 'the connection closed', 5000);
  });
});
