import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoReply {
  upstream: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An HTTP/1.1 upstream that answers every request with a JSON echo of it, named so tests can tell
 * upstreams apart. With `kongMock`, two paths of Kong's spec mock upstream are honoured as well:
 * `/status/<code>` answers with that status, `/response-headers?<name>=<value>` adds those headers.
 */
export async function startEchoUpstream(name: string, opts: { kongMock?: boolean } = {}): Promise<{ port: number; url: string; server: Server; requests: EchoReply[]; close(): Promise<void> }> {
  const requests: EchoReply[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply: EchoReply = { upstream: name, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(reply);
      const body = JSON.stringify(reply);
      const url = new URL(req.url ?? '/', 'http://upstream');
      const status = opts.kongMock ? Number(/^\/status\/(\d{3})$/.exec(url.pathname)?.[1] ?? 200) : 200;
      const extra: Record<string, string | string[]> = {};
      // A name given twice is sent as two header lines, as Kong's mock upstream does.
      if (opts.kongMock && url.pathname === '/response-headers') for (const [k, v] of url.searchParams) extra[k] = k in extra ? [...[extra[k]!].flat(), v] : v;
      res.writeHead(status, { ...extra, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port, url: `http://127.0.0.1:${port}`, server, requests,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}
