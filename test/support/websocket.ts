import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A minimal RFC 6455 client and echo server for the e2e tests: text frames, close, and nothing
 * else (no extensions, no fragmentation). Node 20 has neither built in; the `ws` package would
 * do it, but installing it here would rewrite the node_modules this checkout shares.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(text: string, mask: boolean, opcode = 0x1): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | len])
    : Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 0xff]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, masked]);
}

/** Splits complete frames off `buf`; returns them and the rest. */
function parse(buf: Buffer): { frames: { opcode: number; text: string }[]; rest: Buffer } {
  const frames: { opcode: number; text: string }[] = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    const opcode = buf[at]! & 0x0f;
    const masked = (buf[at + 1]! & 0x80) !== 0;
    let len = buf[at + 1]! & 0x7f;
    let off = at + 2;
    if (len === 126) { if (buf.length - off < 2) break; len = buf.readUInt16BE(off); off += 2; }
    const key = masked ? buf.subarray(off, off + 4) : undefined;
    if (masked) off += 4;
    if (buf.length - off < len) break;
    const data = Buffer.from(buf.subarray(off, off + len));
    if (key) for (let i = 0; i < data.length; i++) data[i]! ^= key[i % 4]!;
    frames.push({ opcode, text: data.toString() });
    at = off + len;
  }
  return { frames, rest: buf.subarray(at) };
}

function onFrames(socket: Socket, each: (f: { opcode: number; text: string }) => void, head?: Buffer): void {
  let buf = head ?? Buffer.alloc(0);
  const drain = () => { const r = parse(buf); buf = r.rest; r.frames.forEach(each); };
  socket.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]); drain(); });
  if (buf.length) drain();
}

export interface EchoWsServer {
  port: number;
  url: string;
  /** The upgrade requests it accepted (their headers). */
  upgrades: IncomingMessage['headers'][];
  /** Sends `text` to every open socket. */
  broadcast(text: string): void;
  close(): Promise<void>;
}

/** A WebSocket server answering each text frame with "echo:<text>". */
export async function startEchoWsServer(): Promise<EchoWsServer> {
  const sockets = new Set<Socket>();
  const upgrades: IncomingMessage['headers'][] = [];
  const server: Server = createServer((_req, res) => { res.writeHead(426); res.end(); });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades.push(req.headers);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
    onFrames(socket, (f) => {
      if (f.opcode === 0x8) { socket.end(frame('', false, 0x8)); return; }
      if (f.opcode === 0x1) socket.write(frame(`echo:${f.text}`, false));
    }, head);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port, url: `http://127.0.0.1:${port}`, upgrades,
    broadcast: (text) => { for (const s of sockets) s.write(frame(text, false)); },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

export interface WsClient {
  /** Every text frame received so far. */
  received: string[];
  send(text: string): void;
  /** Resolves with the next text frame not yet taken. */
  next(timeoutMs?: number): Promise<string>;
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

export type UpgradeResult = { ok: true; client: WsClient } | { ok: false; status: number; body: string };

/** Opens a WebSocket to `host:port` + `path` with `headers`; a refused upgrade gives its HTTP status. */
export function openWebSocket(port: number, path: string, headers: Record<string, string> = {}): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const req = request({
      host: '127.0.0.1', port, path, agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key, ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      const expected = createHash('sha1').update(`${key}${GUID}`).digest('base64');
      if (res.headers['sec-websocket-accept'] !== expected) { socket.destroy(); reject(new Error('bad Sec-WebSocket-Accept')); return; }
      const received: string[] = [];
      let taken = 0;
      const waiters: (() => void)[] = [];
      let closed = false;
      const closedP = new Promise<void>((r) => socket.on('close', () => { closed = true; r(); waiters.splice(0).forEach((w) => w()); }));
      socket.on('error', () => undefined);
      onFrames(socket, (f) => { if (f.opcode === 0x1) { received.push(f.text); waiters.splice(0).forEach((w) => w()); } }, head);
      const client: WsClient = {
        received,
        send: (text) => socket.write(frame(text, true)),
        next: (timeoutMs = 5000) => new Promise((res2, rej) => {
          const t = setTimeout(() => rej(new Error('no frame in time')), timeoutMs);
          const check = () => {
            if (taken < received.length) { clearTimeout(t); res2(received[taken++]!); return; }
            if (closed) { clearTimeout(t); rej(new Error('the socket closed')); return; }
            waiters.push(check);
          };
          check();
        }),
        closed: closedP,
        isClosed: () => closed,
        close: () => { socket.end(frame('', true, 0x8)); },
      };
      resolve({ ok: true, client });
    });
    req.on('error', reject);
    req.end();
  });
}
