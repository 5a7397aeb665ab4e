import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { ClientHttp2Session } from 'node:http2';
import type { Gateway } from './gateway.js';

export interface ProxyReply { status: number; headers: IncomingHttpHeaders; text: string }

/** One HTTP/1.1 request through the gateway's proxy port, the answer read whole. */
export function proxyRequest(gw: Gateway, init: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<ProxyReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, method: init.method ?? 'GET', path: init.path, headers: init.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** One HTTP/2 request on an open session (a GET unless `:method` says otherwise), the answer read whole. */
export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const s = session.request(headers);
    let body = '';
    let status = 0;
    let got: IncomingHttpHeaders = {};
    s.on('response', (h) => { status = Number(h[':status']); got = h; });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (body += d));
    s.on('end', () => resolve({ status, body, headers: got }));
    s.on('error', reject);
    s.end();
  });
}
