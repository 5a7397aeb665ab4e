import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * A real headless Chromium (Debian's `chromium`, or CHROMIUM_BIN) driven over the DevTools
 * protocol on --remote-debugging-pipe: JSON messages separated by NUL bytes on file
 * descriptors 3 (to the browser) and 4 (from it). No WebSocket and no driver package needed.
 */
export interface Browser {
  /** Opens a page and returns a function that evaluates an expression in it. */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

export interface Page {
  evaluate<T>(expression: string): Promise<T>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'frontdesk-chromium-'));
  const bin = process.env.CHROMIUM_BIN ?? 'chromium';
  const child: ChildProcess = spawn(bin, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-extensions',
    '--disable-background-networking', '--disable-sync', '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true }); // its own process group: its helpers go with it
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let seq = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let buf = '';
  fromBrowser.on('data', (c: Buffer) => {
    buf += c.toString();
    let nul: number;
    while ((nul = buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nul)) as { id?: number; result?: unknown; error?: { message: string } };
      buf = buf.slice(nul + 1);
      const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
      if (!p) continue;
      pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', () => { for (const p of pending.values()) p.reject(new Error(`chromium exited: ${stderr}`)); pending.clear(); });
  child.once('error', (e) => { for (const p of pending.values()) p.reject(e); pending.clear(); });
  const send = <T = any>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> => new Promise((resolve, reject) => {
    const id = ++seq;
    pending.set(id, { resolve, reject });
    toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
  });
  await send('Browser.getVersion');
  return {
    async open(url) {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url });
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      return {
        async evaluate<T>(expression: string): Promise<T> {
          const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
          if (r.exceptionDetails) throw new Error(r.exceptionDetails.text);
          return r.result.value;
        },
      };
    },
    async close() {
      try { await Promise.race([send('Browser.close'), exited]); } catch { /* already gone */ }
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      // Chromium's helper processes (renderer, network service, crashpad) can outlive the browser
      // and keep writing into the profile's cache: the whole group is stopped before the removal.
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* the group is gone already */ }
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}
