import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protoRoot } from '../xds/proto-registry.js';

const FILE = join('proto', 'frontdesk', 'authz', 'v1', 'authz.proto');
let loaded = false;

/**
 * Makes sure the process-wide proto root holds frontdesk.authz.v1 (Consumer, RoutePolicy).
 * The registry loads every file under proto/ itself; this covers a layout where its proto/
 * folder is not found (it looks three folders up, which is right for dist/ but not when the
 * sources run through tsx), by looking for the file upwards from here. Idempotent.
 */
export function ensureAuthzProtos(): void {
  if (loaded) return;
  const root = protoRoot();
  try {
    root.lookupType('frontdesk.authz.v1.Consumer');
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
