/**
 * The companions' gRPC client on node:http2 (src/xds/grpc-h2-client.ts), against a grpc-js
 * server as the control plane runs one: messages split over DATA frames or packed several to a
 * frame arrive whole and in order, the server's status and percent-encoded grpc-message reach
 * the caller, mTLS checks the server's identity (not its address), a refused connection and a
 * server that stops answering without closing (no PING answer) end the call as UNAVAILABLE.
 */
import assert from 'node:assert/strict';
import { createServer, Socket, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { bindServer, rawMethod, serverCredentials, stopServer } from '../../src/grpc-js-server.js';
import { GRPC_STATUS } from '../../src/grpc-raw.js';
import { TlsSource } from '../../src/tls.js';
import { GrpcH2Channel, type GrpcBidiCall, type GrpcCallError } from '../../src/xds/grpc-h2-client.js';
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

describe('gRPC bidi streams over node:http2, plaintext', () => {
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
