import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { companionNodeFlags } from '../../src/runtime/node-flags.js';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { transpileTree } from './transpile.js';

/** What a log companion reports of its http-log entries. */
export interface Counts { sent: number; dropped: number; queued: number }

/**
 * A companion in its own process (companion-proc.ts), holding the resources `yaml` compiles
 * to: its control plane serves them over ADS (they are named by their content, so a static
 * Envoy compiled from the same plugins names the same ones). It runs as `frontdesk log` or
 * `frontdesk transform` does: plain JavaScript (a transpiled copy in `dir`, as tsc's dist/; no
 * tsx loader thread) with the companion's Node flags (companionNodeFlags, or `nodeFlags`);
 * `cpuProf`, a folder for its V8 CPU profile.
 */
export async function startCompanionChild(companion: 'log' | 'transform', yaml: string, dir: string, port: number, cpuProf?: string, nodeFlags: readonly string[] = companionNodeFlags(companion)): Promise<{ pid: number; counts(): Promise<Counts>; stop(): Promise<void> }> {
  const configPath = join(dir, `${companion}-companion.yaml`);
  writeFileSync(configPath, yaml);
  const js = join(dir, 'js');
  transpileTree(PROJECT_ROOT, js, ['src', 'bench/support/companion-proc.ts']);
  const proc = spawn(process.execPath, [...nodeFlags, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []), join(js, 'bench', 'support', 'companion-proc.js'), '--companion', companion, '--config', configPath, '--port', String(port)], { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const wait = async <T>(what: string, check: () => T | undefined): Promise<T> => {
    const until = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`the ${companion} companion process exited with ${proc.exitCode}`);
      const v = check();
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await wait(`the ${companion} companion to hold its resources`, () => (out.includes('ready\n') ? true : undefined));
  return {
    pid: proc.pid!,
    async counts() {
      const from = out.length;
      proc.stdin!.write('counts\n');
      return wait('the companion\'s counts', () => {
        const line = out.slice(from).split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as Counts) : undefined;
      });
    },
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null) { resolve(); return; }
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}
