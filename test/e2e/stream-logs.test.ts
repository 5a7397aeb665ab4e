// Kong's tcp-log, udp-log, syslog and loggly through a real Envoy and the log companion, each to a
// real sink the test starts: a TCP server (plain and TLS) reading JSON lines, a UDP server reading
// JSON datagrams, a syslog receiver reading RFC 5424 messages, a Loggly stand-in reading Kong's
// loggly datagrams. Kong's entry shape, the consumer
// after auth, refused requests with their status, no credential; syslog's severity per status
// class and log_level, its facility in PRI; a TCP sink that is down, then back, gets the
// entries the companion held.
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startLogService, type RunningLog } from '../../src/log/service.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { selfSignedCert } from '../support/certs.js';
import { startDatagramSink } from '../support/datagram-sink.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';
import { proxyRequest } from '../support/proxy-request.js';

type Entry = Record<string, any>;

/** A TCP (or TLS) server collecting newline-terminated texts; `stop` closes it, `start` listens again on the same port. */
async function startLineSink(tls?: { cert: string; key: string }) {
  const lines: string[] = [];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const onSocket = (s: Socket) => {
    sockets.add(s);
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
    });
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  };
  const start = () => new Promise<void>((resolve) => {
    server = tls ? createTlsServer(tls, onSocket) : createTcpServer(onSocket);
    server.listen(port, '127.0.0.1', () => { port = (server!.address() as AddressInfo).port; resolve(); });
  });
  const stop = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server!.close(() => resolve());
  });
  await start();
  return { get port() { return port; }, lines, entries: (): Entry[] => lines.map((l) => JSON.parse(l) as Entry), start, stop };
}

/** A GET through the gateway; its status. */
const send = (gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<number> => proxyRequest(gw, { path, headers }).then((r) => r.status);

const KEY = 'sEcReT-stream-key';

const LOGGLY_TOKEN = 'loggly-customer-token-1';

describe('tcp-log, udp-log, syslog, loggly: Kong entries through the log companion', () => {
  let tcp: Awaited<ReturnType<typeof startLineSink>>;
  let tlsSink: Awaited<ReturnType<typeof startLineSink>>;
  let udp: Awaited<ReturnType<typeof startDatagramSink>>;
  let syslog: Awaited<ReturnType<typeof startDatagramSink>>;
  let loggly: Awaited<ReturnType<typeof startDatagramSink>>;
  let up: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  let authz: TestAuthz;
  let logSvc: RunningLog;
  const byAgent = (entries: Entry[], id: string) => entries.find((e) => e.request?.headers?.['user-agent'] === id);

  before(async () => {
    tcp = await startLineSink();
    tlsSink = await startLineSink(selfSignedCert(['logs.example.test']));
    udp = await startDatagramSink();
    syslog = await startDatagramSink();
    loggly = await startDatagramSink();
    up = await startEchoUpstream('shop');
    const az = await authzForTests();
    const logPort = await freePort();
    const logglyConf = `config: { host: 127.0.0.1, port: ${loggly.port}, key: ${LOGGLY_TOKEN}, tags: [kong, shop], log_level: notice, successful_severity: notice, client_errors_severity: err }`;
    const sys = 'config: { log_level: warning, successful_severity: info, client_errors_severity: warning, server_errors_severity: crit, syslog_facility: LOCAL3 }';
    gw = await startGateway(`_format_version: "3.0"
plugins:
  - name: tcp-log
    config: { host: 127.0.0.1, port: ${tcp.port} }
consumers:
  - username: partner
    keyauth_credentials:
      - key: ${KEY}
services:
  - name: shop
    url: ${up.url}
    routes:
      - name: open
        paths: [/open]
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
      - name: udp
        paths: [/udp]
        plugins:
          - name: udp-log
            config: { host: 127.0.0.1, port: ${udp.port} }
      - name: secure
        paths: [/secure]
        plugins:
          - name: tcp-log
            config: { host: 127.0.0.1, port: ${tlsSink.port}, tls: true, tls_sni: logs.example.test }
      - name: sys-ok
        paths: [/sys-ok]
        plugins:
          - { name: syslog, ${sys} }
      - name: sys-client
        paths: [/sys-client]
        plugins:
          - { name: syslog, ${sys} }
          - { name: request-termination, config: { status_code: 403 } }
      - name: sys-server
        paths: [/sys-server]
        plugins:
          - { name: syslog, ${sys} }
          - { name: request-termination, config: { status_code: 503 } }
      - name: loggly
        paths: [/loggly]
        plugins:
          - { name: loggly, ${logglyConf} }
      - name: loggly-gone
        paths: [/loggly-gone]
        plugins:
          - { name: loggly, ${logglyConf} }
          - { name: request-termination, config: { status_code: 404 } }
      - name: loggly-quiet
        paths: [/loggly-quiet]
        plugins:
          - name: loggly
            config: { host: 127.0.0.1, port: ${loggly.port}, key: ${LOGGLY_TOKEN}, log_level: warning }
`, { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port }, log: { host: '127.0.0.1', port: logPort } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    logSvc = await startLogService({
      xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: logPort, nodeId: `log-test-${logPort}`,
      syslog: { host: '127.0.0.1', port: syslog.port },
      logger: process.env.FRONTDESK_TEST_LOG ? createLogger(process.env.FRONTDESK_TEST_LOG) : silentLogger(),
    });
    await waitFor(() => logSvc.ready(), 'the log companion to load its sinks', 15_000);
  });
  after(async () => {
    await gw?.stop();
    await logSvc?.stop();
    await authz?.stop();
    await up?.close();
    await tcp?.stop().catch(() => undefined);
    await tlsSink?.stop().catch(() => undefined);
    await udp?.close();
    await syslog?.close();
    await loggly?.close();
  });

  test('tcp-log: one JSON line per request in Kong\'s shape, consumer after auth, refusals logged, no credential', async () => {
    assert.equal(await send(gw, '/open/items?page=2', { 'user-agent': 'tcp-open', authorization: 'Bearer abc.def', cookie: 'session=s3cr3t' }), 200);
    assert.equal(await send(gw, '/keyed/a', { 'user-agent': 'tcp-keyed', apikey: KEY }), 200);
    assert.equal(await send(gw, '/keyed/b', { 'user-agent': 'tcp-denied', apikey: 'wrong' }), 401);
    await waitFor(() => ['tcp-open', 'tcp-keyed', 'tcp-denied'].every((id) => byAgent(tcp.entries(), id)), 'three lines at the TCP sink', 15_000);
    const open = byAgent(tcp.entries(), 'tcp-open')!;
    assert.equal(open.request.method, 'GET');
    assert.equal(open.request.uri, '/open/items');
    assert.equal(open.response.status, 200);
    assert.equal(open.service.name, 'shop');
    assert.equal(open.route.name, 'open');
    assert.equal(open.client_ip, '127.0.0.1');
    assert.equal(open.upstream_uri, '/items');
    assert.equal(byAgent(tcp.entries(), 'tcp-keyed')!.consumer.username, 'partner');
    const denied = byAgent(tcp.entries(), 'tcp-denied')!;
    assert.equal(denied.response.status, 401);
    assert.equal(denied.consumer, undefined);
    const all = tcp.lines.join('\n');
    for (const secret of ['abc.def', 's3cr3t', KEY, 'wrong']) assert.ok(!all.includes(secret), `${secret} never sent`);
  });

  test('tcp-log over TLS, with the route\'s own sink beside the global one', async () => {
    assert.equal(await send(gw, '/secure/x', { 'user-agent': 'tls-1' }), 200);
    await waitFor(() => byAgent(tlsSink.entries(), 'tls-1'), 'the line at the TLS sink', 15_000);
    assert.equal(byAgent(tlsSink.entries(), 'tls-1')!.route.name, 'secure');
    assert.equal(byAgent(tcp.entries(), 'tls-1'), undefined, 'the route\'s plugin replaces the global one');
  });

  test('udp-log: one JSON datagram per request', async () => {
    assert.equal(await send(gw, '/udp/a', { 'user-agent': 'udp-1' }), 200);
    assert.equal(await send(gw, '/udp/b', { 'user-agent': 'udp-2', cookie: 'session=s3cr3t' }), 200);
    await waitFor(() => udp.texts.length >= 2, 'two datagrams', 15_000);
    const entries = udp.texts.map((t) => JSON.parse(t) as Entry);
    assert.deepEqual(entries.map((e) => e.request.headers['user-agent']).sort(), ['udp-1', 'udp-2']);
    assert.equal(entries[0]!.route.name, 'udp');
    assert.ok(!udp.texts.join('').includes('s3cr3t'));
  });

  test('syslog: RFC 5424, the severity of the status class, only at log_level or more severe, the facility in PRI', async () => {
    assert.equal(await send(gw, '/sys-ok', { 'user-agent': 'sys-200' }), 200);
    assert.equal(await send(gw, '/sys-client', { 'user-agent': 'sys-403' }), 403);
    assert.equal(await send(gw, '/sys-server', { 'user-agent': 'sys-503' }), 503);
    const parse = (t: string) => {
      const m = /^<(\d+)>1 (\S+) (\S+) kong (\d+) - - (.*)$/s.exec(t);
      assert.ok(m, `an RFC 5424 message: ${t.slice(0, 80)}`);
      assert.ok(!Number.isNaN(Date.parse(m[2]!)), 'an RFC 3339 timestamp');
      return { pri: Number(m[1]), entry: JSON.parse(m[5]!) as Entry };
    };
    const messages = () => syslog.texts.map(parse);
    const agent = (id: string) => messages().find((p) => p.entry.request.headers['user-agent'] === id);
    await waitFor(() => agent('sys-403') && agent('sys-503'), 'the 403 and the 503 messages', 15_000);
    // LOCAL3 is facility 19: PRI = 19 * 8 + severity (warning 4, crit 2).
    assert.equal(agent('sys-403')!.pri, 19 * 8 + 4);
    assert.equal(agent('sys-503')!.pri, 19 * 8 + 2);
    assert.equal(agent('sys-503')!.entry.route.name, 'sys-server');
    // The 200 is "info", less severe than log_level "warning": never sent.
    assert.equal(agent('sys-200'), undefined);
    assert.deepEqual(messages().map((p) => p.entry.response.status).sort(), [403, 503]);
  });

  test('loggly: Kong\'s syslog datagram to the plugin\'s host, token and tags as structured data, severity by status class', async () => {
    assert.equal(await send(gw, '/loggly-quiet', { 'user-agent': 'loggly-quiet' }), 200);
    assert.equal(await send(gw, '/loggly/ok', { 'user-agent': 'loggly-200' }), 200);
    assert.equal(await send(gw, '/loggly-gone', { 'user-agent': 'loggly-404' }), 404);
    const parse = (t: string) => {
      const m = /^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (\S+) kong - - \[([^@\]]+)@41058 ([^\]]*)\] (.*)$/s.exec(t);
      assert.ok(m, `Kong's loggly message: ${t.slice(0, 100)}`);
      return { pri: Number(m[1]), token: m[4], tags: m[5], entry: JSON.parse(m[6]!) as Entry };
    };
    const agent = (id: string) => loggly.texts.map(parse).find((p) => p.entry.request.headers['user-agent'] === id);
    await waitFor(() => agent('loggly-200') && agent('loggly-404'), 'both messages at the Loggly stand-in', 15_000);
    const ok = agent('loggly-200')!;
    // The user facility (1 * 8) plus notice (5).
    assert.equal(ok.pri, 8 + 5);
    assert.equal(ok.token, LOGGLY_TOKEN);
    assert.equal(ok.tags, 'tag="kong" tag="shop"');
    assert.equal(ok.entry.route.name, 'loggly');
    assert.equal(ok.entry.response.status, 200);
    const gone = agent('loggly-404')!;
    assert.equal(gone.pri, 8 + 3, 'a 4xx at client_errors_severity err (3)');
    assert.equal(gone.entry.response.status, 404);
    // Kong's default successful_severity "info" is less severe than that route's log_level "warning".
    assert.equal(agent('loggly-quiet'), undefined, 'info is below log_level warning: not sent');
    assert.equal(byAgent(syslog.texts.map((t) => JSON.parse(t.slice(t.indexOf('{'))) as Entry), 'loggly-200'), undefined, 'loggly sends to its own host, not the syslog address');
  });

  test('a TCP sink that is down, then back, gets the entries the companion held', async () => {
    await tcp.stop();
    const ids = Array.from({ length: 5 }, (_, i) => `down-${i}`);
    for (const id of ids) assert.equal(await send(gw, '/open/x', { 'user-agent': id }), 200, 'requests are not held by a sink that is down');
    // The companion holds the five (retrying) while the sink is down.
    await waitFor(() => Object.values(logSvc.counts()).some((c) => c.queued >= ids.length), 'the entries held while the sink is down', 15_000);
    await tcp.start();
    await waitFor(() => ids.every((id) => byAgent(tcp.entries(), id)), 'every entry once the sink is back', 20_000);
    assert.deepEqual(Object.values(logSvc.counts()).map((c) => c.droppedFull), Object.values(logSvc.counts()).map(() => 0));
  });
});
