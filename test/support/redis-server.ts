/**
 * A real redis-server (Debian's package, /usr/bin/redis-server or REDIS_SERVER_BIN) for tests:
 * started on a free loopback port with no persistence, ready when it answers PING, and always
 * stopped by the test that started it (and killed if the test process exits first).
 */
const COMMAND_TIMEOUT_MS = 2_000;

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from './spawn.js';

export interface RedisServerOptions {
  /** Start as a one-node Redis Cluster owning all 16384 slots. */
  cluster?: boolean;
  /** Give up waiting for readiness after this long. Default 10 s. */
  readyTimeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Sends one command over a fresh connection and returns the reply as text. */
  command(...args: string[]): Promise<string>;
  /** SIGKILLs the server (as a crash would) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill) and waits until it answers PING. */
  restart(): Promise<void>;
  /** Stops it for good and removes its working directory. */
  stop(): Promise<void>;
}

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** Starts a redis-server on a free port and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-redis-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1');

  let child: ChildProcess | undefined;
  const launch = async () => {
    const server = spawnServer(BIN, args, 'redis-server');
    child = server.proc;
    await waitFor(
      async () => {
        const failure = server.failure();
        if (failure) throw failure;
        return (await sendCommand(port, ['PING']).catch(() => '')) === 'PONG';
      },
      readyTimeoutMs,
      `redis-server on port ${port} to answer PING`,
    );
  };
  const exit = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await gone;
  };

  await launch();
  if (options.cluster) {
    await sendCommand(port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
    await waitFor(async () => (await sendCommand(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'), readyTimeoutMs, 'cluster_state:ok');
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...cmd: string[]) => sendCommand(port, cmd),
    kill: () => exit('SIGKILL'),
    async restart() {
      await exit('SIGKILL');
      await launch();
      if (options.cluster) {
        await waitFor(async () => (await sendCommand(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'), readyTimeoutMs, 'cluster_state:ok');
      }
    },
    async stop() {
      await exit('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `condition` every 20 ms until it holds; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One RESP command on a fresh connection; the reply's text (simple, error, integer or bulk). */
function sendCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.setTimeout(COMMAND_TIMEOUT_MS, () => socket.destroy(new Error('redis command timed out')));
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const reply = parseReply(data);
      if (reply === undefined) return;
      socket.end();
      if (reply.error) reject(new Error(reply.text));
      else resolve(reply.text);
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

function parseReply(data: Buffer): { text: string; error: boolean } | undefined {
  const eol = data.indexOf('\r\n');
  if (eol < 0) return undefined;
  const line = data.subarray(1, eol).toString();
  switch (String.fromCharCode(data[0] ?? 0)) {
    case '+':
    case ':':
      return { text: line, error: false };
    case '-':
      return { text: line, error: true };
    case '$': {
      const length = Number(line);
      if (length < 0) return { text: '', error: false };
      if (data.length < eol + 2 + length + 2) return undefined;
      return { text: data.subarray(eol + 2, eol + 2 + length).toString(), error: false };
    }
    default:
      return { text: data.toString(), error: false };
  }
}
