/**
 * A static Envoy run under valgrind's callgrind (no cache simulation), for benchmarks that count
 * instructions per request instead of timing them: the count does not depend on what else the
 * machine runs, so variants can be compared on a busy machine. `dump()` returns the instructions
 * Envoy ran since the previous dump (callgrind_control --dump).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findEnvoy } from '../../src/runtime/envoy.js';
import { until } from './net.js';

export interface CallgrindEnvoy {
  adminUrl: string;
  /** Instructions run since the previous dump (the first: since the start). */
  dump(): number;
  stop(): void;
}

/** Why callgrind cannot run here, or undefined when valgrind, callgrind_control and Envoy are found. */
export function callgrindMissing(): string | undefined {
  if (spawnSync('valgrind', ['--version']).status !== 0 || spawnSync('callgrind_control', ['-h']).error) return 'valgrind (callgrind_control) not found';
  return findEnvoy() ? undefined : 'envoy not found';
}

/**
 * Starts Envoy (concurrency 1) under callgrind on `bootstrap` (stats flush pushed past the run, as
 * Envoy's flush every 5 s would land in some intervals and not others), after Envoy's own
 * validation of it (seconds, where a start under valgrind takes minutes).
 */
export async function startCallgrindEnvoy(dir: string, bootstrap: Record<string, unknown>): Promise<CallgrindEnvoy> {
  const envoyBin = findEnvoy();
  if (!envoyBin) throw new Error('envoy not found');
  const bootstrapPath = join(dir, 'bootstrap-callgrind.json');
  const adminPath = join(dir, 'admin-callgrind');
  writeFileSync(bootstrapPath, JSON.stringify({ ...bootstrap, stats_flush_interval: '299s' }));
  const check = spawnSync(envoyBin, ['--mode', 'validate', '-c', bootstrapPath, '--use-dynamic-base-id', '-l', 'error'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`the bootstrap does not validate:\n${check.stdout}${check.stderr}`);
  const out = join(dir, 'callgrind.out');
  const child = spawn('valgrind', ['--tool=callgrind', '--cache-sim=no', `--callgrind-out-file=${out}`, envoyBin,
    '-c', bootstrapPath, '--concurrency', '1', '--use-dynamic-base-id', '--admin-address-path', adminPath, '-l', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = () => { if (!exited) child.kill('SIGKILL'); };
  try {
    const admin = await until('Envoy under valgrind to write its admin address', () => {
      if (exited) throw new Error(`Envoy under valgrind exited:\n${stderr}`);
      return (existsSync(adminPath) && readFileSync(adminPath, 'utf8').trim()) || undefined;
    }, 300_000);
    let dumps = 0;
    return {
      adminUrl: `http://${admin}`,
      dump() {
        spawnSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
        dumps++;
        return Number(/^summary: (\d+)/m.exec(readFileSync(`${out}.${dumps}`, 'utf8'))?.[1] ?? Number.NaN);
      },
      stop,
    };
  } catch (e) {
    stop();
    throw e;
  }
}
