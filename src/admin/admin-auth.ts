import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLocalAddress } from '../local-address.js';

/** The header Kong Enterprise reads the RBAC token from (decK sends it with `--headers`). */
export const ADMIN_TOKEN_HEADER = 'kong-admin-token';

/**
 * Who may write (POST /config, entity writes) and read secrets (GET /config):
 * - a token is configured (`--admin-token` or FRONTDESK_ADMIN_TOKEN): the request must carry
 *   it in Kong-Admin-Token, compared in constant time;
 * - no token: only when the admin server listens on a loopback address (never on 0.0.0.0 or
 *   another interface), so that nobody off the host can rewrite the gateway.
 * Reads of entities (credentials withheld), /status and the dashboard need no token.
 */
export class AdminAuth {
  constructor(private readonly token: string | undefined, private readonly listenHost: string) {}

  /** undefined when allowed; else the status and Kong-style message to answer with. */
  check(req: IncomingMessage): { status: number; message: string } | undefined {
    if (this.token === undefined || this.token === '') {
      const loopback = isLocalAddress(this.listenHost) && this.listenHost !== '0.0.0.0' && this.listenHost !== '::';
      return loopback ? undefined : { status: 403, message: 'writes are refused: the admin API listens beyond loopback and no admin token is configured (set --admin-token or FRONTDESK_ADMIN_TOKEN)' };
    }
    const got = req.headers[ADMIN_TOKEN_HEADER];
    if (typeof got !== 'string' || got === '') return { status: 401, message: 'Unauthorized: the Kong-Admin-Token header is required' };
    const a = Buffer.from(got);
    const b = Buffer.from(this.token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { status: 401, message: 'Invalid credentials. Token or User credentials required' };
    return undefined;
  }
}
