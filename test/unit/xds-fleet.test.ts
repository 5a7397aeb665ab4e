// Serving a fleet: many streams of one fleet get the same resources from responses built once
// (each stream with its own nonce), keep their own ACK state for make-before-break, and the
// bytes being written to slow clients stay within a budget.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { AdsServer } from '../../src/xds/ads-server.js';
import { messageType } from '../../src/xds/proto-registry.js';
import { Session, type SessionEvents } from '../../src/xds/session.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
import { framedResponse, responseBytes, type Response } from '../../src/xds/wire.js';
import { StreamWriter, WriteBudget } from '../../src/xds/write-queue.js';
import { RawAdsStream, type DeltaResponse, type SotwResponse } from '../support/raw-ads.js';
import { waitFor } from '../support/wait.js';
import { plainRouteConfigName } from '../support/route-configs.js';

/** The route configuration every listener of these plugin-less configs names. */
const RDS = plainRouteConfigName();

function snapshot(services: Record<string, string[]>, previous?: Snapshot): Snapshot {
  const yaml = ['_format_version: "3.0"', 'services:'];
  let port = 9001;
  for (const [name, paths] of Object.entries(services)) {
    yaml.push(`  - name: ${name}`, `    url: http://127.0.0.1:${port++}`, '    routes:');
    paths.forEach((p, i) => yaml.push(`      - name: ${name}-r${i}`, `        paths: [${p}]`));
  }
  const r = compileConfig([{ file: 'test.yaml', text: yaml.join('\n') }]);
  assert.ok(r.ok, r.diagnostics.map((d) => d.message).join('\n'));
  return buildSnapshot(r.translation!, Date.now(), previous);
}

const sotwName = (x: unknown) => (x as { name?: string; cluster_name?: string }).name ?? (x as { cluster_name: string }).cluster_name;
const paths = (rds: unknown): string[] => ((rds as { virtual_hosts: { routes: { match: { path?: string; prefix?: string; safe_regex?: { regex: string } } }[] }[] }).virtual_hosts
  .flatMap((v) => v.routes.map((r) => r.match.path ?? r.match.prefix ?? r.match.safe_regex?.regex ?? '')));

/** Whether alpha's routes (its paths start with /a) match `path` and no longer the old /a. */
const routesTo = (ps: string[], path: string) => ps.some((p) => p.startsWith(path)) && ps.filter((p) => p.startsWith('/a')).every((p) => p.startsWith(path));

/** A SotW stream through its first fetch, as Envoy does it; returns the responses. */
async function sotwFirstFetch(s: RawAdsStream<SotwResponse>, id: string): Promise<Record<'cds' | 'eds' | 'lds' | 'rds', SotwResponse>> {
  s.send({ node: { id, cluster: 'frontdesk' }, type_url: TYPE.cluster });
  s.send({ type_url: TYPE.listener });
  const cds = await s.next();
  const clusters = cds.resources.map(sotwName).sort();
  s.send({ type_url: TYPE.cluster, version_info: cds.version_info, response_nonce: cds.nonce });
  s.send({ type_url: TYPE.endpoint, resource_names: clusters });
  const eds = await s.next();
  s.send({ type_url: TYPE.endpoint, version_info: eds.version_info, response_nonce: eds.nonce, resource_names: clusters });
  const lds = await s.next();
  s.send({ type_url: TYPE.listener, version_info: lds.version_info, response_nonce: lds.nonce });
  s.send({ type_url: TYPE.route, resource_names: [RDS] });
  const rds = await s.next();
  s.send({ type_url: TYPE.route, version_info: rds.version_info, response_nonce: rds.nonce, resource_names: [RDS] });
  return { cds, eds, lds, rds };
}

async function deltaFirstFetch(s: RawAdsStream<DeltaResponse>, id: string): Promise<void> {
  s.send({ node: { id, cluster: 'frontdesk' }, type_url: TYPE.cluster });
  const cds = await s.next();
  s.send({ type_url: TYPE.cluster, response_nonce: cds.nonce });
  s.send({ type_url: TYPE.endpoint, resource_names_subscribe: cds.resources.map((r) => r.name) });
  const eds = await s.next();
  s.send({ type_url: TYPE.endpoint, response_nonce: eds.nonce });
  s.send({ type_url: TYPE.listener });
  const lds = await s.next();
  s.send({ type_url: TYPE.listener, response_nonce: lds.nonce });
  s.send({ type_url: TYPE.route, resource_names_subscribe: [RDS] });
  const rds = await s.next();
  s.send({ type_url: TYPE.route, response_nonce: rds.nonce });
}

describe('one fleet, many streams', () => {
  let server: AdsServer;
  let port: number;
  const v1 = snapshot({ alpha: ['/a'], beta: ['/b'] });

  before(async () => {
    server = new AdsServer(silentLogger());
    port = await server.listen('127.0.0.1', 0);
    server.setSnapshot(v1);
  });
  after(() => server.close());

  test('an edit reaches every SotW and delta stream, from one message per fleet', async () => {
    const sotw = Array.from({ length: 12 }, () => new RawAdsStream<SotwResponse>(port, 'sotw'));
    const delta = Array.from({ length: 12 }, () => new RawAdsStream<DeltaResponse>(port, 'delta'));
    await Promise.all([...sotw.map((s, i) => sotwFirstFetch(s, `sotw-${i}`)), ...delta.map((s, i) => deltaFirstFetch(s, `delta-${i}`))]);
    const converged = new Set<string>();
    const v2 = snapshot({ alpha: ['/a2'], beta: ['/b'] }, v1);
    const onConverged = (nodeId: string, version: string) => { if (version === v2.version) converged.add(nodeId); };
    server.on('converged', onConverged);
    server.setSnapshot(v2);
    const sotwRds = await Promise.all(sotw.map((s) => s.next()));
    const deltaRds = await Promise.all(delta.map((s) => s.next()));
    for (const r of sotwRds) {
      assert.equal(r.type_url, TYPE.route, 'a route edit sends route configurations only');
      assert.ok(routesTo(paths(r.resources[0]), '/a2'), 'the new path is routed, the old one not');
      assert.equal(r.version_info, sotwRds[0]!.version_info, 'every node of the fleet is sent the same version');
    }
    for (const r of deltaRds) {
      assert.equal(r.type_url, TYPE.route);
      assert.deepEqual(r.resources.map((x) => x.name), [RDS], 'delta: only the changed route configuration');
      assert.ok(routesTo(paths(r.resources[0]!.resource), '/a2'));
    }
    assert.equal(new Set(sotwRds.map((r) => r.nonce)).size, 1, 'SotW streams sent the same route configuration get the very same message');
    assert.deepEqual(server.writes.copyingStreams, 0, 'every stream writes the shared bytes as they are (no copy per stream)');
    sotwRds.forEach((r, i) => sotw[i]!.send({ type_url: TYPE.route, version_info: r.version_info, response_nonce: r.nonce, resource_names: [RDS] }));
    deltaRds.forEach((r, i) => delta[i]!.send({ type_url: TYPE.route, response_nonce: r.nonce }));
    await waitFor(() => converged.size === 24, 'every node to hold the new version');
    server.off('converged', onConverged);
    for (const s of [...sotw, ...delta]) s.close();
  });

  test('make before break follows each stream\'s own state: a node that never had a cluster is not sent it', async () => {
    server.setSnapshot(v1);
    const old = new RawAdsStream<SotwResponse>(port, 'sotw');
    await sotwFirstFetch(old, 'had-beta');
    const v3 = snapshot({ alpha: ['/a'] }, v1);
    server.setSnapshot(v3);
    const fresh = new RawAdsStream<SotwResponse>(port, 'sotw');
    const got = await sotwFirstFetch(fresh, 'never-had-beta');
    assert.deepEqual(got.cds.resources.map(sotwName).sort(), ['service:alpha'], 'a node that joins after the edit gets the new clusters only');
    // The node that routes to beta keeps it until its routes have moved on.
    const routes = await old.next();
    assert.equal(routes.type_url, TYPE.route, 'its routes move first');
    old.send({ type_url: TYPE.route, version_info: routes.version_info, response_nonce: routes.nonce, resource_names: [RDS] });
    const removal = await old.next();
    assert.equal(removal.type_url, TYPE.cluster);
    assert.deepEqual(removal.resources.map(sotwName).sort(), ['service:alpha'], 'then beta is removed');
    old.close();
    fresh.close();
  });
});

describe('responses built once per fleet', () => {
  const v1 = snapshot({ alpha: ['/a'], beta: ['/b'] });
  const decode = (r: Response) => messageType('envoy.service.discovery.v3.DiscoveryResponse').toObject(messageType('envoy.service.discovery.v3.DiscoveryResponse').decode(responseBytes(r))) as { version_info: string; nonce: string; type_url: string; resources: unknown[] };

  function session(id: string): { s: Session; sent: { response: Response; typeUrl: string }[] } {
    const sent: { response: Response; typeUrl: string }[] = [];
    const events: SessionEvents = { send: (response, typeUrl) => sent.push({ response, typeUrl }), acked: () => {}, nacked: () => {}, converged: () => {} };
    return { s: new Session('sotw', 'frontdesk', events, id), sent };
  }

  test('streams sent the same resources share one body, each with its own nonce', () => {
    const a = session('a');
    const b = session('b');
    const c = session('c');
    for (const x of [a, b, c]) { x.s.setSnapshot(v1); x.s.handle({ typeUrl: TYPE.cluster, nonce: '', resourceNames: [] }); }
    assert.equal(a.sent[0]!.response.shared, b.sent[0]!.response.shared, 'one DiscoveryResponse for the clusters of the fleet');
    const da = decode(a.sent[0]!.response);
    const db = decode(b.sent[0]!.response);
    assert.equal(da.nonce, db.nonce, 'a message shared whole, its nonce included');
    assert.equal(da.version_info, db.version_info);
    assert.equal(da.type_url, TYPE.cluster);
    assert.equal(da.resources.length, 2);
    // As a gRPC message: uncompressed flag, big-endian length, the message.
    const framed = framedResponse(a.sent[0]!.response);
    assert.equal(framed[0], 0);
    assert.equal(framed.readUInt32BE(1), framed.length - 5);
    assert.deepEqual(framed.subarray(5), responseBytes(a.sent[0]!.response));
    // Endpoints: c names one cluster only and gets a body of its own.
    for (const x of [a, b, c]) {
      const cds = decode(x.sent[0]!.response);
      x.s.handle({ typeUrl: TYPE.cluster, nonce: cds.nonce, versionInfo: cds.version_info, resourceNames: [] });
    }
    a.s.handle({ typeUrl: TYPE.endpoint, nonce: '', resourceNames: ['service:alpha', 'service:beta'] });
    b.s.handle({ typeUrl: TYPE.endpoint, nonce: '', resourceNames: ['service:beta', 'service:alpha'] });
    c.s.handle({ typeUrl: TYPE.endpoint, nonce: '', resourceNames: ['service:alpha'] });
    const eds = (x: typeof a) => x.sent.find((m) => m.typeUrl === TYPE.endpoint)!.response;
    assert.equal(eds(a).shared, eds(b).shared, 'the same names in another order are the same subscription');
    assert.notEqual(eds(a).shared, eds(c).shared);
    assert.equal(decode(eds(c)).resources.length, 1);
    assert.equal(decode(eds(a)).resources.length, 2);
  });

  test('a stream sent the same message again gets it under a nonce of its own', () => {
    const a = session('a');
    a.s.setSnapshot(v1);
    a.s.handle({ typeUrl: TYPE.cluster, nonce: '', resourceNames: [] });
    const cds = decode(a.sent[0]!.response);
    a.s.handle({ typeUrl: TYPE.cluster, nonce: cds.nonce, versionInfo: cds.version_info, resourceNames: [] });
    const nonces: string[] = [];
    const ask = (names: string[]) => {
      const before = a.sent.length;
      if (nonces.length === 0) a.s.handle({ typeUrl: TYPE.endpoint, nonce: '', resourceNames: names });
      else a.s.handle({ typeUrl: TYPE.endpoint, nonce: nonces[nonces.length - 1]!, versionInfo: decode(a.sent[a.sent.length - 1]!.response).version_info, resourceNames: names });
      assert.equal(a.sent.length, before + 1, 'a new subscription is answered');
      nonces.push(decode(a.sent[a.sent.length - 1]!.response).nonce);
    };
    ask(['service:alpha', 'service:beta']);
    ask(['service:alpha']);
    ask(['service:alpha', 'service:beta']);
    assert.equal(new Set(nonces).size, 3, `three responses, three nonces (${nonces.join(', ')})`);
    const [first, , third] = a.sent.filter((m) => m.typeUrl === TYPE.endpoint).map((m) => m.response);
    assert.equal(first!.shared, third!.shared, 'the same resources, the same shared body');
    assert.deepEqual(decode(first!).resources, decode(third!).resources);
  });
});

describe('write budget', () => {
  /** A response of n + 2 bytes. */
  const response = (n: number): Response => ({ shared: { framed: Buffer.alloc(n + 2), bodyLength: n, nonce: 'x' } });

  test('slow streams hold at most the budget; the others wait their turn and go once bytes are freed', () => {
    const budget = new WriteBudget(3 * 102, 60_000);
    const pending: (() => void)[] = [];
    const writers = Array.from({ length: 10 }, () => new StreamWriter(budget, (_r, done) => pending.push(done)));
    for (const w of writers) w.push(response(100));
    assert.equal(pending.length, 3, 'three writes of 102 bytes fit a budget of 306');
    assert.equal(budget.inUse, 306);
    assert.equal(budget.queued, 7);
    pending.shift()!();
    assert.equal(pending.length, 3, 'a finished write lets the next stream write');
    writers[9]!.close();
    for (let i = 0; i < 10; i++) pending.shift()?.();
    assert.equal(budget.queued, 0);
    assert.ok(budget.inUse <= 306);
    for (const d of pending.splice(0)) d();
    assert.equal(budget.inUse, 0, 'every byte given back');
  });

  test('one stream writes one response at a time, in order', () => {
    const budget = new WriteBudget(1 << 20, 60_000);
    const written: number[] = [];
    const pending: (() => void)[] = [];
    const w = new StreamWriter(budget, (r, done) => { written.push(r.shared.bodyLength); pending.push(done); });
    w.push(response(1));
    w.push(response(2));
    w.push(response(3));
    assert.deepEqual(written, [1], 'the next waits until the transport took the first');
    pending.shift()!();
    pending.shift()!();
    assert.deepEqual(written, [1, 2, 3]);
  });

  test('a stream that stops reading stops counting against the budget after a while', async () => {
    const budget = new WriteBudget(100, 30);
    const stuck = new StreamWriter(budget, () => {});
    stuck.push(response(98));
    const started: number[] = [];
    const other = new StreamWriter(budget, (r) => started.push(r.shared.bodyLength));
    other.push(response(50));
    assert.deepEqual(started, [], 'the budget is taken');
    await waitFor(() => started.length === 1, 'the stuck write to be released from the budget', 5000, 5);
    stuck.close();
    other.close();
  });

  test('a closed stream gives back its bytes and drops what waited', () => {
    const budget = new WriteBudget(100, 60_000);
    const w = new StreamWriter(budget, () => {});
    w.push(response(90));
    w.push(response(90));
    assert.equal(budget.inUse, 92);
    w.close();
    assert.equal(budget.inUse, 0);
    assert.equal(w.pending, 0);
  });
});
