import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protoRoot } from '../xds/proto-registry.js';

const FILE = join('proto', 'frontdesk', 'ratelimit', 'v1', 'ratelimit.proto');
let loaded = false;

/**
 * Makes sure the process-wide proto root holds frontdesk.ratelimit.v1 (RouteRateLimit). The
 * registry loads every file under proto/ itself, but it looks for that folder three levels
 * above src/xds, which is right for dist/ and wrong when the sources run through tsx; this
 * finds the file by looking upwards from here. Idempotent.
 */
export function ensureRatelimitProtos(): void {
  if (loaded) return;
  const root = protoRoot();
  try {
    root.lookupType('frontdesk.ratelimit.v1.RouteRateLimit');
  } catch {
    let dir = dirname(fileURLToPath(import.meta.url));
    let path: string | undefined;
    for (let i = 0; i < 6 && !path; i++, dir = dirname(dir)) if (existsSync(join(dir, FILE))) path = join(dir, FILE);
    if (!path) throw new Error(`${FILE} not found above ${fileURLToPath(import.meta.url)}`);
    root.loadSync(path, { keepCase: true });
    root.resolveAll();
  }
  loaded = true;
}
