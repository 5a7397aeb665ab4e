import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../project-root.js';

/** The dashboard's files, served as they are from the package (no build step, nothing fetched). */
const UI_DIR = join(PROJECT_ROOT, 'src', 'admin', 'ui');
const FILES: Record<string, { file: string; type: string }> = {
  '/ui': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
/** How often an open event stream looks for a change to send. */
const EVENT_CHECK_MS = 250;
/** A comment line that keeps idle proxies from closing the stream. */
const KEEPALIVE_MS = 15_000;
const MAX_STREAMS = 32;

/**
 * The read-only dashboard at /ui: its files, /ui/data (the JSON it renders) and /ui/events
 * (server-sent events: the same JSON again each time it changes). Strict headers: nothing
 * loads from elsewhere (Content-Security-Policy 'self'), no framing.
 */
export class Dashboard {
  private readonly streams = new Set<ServerResponse>();
  private timer?: NodeJS.Timeout;
  private last = '';
  private lastKeepalive = Date.now();

  constructor(private readonly data: () => unknown) {}

  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (!url.pathname.startsWith('/ui')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const headers = {
      'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    };
    const f = FILES[url.pathname];
    if (f) {
      res.writeHead(200, { ...headers, 'content-type': f.type });
      res.end(readFileSync(join(UI_DIR, f.file)));
      return true;
    }
    if (url.pathname === '/ui/data') {
      res.writeHead(200, { ...headers, 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(this.data()));
      return true;
    }
    if (url.pathname === '/ui/events') {
      if (this.streams.size >= MAX_STREAMS) { res.writeHead(503, headers); res.end(); return true; }
      res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      // Event streams outlive the admin server's request timeout by design.
      req.socket.setTimeout(0);
      res.write(`retry: 1000\ndata: ${JSON.stringify(this.data())}\n\n`);
      this.streams.add(res);
      res.on('close', () => { this.streams.delete(res); if (!this.streams.size) this.stopTimer(); });
      this.timer ??= setInterval(() => this.tick(), EVENT_CHECK_MS);
      return true;
    }
    res.writeHead(404, { ...headers, 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'not found' }));
    return true;
  }

  private tick(): void {
    const now = JSON.stringify(this.data());
    if (now !== this.last) {
      this.last = now;
      for (const s of this.streams) s.write(`data: ${now}\n\n`);
    } else if (Date.now() - this.lastKeepalive > KEEPALIVE_MS) {
      this.lastKeepalive = Date.now();
      for (const s of this.streams) s.write(': keepalive\n\n');
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stopTimer();
    for (const s of this.streams) s.end();
    this.streams.clear();
  }
}
