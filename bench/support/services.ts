import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, until } from './net.js';

/** Processes the benchmarks start beside Envoy: redis-server, and a companion in its own Node process. */

export interface Child { proc: ChildProcess; port: number; stop(): Promise<void> }

/** SIGTERM, then SIGKILL after 3 s; resolves when the process has exited. */
export function stopper(proc: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
  });
}

/** redis-server on a free loopback port, no persistence, `dir` as its working folder; ready when it answers PING. */
export async function startRedis(dir: string): Promise<Child> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until('redis-server to answer PING', () => new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
    socket.once('data', (d) => { resolve(d.toString().startsWith('+PONG')); socket.end(); });
    socket.write('PING\r\n');
  }));
  return { proc, port, stop: stopper(proc) };
}

/**
 * A companion's service-proc script in its own process, so that its CPU time is its own: a `.ts`
 * one under tsx (`node --import tsx <script> ...args`), a `.js` one (a transpiled copy,
 * bench/support/transpile.ts) as plain JavaScript, the product's shape; ready when it prints
 * `ready <port>`.
 */
export async function startNodeService(what: string, script: string, args: string[], cwd: string, nodeFlags: readonly string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [...nodeFlags, ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script, ...args], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const bound = await until(`the ${what} process to be ready`, () => {
    if (proc.exitCode !== null) throw new Error(`${what} process exited with ${proc.exitCode}`);
    const m = /ready (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  });
  return { proc, port: bound, stop: stopper(proc) };
}
