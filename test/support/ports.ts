import { closeSync, mkdirSync, openSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Ports are picked below Linux's ephemeral range (32768-60999): a port taken from that range
// (listen on 0) can meanwhile become the source port of some outgoing connection (Envoy's, a
// client's) and then the listen that was meant for it fails with EADDRINUSE.
const LOW = 20_000;
const HIGH = 32_000;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Ports handed out, across the test processes `npm test` runs at once: a file per port in the
 * temp folder, created exclusively, so two processes (or two calls of one) never get the same
 * port between its check and its listen. A reservation older than RESERVED_MS is taken over
 * (its process is done with it, or gone).
 */
const RESERVATIONS = join(tmpdir(), 'frontdesk-test-ports');
const RESERVED_MS = 10 * 60_000;

function reserve(port: number): boolean {
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = join(RESERVATIONS, String(port));
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < RESERVED_MS) return false;
      const now = new Date();
      utimesSync(file, now, now);
      return true;
    } catch {
      return false;
    }
  }
}

/** A port that was free a moment ago on 127.0.0.1, outside the ephemeral range, handed to no other caller recently. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (reserve(port) && await bindable(port)) return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH} after 200 tries`);
}
