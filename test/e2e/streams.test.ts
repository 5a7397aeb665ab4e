// Kong's stream routes through a real Envoy, with real sockets: a tcp route on a tcp listener
// (Kong's stream_listen), and on a tls listener (stream_listen with `ssl`) a tls_passthrough
// route, whose client sees the upstream's own certificate, beside a tls route that the gateway
// ends with its certificate; a server name no route names gets its connection closed.
import assert from 'node:assert/strict';
import { connect as tcpConnect, createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { selfSignedCert, yamlBlock } from '../support/certs.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';

/** Sends one line and reads until the server's answer to it (or the end of the stream). */
function exchange(socket: import('node:net').Socket, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => { got += d; if (got.endsWith('\n')) { resolve(got); socket.end(); } });
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
    socket.write(`${line}\n`);
  });
}

describe('stream routes (tcp, tls, tls_passthrough)', () => {
  let gw: Gateway;
  const servers: Server[] = [];
  let tcpPort: number;
  let tlsPort: number;
  const upstreamCert = selfSignedCert(['pass.example.test']);
  const gatewayCert = selfSignedCert(['term.example.test']);

  const listen = async (server: Server) => {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return (server.address() as AddressInfo).port;
  };

  before(async () => {
    // Each upstream answers a line with its own name in front of it.
    const echo = await listen(createTcpServer((s) => s.on('data', (d) => s.write(`echo:${d.toString()}`))));
    const tlsUpstream = await listen(createTlsServer({ cert: upstreamCert.cert, key: upstreamCert.key }, (s) => s.on('data', (d) => s.write(`upstream-tls:${d.toString()}`))));
    [tcpPort, tlsPort] = [await freePort(), await freePort()];
    gw = await startGateway(`
_format_version: "3.0"
certificates:
  - id: term
    snis: [term.example.test]
    cert: |
${yamlBlock(gatewayCert.cert, 6)}
    key: |
${yamlBlock(gatewayCert.key, 6)}
listeners:
  - { name: proxy, address: 127.0.0.1, port: ${await freePort()} }
  - { name: stream, address: 127.0.0.1, port: ${tcpPort}, protocol: tcp }
  - { name: stream-ssl, address: 127.0.0.1, port: ${tlsPort}, protocol: tls }
services:
  - name: echo
    url: tcp://127.0.0.1:${echo}
    routes:
      - { name: tcp-in, protocols: [tcp], destinations: [{ port: ${tcpPort} }] }
      - { name: tls-in, protocols: [tls], snis: [term.example.test] }
  - name: passed
    url: tcp://127.0.0.1:${tlsUpstream}
    routes:
      - { name: passthrough, protocols: [tls_passthrough], snis: [pass.example.test] }
`);
  });
  after(async () => {
    await gw?.stop();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  test('a tcp route: the bytes reach its service and its answer comes back', async () => {
    const answer = await exchange(tcpConnect(tcpPort, '127.0.0.1'), 'hello');
    assert.equal(answer, 'echo:hello\n');
  });

  test("tls_passthrough: the client's TLS goes through untouched, it sees the upstream's own certificate", async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'pass.example.test', ca: upstreamCert.cert });
    await new Promise<void>((resolve, reject) => { socket.once('secureConnect', () => resolve()); socket.once('error', reject); });
    assert.equal(socket.getPeerCertificate().subject.CN, 'pass.example.test');
    assert.equal(await exchange(socket, 'secret'), 'upstream-tls:secret\n');
  });

  test('a tls route: the gateway ends TLS with its own certificate and sends the bytes to the service', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'term.example.test', ca: gatewayCert.cert });
    await new Promise<void>((resolve, reject) => { socket.once('secureConnect', () => resolve()); socket.once('error', reject); });
    assert.equal(socket.getPeerCertificate().subject.CN, 'term.example.test');
    assert.equal(await exchange(socket, 'plain'), 'echo:plain\n');
  });

  test('a server name no stream route names: the connection is closed', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'nobody.example.test', rejectUnauthorized: false });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', () => resolve('closed'));
      socket.once('close', () => resolve('closed'));
    });
    assert.equal(outcome, 'closed');
  });
});
