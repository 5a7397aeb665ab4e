import { spawn, type ChildProcess } from 'node:child_process';

export interface Ran { status: number | null; stdout: string; stderr: string }

/**
 * Runs a command to its end without blocking the event loop (spawnSync would: a control
 * plane serving from this test process could not answer the command).
 */
export function runAsync(cmd: string, args: string[], env: Record<string, string | undefined> = process.env, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A server a test started: killed if the test process exits first, its output's last 4 KB kept. */
export interface ServerProcess {
  readonly proc: ChildProcess;
  /** The last 4 KB of its stdout and stderr. */
  output(): string;
  /** Why it is gone, once it could not start or has exited; undefined while it runs. */
  failure(): Error | undefined;
}

const servers = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of servers) child.kill('SIGKILL');
});

/** Spawns `bin` (named `what` in errors) as a server process for a test. */
export function spawnServer(bin: string, args: string[], what: string): ServerProcess {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.add(proc);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let failure: Error | undefined;
  proc.once('error', (err) => {
    failure = new Error(`cannot run ${bin}: ${err.message}`);
  });
  proc.once('exit', (code, signal) => {
    servers.delete(proc);
    failure ??= new Error(`${what} exited (${code ?? signal}) before it was ready:\n${output}`);
  });
  return { proc, output: () => output, failure: () => failure };
}
