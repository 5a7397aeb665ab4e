/**
 * The companions' unary gRPC server alone. Prints figures; never fails on them.
 *
 *   node --import tsx bench/grpc-server/run.ts [--seconds 5] [--rounds 2] [--concurrency 50]
 *
 * Two servers, each in its own process with the flags every Frontdesk process runs with
 * (NODE_FLAGS), each answering every call with the same small message and doing nothing else:
 * Frontdesk's (src/grpc-raw.ts serveUnary on src/http2/) and the same server on node:http2 as it
 * was before (bench/support/node-http2-unary.ts, the baseline). Both are loaded in turn by
 * bench/ratelimit/rlsload (Go, grpc-go: RateLimitRequests over one HTTP/2 connection, `-c` calls
 * in flight; built by `sh scripts/bench-prepare.sh ratelimit-peer`), interleaved rounds, same
 * run: calls/s, p50/p99, and the server's CPU µs per call (user + system, /proc/<pid>/stat):
 * what the gRPC layer costs a ratelimit decision or an authz Check before any of their own work.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { CpuMeter, memoryOf } from '../support/proc.js';
import { BENCH_BIN } from '../support/ratelimit-peer.js';
import { figureEmitter, numberFlag, runInfo } from '../support/run-info.js';
import { startNodeService, type Child } from '../support/services.js';
import { machine } from '../support/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const RUN = runInfo();
const SECONDS = Math.max(1, Math.min(numberFlag('seconds', 5), 30));
const ROUNDS = Math.max(1, Math.min(numberFlag('rounds', 2), 10));
const CONCURRENCY = numberFlag('concurrency', 50);
const emit = figureEmitter('grpc-server', RUN, machine());
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

interface Load { calls: number; ok: number; errors: number; decisions_per_s: number; p50_ms: number; p99_ms: number }
function load(port: number, seconds: number): Load {
  const r = spawnSync(join(BENCH_BIN, 'rlsload'), ['-target', `127.0.0.1:${port}`, '-c', String(CONCURRENCY), '-d', `${seconds}s`, '-entries', 'fd_route=r,fd_stage=0,remote_address=10.1.2.3'], { encoding: 'utf8', timeout: 120_000 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try { return JSON.parse(line) as Load; } catch { throw new Error(`rlsload failed: ${r.stderr || line}`); }
}

if (!existsSync(join(BENCH_BIN, 'rlsload'))) {
  emit({ skipped: true, why: 'rlsload not built' }, 'grpc-server: skipped, rlsload not built (sh scripts/bench-prepare.sh ratelimit-peer builds it)');
  process.exit(0);
}
process.stdout.write(`grpc-server · run: ${RUN.command} · commit ${RUN.commit} · load ${RUN.loadAvg1AtStart} at start\n`);
const sides: Array<{ name: string; child: Child }> = [];
try {
  for (const impl of ['node-http2', 'frontdesk']) {
    sides.push({ name: impl, child: await startNodeService(`${impl} server`, join(HERE, 'server-proc.ts'), ['--impl', impl], ROOT, NODE_FLAGS) });
  }
  for (const s of sides) load(s.child.port, 1); // warm-up
  const samples = new Map(sides.map((s) => [s.name, [] as Array<Load & { cpu: number }>]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of sides) {
      const m = new CpuMeter({ server: s.child.proc.pid }).begin();
      const res = load(s.child.port, SECONDS);
      samples.get(s.name)!.push({ ...res, cpu: m.end().perProcess.server! });
    }
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const baseline = avg(samples.get('node-http2')!.map((s) => s.decisions_per_s));
  for (const s of sides) {
    const ss = samples.get(s.name)!;
    const calls = ss.reduce((a, x) => a + x.calls, 0);
    const rate = avg(ss.map((x) => x.decisions_per_s));
    const cpuUs = (ss.reduce((a, x) => a + x.cpu, 0) * 1e6) / Math.max(1, calls);
    const errors = ss.reduce((a, x) => a + x.errors + (x.calls - x.ok), 0);
    const rss = memoryOf(s.child.proc.pid!)?.rssMiB ?? Number.NaN;
    const label = s.name === 'frontdesk' ? 'Frontdesk (src/http2/)' : 'node:http2 (the baseline)';
    emit(
      { server: s.name, calls_per_s: round(rate), ratio_to_baseline: round(rate / baseline, 2), p50_ms: round(avg(ss.map((x) => x.p50_ms)), 2), p99_ms: round(avg(ss.map((x) => x.p99_ms)), 2),
        cpu_us_per_call: round(cpuUs, 1), rss_mib: round(rss, 1), errors, rounds: ss.map((x) => round(x.decisions_per_s)),
        load_generator: `rlsload (Go, grpc-go) -c ${CONCURRENCY} over one connection, ${SECONDS} s, ${ROUNDS} interleaved rounds`, baseline: 'the same server on node:http2, same run', server_flags: NODE_FLAGS.join(' ') },
      `${label}: ${round(rate)} calls/s (${round(rate / baseline, 2)}× node:http2), p50 ${round(avg(ss.map((x) => x.p50_ms)), 2)} ms, p99 ${round(avg(ss.map((x) => x.p99_ms)), 2)} ms; server CPU ${round(cpuUs, 1)} µs/call; RSS ${round(rss, 1)} MiB; load rlsload -c ${CONCURRENCY}, ${ROUNDS} × ${SECONDS} s`,
      errors > 0 ? [`${errors} failed calls`] : [],
    );
  }
} finally {
  for (const s of sides) await s.child.stop();
}
