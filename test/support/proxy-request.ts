import { request, type IncomingHttpHeaders } from 'node:http';
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
