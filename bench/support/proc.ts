import { readFileSync } from 'node:fs';

/** Linux /proc readings for processes a benchmark started (memory, CPU time). */

export interface Memory {
  /** Resident set size now, MiB. */
  rssMiB: number;
  /** Peak resident set size since the process started (VmHWM), MiB. */
  hwmMiB: number;
}

/** VmRSS and VmHWM of a process, or undefined when it is gone. */
export function memoryOf(pid: number): Memory | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return undefined; }
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

let ticksPerSecond = 100;
/** Overrides the clock-tick rate (getconf CLK_TCK; 100 on Linux in practice). */
export function setClockTicks(hz: number): void {
  ticksPerSecond = hz;
}

/** User + system CPU seconds a process has used so far (its threads included), or NaN. */
export function cpuSecondsOf(pid: number): number {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return Number.NaN; }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(11) stime(12)
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Samples a process's RSS every `intervalMs` and keeps the highest value seen. */
export class RssSampler {
  maxRssMiB = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly pid: number, private readonly intervalMs = 50) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): Memory | undefined {
    const m = memoryOf(this.pid);
    if (m && m.rssMiB > this.maxRssMiB) this.maxRssMiB = m.rssMiB;
    return m;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * CPU seconds used by several processes over one interval, each read from /proc/<pid>/stat:
 * the figure "per CPU-second" divides by the total, so every process doing the work counts
 * (the companion, redis-server, both Envoys).
 */
export class CpuMeter {
  private start = new Map<string, number>();

  constructor(private readonly pids: Record<string, number | undefined>) {}

  begin(): this {
    this.start = new Map(Object.entries(this.pids).map(([name, pid]) => [name, pid ? cpuSecondsOf(pid) : Number.NaN]));
    return this;
  }

  /** Seconds per process since begin(), and their total (a process that vanished counts as NaN). */
  end(): { perProcess: Record<string, number>; total: number } {
    const perProcess: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) perProcess[name] = (pid ? cpuSecondsOf(pid) : Number.NaN) - (this.start.get(name) ?? Number.NaN);
    return { perProcess, total: Object.values(perProcess).reduce((a, b) => a + b, 0) };
  }
}
