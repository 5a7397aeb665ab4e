import { spawn } from 'node:child_process';

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
