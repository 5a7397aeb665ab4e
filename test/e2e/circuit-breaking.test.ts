// Circuit breaking, outlier detection and retries through a real Envoy fed by Frontdesk:
// Frontdesk's default thresholds let 1,500 requests be in flight to one service at once (Envoy's
// built-in ones stop at 1,024); `circuit_breaker.max_requests: 10` sheds exactly the overflow with
// a Kong-style 503 that Envoy's cluster stats count; the `outlier_detection` extension ejects a
// failing target among three and lets it back after the ejection time; Kong's `retries: 5` gives
// six tries to a request whose tries keep failing, for many requests at once (a retry budget,
// not Envoy's 3 concurrent retries); adaptive_concurrency limits its own service only; Kong's
// passive http_statuses choose what Envoy counts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { constants as h2, createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const MANY = 1500;
const CAPPED = 50;
const CAP = 10;

/**
 * 1,500 connections take a descriptor each in this process (client and upstream side) and two
 * in Envoy (a child: it inherits the limit). Raises the soft limit to the hard one when needed.
 */
function ensureOpenFiles(need: number): void {
  const read = () => {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
    const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
    return { soft: soft === 'unlimited' ? Infinity : Number(soft), hard: hard === 'unlimited' ? Infinity : Number(hard) };
  };
  const { soft, hard } = read();
  if (soft >= need) return;
  if (hard < need) throw new Error(`this test needs ${need} open files; the hard limit is ${hard} (raise it with ulimit -Hn)`);
  spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard === Infinity ? need : hard}:${hard === Infinity ? 'unlimited' : hard}`]);
  if (read().soft < need) throw new Error(`could not raise the open-files limit to ${need} (prlimit failed)`);
}

/** An HTTP/1.1 upstream that holds every answer until `release()`, counting what is in flight. */
async function startHeldUpstream(): Promise<{ port: number; inFlight(): number; received(): number; release(): void; close(): Promise<void> }> {
  const held: ServerResponse[] = [];
  let released = false;
  let received = 0;
  const answer = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"served":true}');
  };
  const server: Server = createServer((req, res) => {
    received++;
    req.resume();
    req.on('end', () => (released ? answer(res) : held.push(res)));
  });
  server.keepAliveTimeout = 60_000;
  server.maxRequestsPerSocket = 0;
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    inFlight: () => held.length,
    received: () => received,
    release() { released = true; for (const res of held.splice(0)) answer(res); },
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** An echo upstream naming itself; answers with the status `status()` gives (500 when it says true, 200 for false). */
async function startTarget(name: string, failing: () => boolean | number): Promise<{ port: number; hits: number; close(): Promise<void> }> {
  const t = { port: 0, hits: 0, close: async () => {} };
  const server = createServer((req, res) => {
    t.hits++;
    req.resume();
    const f = failing();
    const status = typeof f === 'number' ? f : f ? 500 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ upstream: name }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.port = (server.address() as AddressInfo).port;
  t.close = () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  return t;
}

/**
 * An HTTP/2 upstream that refuses (RST_STREAM REFUSED_STREAM) the first `refuse(id)` tries of
 * the request named by its x-request-name header, and serves the next; it counts every try.
 */
async function startFlakyUpstream(refuse: (name: string) => number): Promise<{ port: number; tries: Map<string, number>; close(): Promise<void> }> {
  const tries = new Map<string, number>();
  const server: Http2Server = createH2Server();
  server.on('stream', (stream, headers) => {
    const name = String(headers['x-request-name'] ?? '');
    const n = (tries.get(name) ?? 0) + 1;
    tries.set(name, n);
    stream.on('error', () => {}); // the refusal itself, reported back on this side
    if (n <= refuse(name)) { stream.close(h2.NGHTTP2_REFUSED_STREAM); return; }
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ tries: n }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    tries,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Reply { status: number; text: string; headers: IncomingHttpHeaders }

/** One request on its own connection (no agent), as a separate client would send it. */
function get(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One of Envoy's counters or gauges, read from its admin (`cluster.service_<name>.<stat>`). */
async function stat(gw: Gateway, name: string): Promise<number> {
  const text = await (await fetch(`${gw.envoy.adminUrl}/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`)).text();
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`Envoy has no stat ${name}:\n${text}`);
  return Number(m[1]);
}

describe('circuit breaking, outlier detection and retries', () => {
  let gw: Gateway;
  let slow: Awaited<ReturnType<typeof startHeldUpstream>>;
  let capped: Awaited<ReturnType<typeof startHeldUpstream>>;
  let targets: Awaited<ReturnType<typeof startTarget>>[];
  let flaky: Awaited<ReturnType<typeof startFlakyUpstream>>;
  let adaptive: Awaited<ReturnType<typeof startHeldUpstream>>;
  let bFailing = true;
  let passive: Awaited<ReturnType<typeof startTarget>>[];
  let yStatus = 200;

  before(async () => {
    ensureOpenFiles(4 * MANY + 1000);
    slow = await startHeldUpstream();
    capped = await startHeldUpstream();
    adaptive = await startHeldUpstream();
    targets = await Promise.all(['a', 'b', 'c'].map((n) => startTarget(n, () => n === 'b' && bFailing)));
    passive = await Promise.all(['x', 'y', 'z'].map((n) => startTarget(n, () => (n === 'y' ? yStatus : 200))));
    flaky = await startFlakyUpstream((name) => (name.startsWith('always') ? Infinity : name.startsWith('five') ? 5 : 0));
    gw = await startGateway(`
_format_version: "3.0"
upstreams:
  - name: pool
    outlier_detection:
      consecutive_5xx: 3
      interval: 0.1
      base_ejection_time: 1
      max_ejection_percent: 50
    targets:
${targets.map((t) => `      - target: 127.0.0.1:${t.port}`).join('\n')}
  - name: kong-passive
    healthchecks:
      passive:
        unhealthy:
          http_failures: 2
          http_statuses: [502, 503, 504]
    targets:
${passive.map((t) => `      - target: 127.0.0.1:${t.port}`).join('\n')}
services:
  - name: slow
    url: http://127.0.0.1:${slow.port}
    routes: [{ name: slow, paths: [/slow] }]
  - name: capped
    url: http://127.0.0.1:${capped.port}
    circuit_breaker:
      max_requests: ${CAP}
    routes: [{ name: capped, paths: [/capped] }]
  - name: pooled
    host: pool
    routes: [{ name: pooled, paths: [/pool] }]
  - name: passive
    host: kong-passive
    routes: [{ name: passive, paths: [/passive] }]
  - name: flaky
    url: grpc://127.0.0.1:${flaky.port}
    retries: 5
    routes: [{ name: flaky, paths: [/flaky], protocols: [http, grpc] }]
  - name: adaptive
    url: http://127.0.0.1:${adaptive.port}
    adaptive_concurrency:
      min_concurrency: 2
    routes: [{ name: adaptive, paths: [/adaptive] }]
`);
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([slow?.close(), capped?.close(), adaptive?.close(), flaky?.close(), ...(targets ?? []).map((t) => t.close()), ...(passive ?? []).map((t) => t.close())]);
  });

  test(`with the defaults, ${MANY} concurrent requests are all in flight at the upstream at once and all served`, async () => {
    const replies = Array.from({ length: MANY }, () => get(gw, '/slow/x'));
    // Envoy's built-in thresholds would hold this at 1,024 connections (the rest pending).
    await waitFor(() => slow.inFlight() === MANY, `${MANY} requests in flight at the upstream (now ${slow.inFlight()})`, 90_000, 50);
    slow.release();
    const done = await Promise.all(replies);
    assert.equal(done.filter((r) => r.status === 200).length, MANY, JSON.stringify(done.find((r) => r.status !== 200)));
    assert.equal(await stat(gw, 'cluster.service_slow.upstream_rq_pending_overflow'), 0);
    assert.equal(await stat(gw, 'cluster.service_slow.upstream_rq_active_overflow'), 0);
    assert.equal(await stat(gw, 'cluster.service_slow.upstream_cx_overflow'), 0);
  });

  test(`max_requests: ${CAP} with ${CAPPED} concurrent requests: exactly the overflow gets Kong-style 503 JSON, the rest are served`, async () => {
    gw.cp.shedding.watch(gw.envoy.adminUrl, 2 ** 31 - 1); // as frontdesk start does for its Envoy; the test takes the reads itself
    await gw.cp.shedding.sample(); // the counters before the burst
    const replies = Array.from({ length: CAPPED }, () => get(gw, '/capped/x'));
    const settled: Reply[] = [];
    for (const p of replies) void p.then((r) => settled.push(r));
    // The upstream holds what reaches it; the shed requests are answered meanwhile.
    await waitFor(() => capped.inFlight() === CAP && settled.length === CAPPED - CAP, `${CAP} in flight and ${CAPPED - CAP} shed (now ${capped.inFlight()}, ${settled.length})`, 30_000, 20);
    for (const r of settled) {
      assert.equal(r.status, 503);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const body = JSON.parse(r.text) as { message: string };
      // The body docs/circuit-breaking.md gives for a request shed by a circuit breaker (Envoy's flag UO).
      assert.deepEqual(body, { message: 'The upstream server is overloaded: too many requests in flight' });
    }
    capped.release();
    const done = await Promise.all(replies);
    assert.equal(done.filter((r) => r.status === 200).length, CAP);
    assert.equal(done.filter((r) => r.status === 503).length, CAPPED - CAP);
    assert.equal(capped.received(), CAP, 'no shed request reached the upstream');
    // Envoy counts requests shed at max_requests apart from those shed at max_pending_requests.
    assert.equal(await stat(gw, 'cluster.service_capped.upstream_rq_active_overflow'), CAPPED - CAP);
    assert.equal(await stat(gw, 'cluster.service_capped.upstream_rq_pending_overflow'), 0);
    // /status names the cluster shedding now, with what it shed since the read before the burst.
    await gw.cp.shedding.sample();
    const status = await (await fetch(`${gw.admin}/status`)).json() as { shedding: Array<{ cluster: string; shed: Record<string, number> }> };
    assert.deepEqual(status.shedding.map((s) => [s.cluster, s.shed]), [['service_capped', { upstream_rq_active_overflow: CAPPED - CAP }]]);
    await gw.cp.shedding.sample();
    const later = await (await fetch(`${gw.admin}/status`)).json() as { shedding: unknown[] };
    assert.deepEqual(later.shedding, [], 'no longer shedding once nothing more overflowed');
  });

  test('outlier detection ejects the failing target of three, traffic goes to the other two, and it returns after the ejection time', async () => {
    const [a, b, c] = targets;
    const upstreamOf = async () => {
      const r = await get(gw, '/pool/x');
      return { status: r.status, upstream: (JSON.parse(r.text) as { upstream?: string }).upstream };
    };
    // b answers 500 until three in a row eject it; then 30 requests in a row are served by a and c.
    await waitFor(async () => {
      for (let i = 0; i < 30; i++) {
        const r = await upstreamOf();
        if (r.status !== 200 || r.upstream === 'b') return false;
      }
      return true;
    }, 'b to be ejected', 20_000, 0);
    assert.ok((await stat(gw, 'cluster.service_pooled.outlier_detection.ejections_enforced_consecutive_5xx')) >= 1);
    assert.ok(a!.hits > 0 && c!.hits > 0);
    bFailing = false;
    const before = b!.hits;
    await waitFor(async () => (await upstreamOf()).upstream === 'b', 'b to be back in rotation', 20_000, 20);
    assert.ok(b!.hits > before);
  });

  test('retries: 5 gives a request six tries, for many failing requests at once, as Kong does', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `five-${i}`);
    const done = await Promise.all(names.map((n) => get(gw, '/flaky/x', { 'x-request-name': n })));
    assert.deepEqual(done.map((r) => r.status), names.map(() => 200));
    assert.deepEqual(names.map((n) => flaky.tries.get(n)), names.map(() => 6));
    assert.equal(await stat(gw, 'cluster.service_flaky.upstream_rq_retry_overflow'), 0);

    const failed = await get(gw, '/flaky/x', { 'x-request-name': 'always' });
    assert.equal(flaky.tries.get('always'), 6, '1 try and 5 retries');
    assert.equal(failed.status, 502);
    assert.deepEqual(JSON.parse(failed.text), { message: 'An invalid response was received from the upstream server' });
  });

  test('adaptive_concurrency: while it measures the latency floor it admits min_concurrency requests; the others get Kong-style 503 JSON', async () => {
    // Envoy's gradient controller pins the limit to min_concurrency until it has sampled
    // min_rtt_request_count requests (50 by default): the first window starts at once.
    const replies = Array.from({ length: 10 }, () => get(gw, '/adaptive/x'));
    const settled: Reply[] = [];
    for (const p of replies) void p.then((r) => settled.push(r));
    await waitFor(() => adaptive.inFlight() === 2 && settled.length === 8, `2 in flight and 8 refused (now ${adaptive.inFlight()}, ${settled.length})`, 30_000, 20);
    for (const r of settled) {
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(r.text), { message: 'The upstream server is overloaded: too many requests in flight (concurrency limit reached)' });
    }
    // The limit is this service's: another service's route is served while it is reached.
    assert.equal((await get(gw, '/pool/x')).status, 200);
    adaptive.release();
    assert.deepEqual((await Promise.all(replies)).map((r) => r.status).sort(), [200, 200, 503, 503, 503, 503, 503, 503, 503, 503]);
  });

  test("Kong's passive http_statuses [502, 503, 504]: a target answering 500 stays in rotation, one answering 503 is ejected", async () => {
    const y = passive[1]!;
    const through = async () => (JSON.parse((await get(gw, '/passive/x')).text) as { upstream: string }).upstream;
    yStatus = 500; // not in the list: Kong would not count it, nor does Envoy's gateway-failure counter
    const before = y.hits;
    for (let i = 0; i < 30; i++) await through();
    assert.ok(y.hits - before >= 6, `y still gets its share of 30 requests while answering 500 (got ${y.hits - before})`);
    assert.equal(await stat(gw, 'cluster.service_passive.outlier_detection.ejections_active'), 0);
    yStatus = 503; // listed: two in a row take it out
    await waitFor(async () => (await stat(gw, 'cluster.service_passive.outlier_detection.ejections_active')) === 1 || (await through(), false), 'y to be ejected', 20_000, 0);
    const hits = y.hits;
    for (let i = 0; i < 20; i++) assert.notEqual(await through(), 'y');
    assert.equal(y.hits, hits);
  });
});
