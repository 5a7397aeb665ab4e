/**
 * Bidirectional streaming calls on the project's gRPC server (src/grpc-raw.ts serveGrpc over
 * src/http2/server-connection.ts), which the transform companion's ext_proc Process stream
 * runs on, called by grpc-js's client (another implementation of gRPC over HTTP/2). What a
 * gRPC client expects (grpc/grpc doc/PROTOCOL-HTTP2.md): messages in order in both directions,
 * however HTTP/2 splits them; the stream's data beyond its window flowing as the server reads
 * it (WINDOW_UPDATE), an answer beyond the client's window waiting for the client's; the
 * status in the trailers, or a trailers-only answer; a cancelled call seen by the handler.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GRPC_STATUS, serveGrpc, type BidiHandler, type UnaryServer } from '../../src/grpc-raw.js';
import { waitFor } from '../support/wait.js';

const MAX_MESSAGE = 1024 * 1024;
let server: UnaryServer;
let client: grpc.Client;
/** What the handlers saw, by call (the x-call header). */
const seen = new Map<string, { messages: number; ended: boolean; cancelled: boolean; refused?: boolean }>();

/** Answers each message with its bytes reversed, ends OK after the client's half-close. */
const echo: BidiHandler = (call) => {
  const record: { messages: number; ended: boolean; cancelled: boolean; refused?: boolean } = { messages: 0, ended: false, cancelled: false };
  seen.set(call.headers['x-call'] ?? '', record);
  // "hold": the call stays open after the client's half-close, until the client resets it.
  let held = false;
  return {
    message(m) {
      record.messages += 1;
      const text = m.toString();
      if (text === 'fail') { call.end(GRPC_STATUS.FAILED_PRECONDITION, 'refused: "fail" (100%)'); return; }
      if (text === 'throw') throw new Error('handler bug');
      if (text === 'hold') held = true;
      if (text.startsWith('big:')) { call.write(Buffer.alloc(Number(text.slice(4)), 0x61)); return; }
      call.write(Buffer.from(m).reverse());
    },
    end() { record.ended = true; if (!held) call.end(); },
    cancel(refused) { record.cancelled = true; record.refused = refused; },
  };
};

/** Ends at once, before any message: a trailers-only answer. */
const refuse: BidiHandler = (call) => {
  call.end(GRPC_STATUS.PERMISSION_DENIED, 'not for you');
  return { message() { /* none read */ }, end() { /* nothing */ }, cancel() { /* nothing */ } };
};

before(async () => {
  server = await serveGrpc('127.0.0.1', 0, {
    bidi: { '/t.S/Echo': echo, '/t.S/Refuse': refuse },
    unary: { '/t.S/Unary': async (req) => Buffer.from(req) },
    maxStreamMessageBytes: MAX_MESSAGE,
  });
  client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
});
after(async () => {
  client.close();
  await server.stop();
});

interface Outcome { messages: Buffer[]; code: number; details: string }

/** One bidi call: `send` writes messages (awaiting each answer when `lockstep`), then half-closes; resolves with what came back and the status. */
function bidi(method: string, id: string, messages: Buffer[], o: { lockstep?: boolean } = {}): Promise<Outcome> {
  const md = new grpc.Metadata();
  md.set('x-call', id);
  const call = client.makeBidiStreamRequest(method, (b: Buffer) => b, (b: Buffer) => b, md);
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    let next: (() => void) | undefined;
    call.on('data', (b: Buffer) => { got.push(b); next?.(); });
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => resolve({ messages: got, code: s.code, details: s.details }));
    if (!o.lockstep) {
      for (const m of messages) call.write(m);
      call.end();
      return;
    }
    let i = 0;
    next = () => { if (i < messages.length) call.write(messages[i++]!); else call.end(); };
    next();
  });
}

test('messages are answered in order on one stream, and the status follows the half-close', async () => {
  const out = await bidi('/t.S/Echo', 'order', ['one', 'two', 'three'].map((s) => Buffer.from(s)));
  assert.equal(out.code, grpc.status.OK);
  assert.deepEqual(out.messages.map((b) => b.toString()), ['eno', 'owt', 'eerht']);
  assert.equal(seen.get('order')?.ended, true, 'the handler saw the half-close');
});

test('the same call answered message by message (Envoy waits for each answer before its next message)', async () => {
  const out = await bidi('/t.S/Echo', 'lockstep', ['a1', 'b2', 'c3', 'd4'].map((s) => Buffer.from(s)), { lockstep: true });
  assert.equal(out.code, grpc.status.OK);
  assert.deepEqual(out.messages.map((b) => b.toString()), ['1a', '2b', '3c', '4d']);
});

test('a message split over many DATA frames arrives whole; several per frame arrive apart', async () => {
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const small = Array.from({ length: 50 }, (_, i) => Buffer.from(`m${i}`));
  const out = await bidi('/t.S/Echo', 'split', [big, ...small]);
  assert.equal(out.code, grpc.status.OK);
  assert.equal(out.messages.length, 51);
  assert.ok(out.messages[0]!.equals(Buffer.from(big).reverse()));
  assert.deepEqual(out.messages.slice(1).map((b) => b.toString()), small.map((b) => Buffer.from(b).reverse().toString()));
});

test('a stream sends more than its window: the server gives it back as it reads', async () => {
  // 6 MiB on one stream, the stream's window ~1 MiB: without WINDOW_UPDATEs the client would stall.
  const parts = Array.from({ length: 12 }, (_, i) => Buffer.alloc(512 * 1024, i));
  const out = await bidi('/t.S/Echo', 'window', parts);
  assert.equal(out.code, grpc.status.OK);
  assert.equal(out.messages.length, 12);
  out.messages.forEach((m, i) => { assert.equal(m.length, 512 * 1024); assert.equal(m[0], i); });
});

test('answers larger than the client\'s window wait for its WINDOW_UPDATEs, in order', async () => {
  const out = await bidi('/t.S/Echo', 'answers', [Buffer.from('big:3000000'), Buffer.from('after')]);
  assert.equal(out.code, grpc.status.OK);
  assert.equal(out.messages.length, 2);
  assert.equal(out.messages[0]!.length, 3_000_000);
  assert.equal(out.messages[1]!.toString(), 'retfa');
});

test('a status the handler ends with reaches the client with its message; so does a trailers-only refusal', async () => {
  const failed = await bidi('/t.S/Echo', 'fail', [Buffer.from('ok'), Buffer.from('fail'), Buffer.from('never')]);
  assert.equal(failed.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(failed.details, 'refused: "fail" (100%)');
  assert.deepEqual(failed.messages.map((b) => b.toString()), ['ko']);
  const refused = await bidi('/t.S/Refuse', 'refuse', [Buffer.from('x')]);
  assert.equal(refused.code, grpc.status.PERMISSION_DENIED);
  assert.equal(refused.details, 'not for you');
  assert.equal(refused.messages.length, 0);
});

test('a message over the limit is RESOURCE_EXHAUSTED and the handler is told the call is over', async () => {
  const out = await bidi('/t.S/Echo', 'large', [Buffer.alloc(MAX_MESSAGE + 1)]);
  assert.equal(out.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(seen.get('large')?.cancelled, true);
  assert.equal(seen.get('large')?.refused, true, 'ended by the server for what the client sent');
  assert.equal(seen.get('large')?.messages, 0);
});

test('a handler that throws ends its own call with INTERNAL; other calls on the connection go on', async () => {
  const [broken, fine] = await Promise.all([
    bidi('/t.S/Echo', 'throw', [Buffer.from('throw')]),
    bidi('/t.S/Echo', 'beside', [Buffer.from('xy')]),
  ]);
  assert.equal(broken.code, grpc.status.INTERNAL);
  assert.equal(fine.code, grpc.status.OK);
  assert.equal(fine.messages[0]!.toString(), 'yx');
});

test('a call the client cancels is seen by its handler; an unknown method is UNIMPLEMENTED; unary calls share the server', async () => {
  const md = new grpc.Metadata();
  md.set('x-call', 'cancel');
  const call = client.makeBidiStreamRequest('/t.S/Echo', (b: Buffer) => b, (b: Buffer) => b, md);
  call.on('error', () => undefined);
  const first = new Promise<Buffer>((resolve) => call.once('data', resolve));
  call.write(Buffer.from('hold'));
  assert.equal((await first).toString(), 'dloh');
  // grpc-js half-closes, then resets the stream (RST_STREAM CANCEL).
  call.cancel();
  await waitFor(() => seen.get('cancel')?.cancelled, 'the handler to see the cancellation');
  assert.equal(seen.get('cancel')?.refused, false, 'reset by the client');

  const unknown = await bidi('/t.S/Nope', 'nope', [Buffer.from('x')]);
  assert.equal(unknown.code, grpc.status.UNIMPLEMENTED);
  const unary = await new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest('/t.S/Unary', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('same port'), (err, res) => (err ? reject(err) : resolve(res!)));
  });
  assert.equal(unary.toString(), 'same port');
});
