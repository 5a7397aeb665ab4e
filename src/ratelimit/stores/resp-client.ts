import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A small standalone Redis client for the rate-limit stores: one connection, commands written
 * in Redis's RESP2 protocol and answered in order, nothing else. The stores send one script
 * run per Redis round trip (redis.ts gathers the decisions itself), so none of a general
 * client's machinery (command table, offline queue, auto-pipelining, cluster) is needed; the
 * companion loads this instead of ioredis for a standalone Redis (`frontdesk ratelimit` idles
 * ~3.5 MiB lower in RSS and heap; docs/benchmarks.md).
 *
 * Behaviour, as the stores need it (the same settings the ioredis client had):
 * - fail fast: while not connected (or not yet authenticated and on its database) a command
 *   fails at once with "Connection is not ready", never queued and never replayed later (a
 *   late replay would consume a unit for a request already answered);
 * - a command not answered within `commandTimeoutMs` fails with "Command timed out"; its late
 *   reply is read and dropped, the connection goes on;
 * - a connection that drops fails every command in flight ("Connection is closed.") and is
 *   reopened with a backoff growing by 50 ms up to 1 s, forever, until quit()/disconnect();
 * - an error reply is a ReplyError (its `name`), for fromRedisError (errors.ts) to sort;
 * - `status` ('connecting', 'ready', 'reconnecting', 'end') and the 'ready' and 'error'
 *   events as ioredis names them, so whenReady and the service's health read either client.
 */

/** Where the client connects, and how (redis-client.ts maps Kong's config.redis.* here). */
export interface RespClientOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  /** TLS when present (rediss://). */
  tls?: { rejectUnauthorized: boolean; servername?: string };
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export type RespStatus = 'connecting' | 'ready' | 'reconnecting' | 'end';

/** An error reply from Redis (`-ERR ...`, `-NOSCRIPT ...`). */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

export interface RespClientEvents {
  ready: [];
  error: [err: Error];
  close: [];
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  /** Settled already (timed out): its reply is read and dropped. */
  done: boolean;
  timer?: NodeJS.Timeout;
}

/** Not enough bytes yet for a whole reply. */
const INCOMPLETE = Symbol('incomplete');

/** Parses the RESP connection URL the service's --redis takes: redis[s]://[user[:pass]@]host[:port][/db]. */
export function respOptionsFromUrl(url: string, timeouts: { connectTimeoutMs: number; commandTimeoutMs: number }): RespClientOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`redis URL: database "${u.pathname.slice(1)}" is not a number`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
    ...(u.protocol === 'rediss:' ? { tls: { rejectUnauthorized: true } } : {}),
    ...timeouts,
  };
}

const CRLF_0 = 13, CRLF_1 = 10;

/** Decimal digits of a non-negative safe integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) { n = Math.floor(n / 10); d++; }
  return d;
}

/** Writes a non-negative safe integer in decimal at `at`; returns the offset after it. */
function writeDigits(buf: Buffer, at: number, n: number, d: number): number {
  let end = at + d;
  for (let i = end - 1; i >= at; i--) { buf[i] = 48 + (n % 10); n = Math.floor(n / 10); }
  return end;
}

const isCount = (a: string | number): a is number => typeof a === 'number' && Number.isSafeInteger(a) && a >= 0;

/**
 * Encodes one command, its `parts` one after the other, as a RESP array of bulk strings, straight into one
 * buffer (off the JavaScript heap: a batch of decisions leaves no strings behind for the young
 * generation's collector).
 */
export function encodeCommand(...parts: Array<ReadonlyArray<string | number>>): Buffer {
  let count = 0;
  for (const p of parts) count += p.length;
  let size = 3 + digits(count);
  const sizeOf = (a: string | number) => {
    const len = isCount(a) ? digits(a) : Buffer.byteLength(typeof a === 'string' ? a : String(a));
    size += 5 + digits(len) + len;
  };
  for (const p of parts) for (const a of p) sizeOf(a);
  const buf = Buffer.allocUnsafe(size);
  buf[0] = 0x2a;
  let at = writeDigits(buf, 1, count, digits(count));
  buf[at++] = CRLF_0; buf[at++] = CRLF_1;
  const put = (a: string | number) => {
    buf[at++] = 0x24;
    if (isCount(a)) {
      const d = digits(a);
      at = writeDigits(buf, at, d, digits(d));
      buf[at++] = CRLF_0; buf[at++] = CRLF_1;
      at = writeDigits(buf, at, a, d);
    } else {
      const s = typeof a === 'string' ? a : String(a);
      const len = Buffer.byteLength(s);
      at = writeDigits(buf, at, len, digits(len));
      buf[at++] = CRLF_0; buf[at++] = CRLF_1;
      at += buf.write(s, at);
    }
    buf[at++] = CRLF_0; buf[at++] = CRLF_1;
  };
  for (const p of parts) for (const a of p) put(a);
  return buf;
}

/** One reply of `buf` from `at`: the value and where the next reply starts, or INCOMPLETE. */
function parseReply(buf: Buffer, at: number): { value: unknown; next: number } | typeof INCOMPLETE {
  if (at >= buf.length) return INCOMPLETE;
  const eol = buf.indexOf(13, at);
  if (eol < 0 || eol + 1 >= buf.length) return INCOMPLETE;
  const type = buf[at];
  const line = buf.toString('latin1', at + 1, eol);
  const after = eol + 2;
  switch (type) {
    case 0x2b: // +simple string
      return { value: buf.toString('utf8', at + 1, eol), next: after };
    case 0x2d: // -error
      return { value: new ReplyError(buf.toString('utf8', at + 1, eol)), next: after };
    case 0x3a: // :integer
      return { value: Number(line), next: after };
    case 0x24: { // $bulk string
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (after + len + 2 > buf.length) return INCOMPLETE;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case 0x2a: { // *array
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const items = new Array<unknown>(n);
      let p = after;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p);
        if (r === INCOMPLETE) return INCOMPLETE;
        items[i] = r.value;
        p = r.next;
      }
      return { value: items, next: p };
    }
    default:
      throw new Error(`redis: unexpected reply type 0x${(type ?? 0).toString(16)}`);
  }
}

export class RespClient extends EventEmitter<RespClientEvents> {
  status: RespStatus = 'connecting';
  private socket?: Socket;
  private readonly pending: Pending[] = [];
  private head = 0;
  private rest?: Buffer;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private ending = false;

  constructor(private readonly o: RespClientOptions) {
    super();
    this.open();
  }

  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown> {
    return this.command(['EVALSHA', sha, numKeys], args);
  }

  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown> {
    return this.command(['EVAL', script, numKeys], args);
  }

  /** A script run with its keys and arguments as they are (no copy into one argument list). */
  runScript(verb: 'EVALSHA' | 'EVAL', shaOrScript: string, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>): Promise<unknown> {
    if (this.status !== 'ready' || !this.socket) return Promise.reject(new Error(`Connection is not ready (status ${this.status})`));
    return this.send(encodeCommand([verb, shaOrScript, keys.length], keys, args));
  }

  /** Any command (tests, tools); the reply as RESP2 gives it (strings, numbers, arrays, null). */
  call(...args: Array<string | number>): Promise<unknown> {
    return this.command(args);
  }

  /** Sends QUIT and closes once Redis answers it (or at once when not connected). No reconnection after. */
  async quit(): Promise<void> {
    this.ending = true;
    clearTimeout(this.reconnectTimer);
    if (this.status !== 'ready' || !this.socket) { this.disconnect(); return; }
    try {
      await this.write(['QUIT']);
    } catch {
      // closed meanwhile: the same end
    }
    this.disconnect();
  }

  /** Closes at once; commands in flight fail. No reconnection after. */
  disconnect(): void {
    this.ending = true;
    clearTimeout(this.reconnectTimer);
    this.status = 'end';
    this.socket?.destroy();
    this.socket = undefined;
    this.failAll(new Error('Connection is closed.'));
  }

  private command(head: ReadonlyArray<string | number>, rest: ReadonlyArray<string | number> = []): Promise<unknown> {
    if (this.status !== 'ready' || !this.socket) return Promise.reject(new Error(`Connection is not ready (status ${this.status})`));
    return this.send(encodeCommand(head, rest));
  }

  private write(args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.send(encodeCommand(args));
  }

  private send(frame: Buffer): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, done: false };
      p.timer = setTimeout(() => {
        if (p.done) return;
        p.done = true;
        reject(new Error('Command timed out'));
      }, this.o.commandTimeoutMs);
      this.pending.push(p);
      this.socket!.write(frame);
    });
  }

  private open(): void {
    this.rest = undefined;
    const { host, port, tls } = this.o;
    const socket = tls
      ? tlsConnect({ host, port, rejectUnauthorized: tls.rejectUnauthorized, ...(tls.servername ? { servername: tls.servername } : {}) })
      : netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    const connectTimer = setTimeout(() => socket.destroy(new Error(`connect ETIMEDOUT ${host}:${port}`)), this.o.connectTimeoutMs);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      void this.handshake(socket);
    });
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (err) => this.report(err));
    socket.once('close', () => {
      clearTimeout(connectTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.failAll(new Error('Connection is closed.'));
      this.emit('close');
      if (this.ending) { this.status = 'end'; return; }
      this.status = 'reconnecting';
      this.attempt += 1;
      this.reconnectTimer = setTimeout(() => this.open(), Math.min(50 * this.attempt, 1_000));
    });
  }

  /** AUTH and SELECT before the connection counts as ready. */
  private async handshake(socket: Socket): Promise<void> {
    try {
      const { username, password, db } = this.o;
      const steps: Array<Promise<unknown>> = [];
      if (password !== undefined) steps.push(this.write(username !== undefined ? ['AUTH', username, password] : ['AUTH', password]));
      if (db) steps.push(this.write(['SELECT', db]));
      for (const r of await Promise.all(steps)) if (r instanceof Error) throw r;
      if (this.socket !== socket) return;
      this.status = 'ready';
      this.attempt = 0;
      this.emit('ready');
    } catch (e) {
      if (this.socket !== socket) return;
      this.report(e as Error);
      socket.destroy();
    }
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = 0;
    try {
      for (;;) {
        const r = parseReply(buf, at);
        if (r === INCOMPLETE) break;
        at = r.next;
        this.settle(r.value);
      }
    } catch (e) {
      // Not RESP: nothing after it can be trusted.
      this.report(e as Error);
      socket.destroy();
      return;
    }
    this.rest = at < buf.length ? buf.subarray(at) : undefined;
  }

  private settle(value: unknown): void {
    const p = this.pending[this.head];
    if (!p) return;
    this.pending[this.head++] = undefined as unknown as Pending;
    if (this.head > 1024 && this.head * 2 > this.pending.length) { this.pending.splice(0, this.head); this.head = 0; }
    if (this.head === this.pending.length) { this.pending.length = 0; this.head = 0; }
    clearTimeout(p.timer);
    if (p.done) return;
    p.done = true;
    if (value instanceof ReplyError) p.reject(value);
    else p.resolve(value);
  }

  /** Connection trouble, to the 'error' listeners if there are any (never thrown: the client recovers by itself). */
  private report(err: Error): void {
    if (!this.ending && this.listenerCount('error') > 0) this.emit('error', err);
  }

  private failAll(err: Error): void {
    const all = this.pending.splice(this.head);
    this.pending.length = 0;
    this.head = 0;
    for (const p of all) {
      clearTimeout(p.timer);
      if (!p.done) { p.done = true; p.reject(err); }
    }
  }
}
