import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { isLocalAddress } from '../local-address.js';

export interface AdminHandlers {
  ready(): boolean;
  status(): unknown;
  metrics(): string;
  /** Extra routes a service adds (path → handler). */
  extra?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** Tried first for every request (the Kong Admin API, the dashboard); true when it answered. */
  route?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether a request carries the admin token (Authorization: Bearer, or Kong's Kong-Admin-Token header). */
function hasToken(req: IncomingMessage, want: Buffer): boolean {
  const auth = req.headers.authorization;
  const given = auth?.startsWith('Bearer ') ? auth.slice(7) : req.headers['kong-admin-token'];
  return typeof given === 'string' && timingSafeEqual(digest(given), want);
}

/**
 * The admin HTTP server: /healthz, /readyz, /status (JSON) and /metrics (Prometheus), and
 * whatever `route` serves. Requests have a 10 s budget and 5 s for their headers. Bound beyond
 * loopback with a token, everything but /healthz and /readyz answers 401 to a request without
 * it (Authorization: Bearer, or Kong-Admin-Token); on loopback, `route` decides (the Kong Admin
 * API asks the token for writes).
 */
export function startAdminServer(host: string, port: number, h: AdminHandlers, logger: Logger, token?: string): Promise<{ server: Server; port: number }> {
  const loopback = isLocalAddress(host) && host !== '0.0.0.0' && host !== '::';
  const want = token && !loopback ? digest(token) : undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (want && url.pathname !== '/healthz' && url.pathname !== '/readyz' && !hasToken(req, want)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(401, JSON.stringify({ message: 'the admin token is required' }));
    }
    if (url.pathname !== '/status' && h.route?.(req, res, url)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, JSON.stringify({ message: 'method not allowed' }));
    switch (url.pathname) {
      case '/healthz': return send(200, JSON.stringify({ status: 'ok' }));
      case '/readyz': return h.ready() ? send(200, JSON.stringify({ status: 'ready' })) : send(503, JSON.stringify({ status: 'not ready' }));
      case '/status': return send(200, `${JSON.stringify(h.status(), null, 2)}\n`);
      case '/metrics': return send(200, h.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      default: {
        const extra = h.extra?.[url.pathname];
        if (extra) return extra(req, res);
        return send(404, JSON.stringify({ message: 'not found' }));
      }
    }
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      logger.info({ host, port: bound }, 'admin listening');
      resolve({ server, port: bound });
    });
  });
}
