import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { percentile } from './stats.js';

/**
 * The load generators the benchmarks drive, from Debian's packages: h2load for gRPC unary
 * calls (one pre-encoded request, framed), wrk for HTTP/1.1 through Envoy. Both bounded in time.
 */

export interface H2loadResult { requests: number; failed: number; non2xx: number; rps: number; p50Ms: number; p99Ms: number; seconds: number }

/** Writes a gRPC-framed request (1 byte flags, 4 bytes length, message) for h2load's -d. */
export function writeGrpcFrame(file: string, message: Uint8Array): void {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  writeFileSync(file, frame);
}

/** h2load: 1 thread, 2 connections, 32 streams each, the framed request in `file` posted to `path`. */
export function h2load(port: number, path: string, file: string, seconds: number, logFile?: string): H2loadResult {
  const args = ['-t', '1', '-c', '2', '-m', '32', '-D', String(seconds), '-d', file,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', ...(logFile ? [`--log-file=${logFile}`] : []),
    `http://127.0.0.1:${port}${path}`];
  const out = spawnSync('h2load', args, { encoding: 'utf8', timeout: (seconds + 20) * 1000 }).stdout ?? '';
  const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
  const reqs = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  let p50Ms = Number.NaN;
  let p99Ms = Number.NaN;
  if (logFile) {
    const us = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => Number(l.split('\t')[2])).filter(Number.isFinite).sort((a, b) => a - b);
    p50Ms = percentile(us, 50) / 1000;
    p99Ms = percentile(us, 99) / 1000;
  }
  return {
    requests: Number(reqs?.[3] ?? 0), failed: Number(reqs?.[4] ?? 0) + Number(reqs?.[5] ?? 0),
    non2xx: codes ? Number(codes[2]) + Number(codes[3]) + Number(codes[4]) : 0,
    rps: Number(finished?.[2] ?? 0), seconds: Number(finished?.[1] ?? seconds), p50Ms, p99Ms,
  };
}

export interface WrkResult { rps: number; p99Ms: number; p50Ms: number; requests: number; non2xx: number; errors: number }

/**
 * Many keys from one wrk: each request carries `header` with the next of `values` (cycling),
 * through bench/support/rotate-header.lua. The values are written to `file` first.
 */
export interface RotatingHeader { header: string; values: readonly string[]; file: string }

const ROTATE_SCRIPT = fileURLToPath(new URL('./rotate-header.lua', import.meta.url));

/**
 * wrk: 1 thread, `connections` keep-alive connections, with `--latency` percentiles. A request
 * unanswered after `timeoutS` (wrk's default 2 s) counts as a socket timeout, not in latencies.
 * `script`: a wrk Lua script of the caller's (a method and a body), in place of `rotate`'s.
 */
export function wrk(url: string, seconds: number, connections: number, headers: Record<string, string> = {}, rotate?: RotatingHeader, timeoutS?: number, script?: string): WrkResult {
  if (rotate && !existsSync(rotate.file)) writeFileSync(rotate.file, `${rotate.values.join('\n')}\n`);
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(timeoutS ? ['--timeout', `${timeoutS}s`] : []),
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    ...(rotate ? ['-s', ROTATE_SCRIPT] : script ? ['-s', script] : []), url];
  const env = rotate ? { ...process.env, ROTATE_HEADER: rotate.header, ROTATE_VALUES: rotate.file } : process.env;
  const out = spawnSync('wrk', args, { encoding: 'utf8', env, timeout: (seconds + 20) * 1000 }).stdout ?? '';
  const ms = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? Number.NaN);
  const lat = (p: string) => { const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out); return m ? ms(m[1]!, m[2]!) : Number.NaN; };
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p50Ms: lat('50'), p99Ms: lat('99'),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/** What went wrong in a set of wrk rounds, for the figure's marks (empty when nothing did). */
export function wrkProblems(rs: readonly WrkResult[]): string[] {
  const non2xx = rs.reduce((a, r) => a + r.non2xx, 0);
  const errors = rs.reduce((a, r) => a + r.errors, 0);
  return [
    ...(non2xx ? [`${non2xx} non-2xx responses`] : []),
    ...(errors ? [`${errors} socket errors`] : []),
    ...(rs.some((r) => r.requests === 0) ? ['a round made no request (wrk missing or failing?)'] : []),
  ];
}
