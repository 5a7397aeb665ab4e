// Kong's 504 for a read timeout, every time: with read_timeout equal to write_timeout the
// route's stream idle timeout fires together with the per-try idle timeout, and whichever wins
// the answer must be Kong's JSON, never Envoy's own "stream timeout" text.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';

describe('read timeouts through Envoy', () => {
  let gw: Gateway;
  let silent: Server;
  const sockets = new Set<Socket>();

  before(async () => {
    // An upstream that reads the request and never answers.
    silent = createServer(() => undefined);
    silent.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    gw = await startGateway(`_format_version: "3.0"
services:
  - name: slow
    url: http://127.0.0.1:${port}
    retries: 0
    connect_timeout: 1000
    read_timeout: 200
    write_timeout: 200
    routes:
      - name: slow
        paths: ["/slow"]
`);
  });
  after(async () => {
    await gw?.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent?.close(() => r()));
  });

  test('30 timed-out requests: each is Kong\'s 504 JSON', async () => {
    const answers = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${gw.proxy}/slow`);
      const text = await res.text();
      const key = `${res.status} ${res.headers.get('content-type')} ${text.startsWith('{') ? JSON.stringify(JSON.parse(text)) : text}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
    assert.deepEqual([...answers], [['504 application/json; charset=utf-8 {"message":"The upstream server is timing out"}', 30]]);
  });
});
