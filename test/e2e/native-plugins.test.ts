// The Kong plugins Envoy enforces natively, through a real Envoy fed by Frontdesk: request-size-
// limiting (413/411 with Kong's bodies, chunked bodies measured), request-termination (route and
// consumer), cors (preflight and actual requests), ip-restriction (from 127.0.0.2), correlation-id
// (kept, generated, echoed), request-/response-transformer headers, basic-auth (Envoy's
// basic_auth behind Kong's credential lookup, passwords out of the config dump); and upstream
// 401/403/413 answers that must pass unchanged.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { consumerId } from '../../src/contracts/authz.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { kongId } from '../../src/kong-ids.js';

interface Seen { method: string; path: string; headers: IncomingHttpHeaders; bytes: number }

/**
 * An upstream that records what reaches it and answers 200 with a JSON echo, or the status in
 * `x-reply-status`; every answer carries `x-powered-by` and `server`, for response-transformer.
 */
async function startUpstream(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => { bytes += c.length; });
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, bytes };
      seen.push(s);
      const status = Number(req.headers['x-reply-status'] ?? 200);
      const body = JSON.stringify(status === 200 ? s : { upstream: status });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-powered-by': 'php', server: 'apache' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

interface Reply { status: number; text: string; json: Record<string, unknown>; headers: IncomingHttpHeaders }

interface Send {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sends the body with Transfer-Encoding: chunked (no Content-Length), in this many writes (4). */
  chunked?: boolean;
  pieces?: number;
  from?: string;
}

/** One HTTP/1.1 request through the proxy (node:http: fetch cannot set Host or the source address). */
function send(gw: Gateway, path: string, o: Send = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined && !o.chunked) headers['content-length'] = Buffer.byteLength(o.body);
    const req = request({
      host: '127.0.0.1', port: gw.proxyPort, path, method: o.method ?? (o.body !== undefined ? 'POST' : 'GET'), headers, agent: false,
      ...(o.from ? { localAddress: o.from } : {}),
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: Record<string, unknown> = {};
        try { json = text ? JSON.parse(text) as Record<string, unknown> : {}; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (o.body !== undefined && o.chunked) {
      // Several writes without a length: node sends them chunked.
      const b = Buffer.from(o.body);
      const step = Math.max(1, Math.ceil(b.length / (o.pieces ?? 4)));
      for (let i = 0; i < b.length; i += step) req.write(b.subarray(i, i + step));
      req.end();
    } else {
      req.end(o.body);
    }
  });
}

const JSON_TYPE = 'application/json; charset=utf-8';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Kong's default generator, uuid#counter: the worker's UUID and its request count. */
const UUID_COUNTER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}#\d+$/;

function config(upstream: string): string {
  return `
_format_version: "3.0"
services:
  - name: app
    url: ${upstream}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: size
        paths: [/size]
        plugins:
          - name: request-size-limiting
            config: { allowed_payload_size: 1, size_unit: kilobytes }
      - name: size-strict
        paths: [/size-strict]
        plugins:
          - name: request-size-limiting
            config: { allowed_payload_size: 10, size_unit: bytes, require_content_length: true }
      - name: ended
        paths: [/ended]
        plugins:
          - name: request-termination
      - name: ended-page
        paths: [/ended-page]
        plugins:
          - name: request-termination
            config: { status_code: 200, body: "<h1>back soon</h1>", content_type: text/html }
      - name: ended-bare
        paths: [/ended-bare]
        plugins:
          - name: request-termination
            config: { status_code: 418 }
      - name: members
        paths: [/members]
        plugins:
          - name: key-auth
      - name: basic
        paths: [/basic]
        plugins:
          - name: basic-auth
            config: { realm: staff }
      - name: basic-hidden
        paths: [/basic-hidden]
        plugins:
          - name: basic-auth
            config: { hide_credentials: true }
      - name: basic-gold
        paths: [/basic-gold]
        plugins:
          - name: basic-auth
          - name: acl
            config: { allow: [gold] }
      - name: cors
        paths: [/cors]
        plugins:
          - name: cors
            config:
              origins: ["https://app.example.com", "https://.*\\\\.example\\\\.org"]
              methods: [GET, POST]
              headers: [Authorization, Content-Type]
              exposed_headers: [X-Total]
              credentials: true
              max_age: 600
      - name: cors-any
        paths: [/cors-any]
        plugins:
          - name: cors
      - name: cors-one
        paths: [/cors-one]
        plugins:
          - name: cors
            config: { origins: ["https://app.example.com"], exposed_headers: [X-Total, X-Page], credentials: true }
      - name: ip-deny
        paths: [/ip-deny]
        plugins:
          - name: ip-restriction
            config: { deny: [127.0.0.2] }
          - name: correlation-id
            config: { echo_downstream: true }
      - name: ip-cors
        paths: [/ip-cors]
        plugins:
          - name: ip-restriction
            config: { deny: [127.0.0.2] }
          - name: cors
            config: { origins: ["https://app.example.com", "https://.*\\\\.example\\\\.org"], credentials: true }
      - name: ip-allow
        paths: [/ip-allow]
        plugins:
          - name: ip-restriction
            config: { allow: [127.0.0.1/32], status: 401, message: "Go away" }
      - name: cid
        paths: [/cid]
        plugins:
          - name: correlation-id
            config: { echo_downstream: true }
      - name: cid-quiet
        paths: [/cid-quiet]
        plugins:
          - name: correlation-id
            config: { header_name: X-Trace, generator: uuid }
      - name: transform
        paths: [/transform]
        plugins:
          - name: request-transformer
            config:
              remove: { headers: [X-Internal-Debug] }
              rename: { headers: ["X-Custom-Auth:Authorization", "X-Same:X-Same", "x-case:X-Case"] }
              replace: { headers: ["X-Mode:replaced", "host:backend.internal"], uri: /rewritten }
              add: { headers: ["X-Request-Source: api-gateway", "X-Existing:not-used"] }
              append: { headers: ["X-Multi:two"] }
          - name: response-transformer
            config:
              remove: { headers: [X-Powered-By, Server] }
              add: { headers: ["X-Served-By:frontdesk"] }
              rename: { headers: ["Content-Type:X-Original-Type"] }
routes:
  - name: maintenance
    paths: [/maintenance]
    plugins:
      - name: request-termination
        config: { status_code: 503, message: "down for maintenance" }
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    plugins:
      - name: request-termination
        config: { status_code: 403, message: "alice is suspended" }
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
    basicauth_credentials: [{ username: bob, password: "bob:secret" }]
  - username: carol
    custom_id: carol-1
    basicauth_credentials: [{ username: carol, password: carol-pw }]
    acls: [{ group: gold }]
`;
}

describe('native plugins through Envoy', () => {
  let up: Awaited<ReturnType<typeof startUpstream>>;
  let gw: Gateway;
  let authz: TestAuthz;
  const hits = () => up.seen.length;

  before(async () => {
    up = await startUpstream();
    const az = await authzForTests();
    gw = await startGateway(config(up.url), { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    await gw.converged();
  });

  after(async () => {
    await authz?.stop();
    await gw?.stop();
    await up?.close();
  });

  describe('request-size-limiting', () => {
    test('a Content-Length over the limit gets Kong\'s 413 before the upstream sees anything', async () => {
      const before = hits();
      const r = await send(gw, '/size', { body: 'x'.repeat(1025) });
      assert.equal(r.status, 413);
      assert.deepEqual(r.json, { message: 'Request size limit exceeded' });
      assert.equal(r.headers['content-type'], JSON_TYPE);
      assert.equal(hits(), before);
    });

    test('a body at the limit (1 KiB = 1024 bytes) passes whole, streamed with its Content-Length', async () => {
      const r = await send(gw, '/size', { body: 'x'.repeat(1024) });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.bytes, 1024);
      assert.equal((r.json.headers as IncomingHttpHeaders)['content-length'], '1024');
    });

    test('a chunked body over the limit is measured (buffered up to the limit) and refused with Kong\'s 413', async () => {
      const before = hits();
      const r = await send(gw, '/size', { body: 'y'.repeat(5000), chunked: true });
      assert.equal(r.status, 413);
      assert.deepEqual(r.json, { message: 'Request size limit exceeded' });
      assert.equal(hits(), before);
    });

    test('a chunked body that arrives in one piece with its end is measured too (the buffer writes its length, the check after it refuses)', async () => {
      const r = await send(gw, '/size', { body: 'w'.repeat(3000), chunked: true, pieces: 1 });
      assert.equal(r.status, 413);
      assert.deepEqual(r.json, { message: 'Request size limit exceeded' });
    });

    test('a chunked body within the limit reaches the upstream whole', async () => {
      const r = await send(gw, '/size', { body: 'z'.repeat(700), chunked: true });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.bytes, 700);
    });

    test('require_content_length: no Content-Length (a GET, or a chunked body) gets Kong\'s 411', async () => {
      for (const o of [{}, { body: 'abc', chunked: true }] as Send[]) {
        const r = await send(gw, '/size-strict', o);
        assert.equal(r.status, 411, JSON.stringify(o));
        assert.deepEqual(r.json, { message: 'A valid Content-Length header is required' });
        assert.equal(r.headers['content-type'], JSON_TYPE);
      }
      assert.equal((await send(gw, '/size-strict', { body: '0123456789' })).status, 200);
      assert.equal((await send(gw, '/size-strict', { body: '0123456789A' })).status, 413);
    });

    test('over HTTP/2: a declared length over the limit, and an undeclared body over it, both get Kong\'s 413', async () => {
      const session = connect(gw.proxy);
      const post = (body: Buffer, declare: boolean) => new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/size', ':method': 'POST', ...(declare ? { 'content-length': String(body.length) } : {}) });
        let status = 0;
        let text = '';
        req.on('response', (h) => { status = Number(h[':status']); });
        req.setEncoding('utf8');
        req.on('data', (d) => (text += d));
        req.on('end', () => resolve({ status, text }));
        req.on('error', reject);
        req.end(body);
      });
      try {
        for (const declare of [true, false]) {
          const big = await post(Buffer.alloc(3000, 'a'), declare);
          assert.equal(big.status, 413, `declared: ${declare}`);
          assert.deepEqual(JSON.parse(big.text), { message: 'Request size limit exceeded' });
          const small = await post(Buffer.alloc(900, 'b'), declare);
          assert.equal(small.status, 200, `declared: ${declare}`);
          assert.equal((JSON.parse(small.text) as Seen).bytes, 900);
        }
      } finally {
        session.close();
      }
    });

    test('the upstream\'s own 413 and 403 pass unchanged', async () => {
      for (const status of [413, 403]) {
        const r = await send(gw, '/size', { body: 'small', headers: { 'x-reply-status': String(status) } });
        assert.equal(r.status, status);
        assert.deepEqual(r.json, { upstream: status });
        assert.equal(r.headers['content-type'], 'application/json');
      }
    });
  });

  describe('basic-auth (Envoy\'s basic_auth)', () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    const upstreamHeaders = (r: Reply) => (r.json as unknown as Seen).headers;

    test('the passwords stay out of Envoy\'s config dump: basic_auth\'s users are a sensitive field', async () => {
      const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump`)).text();
      assert.ok(dump.includes('type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuth'), 'basic_auth is in the listener');
      assert.ok(dump.includes('x-frontdesk-basic-user'), 'its other fields are shown');
      assert.match(dump, /"users": \{\s*"inline_string": "\[redacted\]"/, 'its users are redacted');
      assert.ok(!dump.includes('{SHA}'), 'no htpasswd line in the dump');
      assert.ok(!dump.includes('carol-pw') && !dump.includes('bob:secret'), 'no password in the dump');
    });

    test('a right password reaches the upstream with Kong\'s consumer headers and the client\'s Authorization', async () => {
      const r = await send(gw, '/basic', { headers: { authorization: basic('carol:carol-pw') } });
      assert.equal(r.status, 200, r.text);
      const h = upstreamHeaders(r);
      assert.equal(h['x-consumer-username'], 'carol');
      assert.equal(h['x-consumer-custom-id'], 'carol-1');
      assert.equal(h['x-consumer-id'], consumerId({ id: kongId('consumers', 'carol'), key: 'carol' }));
      assert.equal(h['x-credential-identifier'], 'carol');
      assert.equal(h.authorization, basic('carol:carol-pw'));
      assert.equal(h['x-frontdesk-basic-user'], undefined);
      assert.equal(h['x-frontdesk-basic-authorization'], undefined);
    });

    test('Kong\'s reading of the header: a lower-case scheme, no space after it, a password with ":"', async () => {
      assert.equal((await send(gw, '/basic', { headers: { authorization: `basic ${Buffer.from('carol:carol-pw').toString('base64')}` } })).status, 200);
      assert.equal((await send(gw, '/basic', { headers: { authorization: `Basic${Buffer.from('carol:carol-pw').toString('base64')}` } })).status, 200);
      const r = await send(gw, '/basic', { headers: { authorization: basic('bob:bob:secret') } });
      assert.equal(r.status, 200, r.text);
      assert.equal(upstreamHeaders(r)['x-consumer-username'], 'bob');
    });

    test('a wrong password, an unknown user or no credentials: Kong\'s 401 with the realm', async () => {
      const refused: Record<string, string>[] = [{ authorization: basic('carol:wrong') }, { authorization: basic('dave:carol-pw') }, {}, { authorization: 'Bearer x' }];
      for (const headers of refused) {
        const r = await send(gw, '/basic', { headers });
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.deepEqual(r.json, { message: 'Unauthorized' });
        assert.equal(r.headers['content-type'], JSON_TYPE);
        assert.equal(r.headers['www-authenticate'], 'Basic realm="staff"');
      }
    });

    test('a user named in Proxy-Authorization decides: its wrong password is final, an unknown one falls back to Authorization', async () => {
      assert.equal((await send(gw, '/basic', { headers: { 'proxy-authorization': basic('carol:wrong'), authorization: basic('carol:carol-pw') } })).status, 401);
      const r = await send(gw, '/basic', { headers: { 'proxy-authorization': basic('nobody:x'), authorization: basic('carol:carol-pw') } });
      assert.equal(r.status, 200, r.text);
      const p = await send(gw, '/basic', { headers: { 'proxy-authorization': basic('carol:carol-pw') } });
      assert.equal(p.status, 200, p.text);
      assert.equal(upstreamHeaders(p).authorization, undefined, 'no Authorization made up for the upstream');
      assert.equal(upstreamHeaders(p)['proxy-authorization'], basic('carol:carol-pw'));
    });

    test('hide_credentials: the headers read are removed upstream', async () => {
      const r = await send(gw, '/basic-hidden', { headers: { authorization: basic('carol:carol-pw') } });
      assert.equal(r.status, 200, r.text);
      assert.equal(upstreamHeaders(r).authorization, undefined);
      const p = await send(gw, '/basic-hidden', { headers: { 'proxy-authorization': basic('carol:carol-pw'), authorization: 'keep-me' } });
      assert.equal(p.status, 200, p.text);
      assert.equal(upstreamHeaders(p)['proxy-authorization'], undefined);
      assert.equal(upstreamHeaders(p).authorization, 'keep-me', 'Authorization was not read: Kong leaves it');
    });

    test('a client cannot name the user itself: the handover headers it sends are dropped', async () => {
      const forged = { 'x-frontdesk-basic-user': 'carol', 'x-frontdesk-basic-authorization': '=x' };
      assert.equal((await send(gw, '/basic', { headers: forged })).status, 401);
      assert.equal((await send(gw, '/basic', { headers: { ...forged, authorization: basic('carol:wrong') } })).status, 401);
      const r = await send(gw, '/basic', { headers: { ...forged, authorization: basic('bob:bob:secret') } });
      assert.equal(r.status, 200, r.text);
      assert.equal(upstreamHeaders(r)['x-consumer-username'], 'bob');
    });

    test('acl after basic-auth: a member passes with X-Consumer-Groups, another consumer gets Kong\'s 403', async () => {
      const ok = await send(gw, '/basic-gold', { headers: { authorization: basic('carol:carol-pw') } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(upstreamHeaders(ok)['x-consumer-groups'], 'gold');
      const no = await send(gw, '/basic-gold', { headers: { authorization: basic('bob:bob:secret') } });
      assert.equal(no.status, 403);
      assert.deepEqual(no.json, { message: 'You cannot consume this service' });
    });

    test('the upstream\'s own 401 passes unchanged', async () => {
      const r = await send(gw, '/basic', { headers: { authorization: basic('carol:carol-pw'), 'x-reply-status': '401' } });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { upstream: 401 });
      assert.equal(r.headers['www-authenticate'], undefined);
    });
  });

  describe('request-termination', () => {
    test('the default: 503 {"message":"Service unavailable"}, nothing proxied', async () => {
      const before = hits();
      const r = await send(gw, '/ended');
      assert.equal(r.status, 503);
      assert.deepEqual(r.json, { message: 'Service unavailable' });
      assert.equal(r.headers['content-type'], JSON_TYPE);
      assert.equal(hits(), before);
    });

    test('on a route with no service (a maintenance route), it answers instead of the 503 for no service', async () => {
      const r = await send(gw, '/maintenance');
      assert.equal(r.status, 503);
      assert.deepEqual(r.json, { message: 'down for maintenance' });
    });

    test('a raw body with its content type', async () => {
      const r = await send(gw, '/ended-page');
      assert.equal(r.status, 200);
      assert.equal(r.text, '<h1>back soon</h1>');
      assert.equal(r.headers['content-type'], 'text/html');
    });

    test('a status with no default message has no body', async () => {
      const r = await send(gw, '/ended-bare');
      assert.equal(r.status, 418);
      assert.equal(r.text, '');
    });

    test('scoped to a consumer: that consumer is terminated after authentication, others pass', async () => {
      const alice = await send(gw, '/members', { headers: { apikey: 'alice-key' } });
      assert.equal(alice.status, 403);
      assert.deepEqual(alice.json, { message: 'alice is suspended' });
      assert.equal(alice.headers['content-type'], JSON_TYPE);
      const bob = await send(gw, '/members', { headers: { apikey: 'bob-key' } });
      assert.equal(bob.status, 200, bob.text);
      assert.equal((bob.json.headers as IncomingHttpHeaders)['x-consumer-username'], 'bob');
      const nobody = await send(gw, '/members');
      assert.equal(nobody.status, 401, 'authentication runs first');
      const forged = await send(gw, '/members', { headers: { apikey: 'bob-key', 'x-consumer-id': kongId('consumers', 'alice') } });
      assert.equal(forged.status, 200, 'a client-sent x-consumer-id is replaced by authz');
    });
  });

  describe('cors', () => {
    test('a preflight from an allowed origin is answered by the gateway with Kong\'s headers', async () => {
      const before = hits();
      const r = await send(gw, '/cors', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      assert.equal(r.status, 200);
      assert.equal(r.text, '');
      assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
      assert.equal(r.headers['access-control-allow-headers'], 'Authorization,Content-Type');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.equal(r.headers['access-control-max-age'], '600');
      assert.match(String(r.headers.vary), /Origin/);
      assert.equal(hits(), before);
    });

    test('a regex origin matches a subdomain; a foreign origin\'s preflight gets 200 without Allow-Origin', async () => {
      const ok = await send(gw, '/cors', { method: 'OPTIONS', headers: { origin: 'https://shop.example.org', 'access-control-request-method': 'GET' } });
      assert.equal(ok.headers['access-control-allow-origin'], 'https://shop.example.org');
      const bad = await send(gw, '/cors', { method: 'OPTIONS', headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' } });
      assert.equal(bad.status, 200);
      assert.equal(bad.headers['access-control-allow-origin'], undefined);
    });

    test('an actual request reaches the upstream and gets Allow-Origin, credentials and exposed headers', async () => {
      const r = await send(gw, '/cors', { headers: { origin: 'https://app.example.com' } });
      assert.equal(r.status, 200);
      assert.equal(r.json.method, 'GET');
      assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.equal(r.headers['access-control-expose-headers'], 'X-Total');
    });

    test('a request without Origin still gets the configured origin, exposed headers, credentials and Vary (Kong\'s header_filter)', async () => {
      // The preflight answer: Kong's origin and credentials.
      const pre = await send(gw, '/cors-one', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' } });
      assert.equal(pre.status, 200);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(pre.headers['access-control-allow-credentials'], 'true');
      const r = await send(gw, '/cors-one');
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(r.headers['access-control-expose-headers'], 'X-Total,X-Page');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.match(String(r.headers.vary), /Origin/);
      // With an Origin that matches, the same headers, each once.
      const o = await send(gw, '/cors-one', { headers: { origin: 'https://app.example.com' } });
      assert.equal(o.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(o.headers['access-control-expose-headers'], 'X-Total,X-Page');
      assert.equal(o.headers['access-control-allow-credentials'], 'true');
    });

    test('Kong\'s defaults: Allow-Origin * on every response, all methods, requested headers echoed', async () => {
      const plain = await send(gw, '/cors-any');
      assert.equal(plain.headers['access-control-allow-origin'], '*');
      const pre = await send(gw, '/cors-any', { method: 'OPTIONS', headers: { origin: 'https://x.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-one,x-two' } });
      assert.equal(pre.status, 200);
      assert.equal(pre.headers['access-control-allow-origin'], '*');
      assert.equal(pre.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT');
      assert.equal(pre.headers['access-control-allow-headers'], 'x-one,x-two');
    });
  });

  describe('ip-restriction', () => {
    test('a denied address gets Kong\'s 403 and body; others pass', async () => {
      const before = hits();
      const r = await send(gw, '/ip-deny', { from: '127.0.0.2' });
      assert.equal(r.status, 403);
      assert.deepEqual(r.json, { message: 'IP address not allowed: 127.0.0.2' }); // Kong 3.4+'s default names the client
      assert.equal(r.headers['content-type'], JSON_TYPE);
      assert.match(String(r.headers['kong-request-id']), UUID_COUNTER, 'correlation-id echoes on the refusal too');
      assert.equal(hits(), before);
      assert.equal((await send(gw, '/ip-deny', { from: '127.0.0.1' })).status, 200);
    });

    test('Kong\'s answer carries the CORS headers of the route, Allow-Origin only for an allowed origin', async () => {
      const ok = await send(gw, '/ip-cors', { from: '127.0.0.2', headers: { origin: 'https://www.example.org' } });
      assert.equal(ok.status, 403);
      assert.deepEqual(ok.json, { message: 'IP address not allowed: 127.0.0.2' });
      assert.equal(ok.headers['access-control-allow-origin'], 'https://www.example.org');
      assert.equal(ok.headers['access-control-allow-credentials'], 'true');
      assert.match(String(ok.headers.vary), /Origin/);
      const foreign = await send(gw, '/ip-cors', { from: '127.0.0.2', headers: { origin: 'https://evil.test' } });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    });

    test('an allow list with a custom status and message', async () => {
      const r = await send(gw, '/ip-allow', { from: '127.0.0.2' });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { message: 'Go away' });
      assert.equal((await send(gw, '/ip-allow')).status, 200);
    });

    test('an upstream\'s own 403 to an allowed address passes unchanged', async () => {
      const r = await send(gw, '/ip-allow', { headers: { 'x-reply-status': '403' } });
      assert.equal(r.status, 403);
      assert.deepEqual(r.json, { upstream: 403 });
    });
  });

  describe('correlation-id', () => {
    test('a generated id goes upstream and is echoed', async () => {
      const r = await send(gw, '/cid');
      const sent = (r.json.headers as IncomingHttpHeaders)['kong-request-id'];
      assert.match(String(sent), UUID_COUNTER);
      assert.equal(r.headers['kong-request-id'], sent);
      const again = await send(gw, '/cid');
      assert.notEqual(again.headers['kong-request-id'], sent, 'one id per request');
    });

    test('the client\'s id is kept', async () => {
      const r = await send(gw, '/cid', { headers: { 'kong-request-id': 'from-client-1' } });
      assert.equal((r.json.headers as IncomingHttpHeaders)['kong-request-id'], 'from-client-1');
      assert.equal(r.headers['kong-request-id'], 'from-client-1');
    });

    test('without echo_downstream the id only goes upstream, under header_name', async () => {
      const r = await send(gw, '/cid-quiet');
      assert.match(String((r.json.headers as IncomingHttpHeaders)['x-trace']), UUID);
      assert.equal(r.headers['x-trace'], undefined);
    });
  });

  describe('request-transformer and response-transformer (headers)', () => {
    test('the upstream sees the request headers transformed in Kong\'s order, the new path and Host', async () => {
      const r = await send(gw, '/transform/x?q=1', {
        headers: { 'x-internal-debug': '1', 'x-custom-auth': 'Bearer t', 'x-mode': 'orig', 'x-existing': 'kept', 'x-multi': 'one', 'x-same': 's', 'x-case': 'c' },
      });
      assert.equal(r.status, 200, r.text);
      const seen = up.seen.at(-1)!;
      assert.equal(seen.path, '/rewritten?q=1');
      assert.equal(seen.headers.host, 'backend.internal');
      assert.equal(seen.headers['x-internal-debug'], undefined);
      assert.equal(seen.headers['x-custom-auth'], undefined);
      assert.equal(seen.headers.authorization, 'Bearer t');
      assert.equal(seen.headers['x-mode'], 'replaced');
      assert.equal(seen.headers['x-request-source'], 'api-gateway');
      assert.equal(seen.headers['x-existing'], 'kept');
      assert.equal(seen.headers['x-multi'], 'one, two');
      // A rename to the same name, or to the same name in other letters' case, keeps the header (Kong's handler skips it).
      assert.equal(seen.headers['x-same'], 's');
      assert.equal(seen.headers['x-case'], 'c');
    });

    test('replace leaves an absent header absent', async () => {
      await send(gw, '/transform');
      assert.equal(up.seen.at(-1)!.headers['x-mode'], undefined);
    });

    test('the client sees the response headers transformed', async () => {
      const r = await send(gw, '/transform');
      assert.equal(r.headers['x-powered-by'], undefined);
      assert.equal(r.headers.server, undefined);
      assert.equal(r.headers['x-served-by'], 'frontdesk');
      assert.equal(r.headers['content-type'], undefined);
      assert.equal(r.headers['x-original-type'], 'application/json');
    });
  });

  test('a live edit changes a limit without a restart', async () => {
    await gw.edit(config(up.url).replace('allowed_payload_size: 1, size_unit: kilobytes', 'allowed_payload_size: 2, size_unit: kilobytes'));
    await waitFor(async () => (await send(gw, '/size', { body: 'x'.repeat(2000) })).status === 200, 'the new limit');
    assert.equal((await send(gw, '/size', { body: 'x'.repeat(2049) })).status, 413);
  });
});
