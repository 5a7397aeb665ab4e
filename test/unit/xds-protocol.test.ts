// The ADS server's protocol, driven request by request: first fetch, ACK, NACK (recorded,
// never resent), make-before-break order, removals after, resume on reconnect; SotW and delta.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { AdsClient } from '../../src/xds/ads-client.js';
import { AdsServer } from '../../src/xds/ads-server.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
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

const node = { id: 'node-1', cluster: 'frontdesk' };
const names = (r: SotwResponse) => r.resources.map((x) => ((x as { name?: string; cluster_name?: string }).name ?? (x as { cluster_name: string }).cluster_name)).sort();

describe('ADS state-of-the-world', () => {
  let server: AdsServer;
  let port: number;
  const v1 = snapshot({ alpha: ['/a'], beta: ['/b'] });

  before(async () => {
    server = new AdsServer(silentLogger());
    port = await server.listen('127.0.0.1', 0);
    server.setSnapshot(v1);
  });
  after(() => server.close());

  /** Walks a fresh stream through the first fetch, as Envoy does; returns the last responses per type. */
  async function firstFetch(s: RawAdsStream<SotwResponse>): Promise<Record<string, SotwResponse>> {
    const last: Record<string, SotwResponse> = {};
    s.send({ node, type_url: TYPE.cluster });
    s.send({ type_url: TYPE.listener });
    const cds = await s.next();
    assert.equal(cds.type_url, TYPE.cluster, 'clusters come first');
    assert.deepEqual(names(cds), ['service:alpha', 'service:beta']);
    assert.equal(s.pending, 0, 'listeners wait until the clusters have their endpoints');
    s.send({ type_url: TYPE.cluster, version_info: cds.version_info, response_nonce: cds.nonce });
    s.send({ type_url: TYPE.endpoint, resource_names: ['service:alpha', 'service:beta'] });
    const eds = await s.next();
    assert.equal(eds.type_url, TYPE.endpoint);
    s.send({ type_url: TYPE.endpoint, version_info: eds.version_info, response_nonce: eds.nonce, resource_names: ['service:alpha', 'service:beta'] });
    const lds = await s.next();
    assert.equal(lds.type_url, TYPE.listener, 'listeners after endpoints');
    s.send({ type_url: TYPE.listener, version_info: lds.version_info, response_nonce: lds.nonce });
    s.send({ type_url: TYPE.route, resource_names: [RDS] });
    const rds = await s.next();
    assert.equal(rds.type_url, TYPE.route);
    s.send({ type_url: TYPE.route, version_info: rds.version_info, response_nonce: rds.nonce, resource_names: [RDS] });
    Object.assign(last, { cds, eds, lds, rds });
    return last;
  }

  test('first fetch in make-before-break order, then ACKs make the node converge', async () => {
    const s = new RawAdsStream<SotwResponse>(port, 'sotw');
    const converged = new Promise<string>((r) => server.once('converged', (_n, v) => r(v)));
    const got = await firstFetch(s);
    assert.equal(await converged, server.snapshot!.version);
    const status = server.nodes().find((n) => n.id === node.id)!;
    assert.equal(status.types.RDS!.ackedVersion, got.rds!.version_info);
    assert.equal(status.convergedVersion, v1.version);
    s.close();
  });

  test('a NACK is recorded with its text, the node keeps its version, and it is not resent', async () => {
    server.setSnapshot(v1);
    const s = new RawAdsStream<SotwResponse>(port, 'sotw');
    const first = await firstFetch(s);
    const v2 = snapshot({ alpha: ['/a2'], beta: ['/b'] }, v1);
    server.setSnapshot(v2);
    const rds2 = await s.next();
    assert.equal(rds2.type_url, TYPE.route, 'only the routes changed');
    s.send({ type_url: TYPE.route, version_info: first.rds!.version_info, response_nonce: rds2.nonce, resource_names: [RDS], error_detail: { code: 3, message: 'route rejected: test' } });
    await waitFor(() => server.nodes().find((n) => n.stream && n.types.RDS?.lastNack), 'the NACK to be recorded');
    const st = server.nodes().filter((n) => n.types.RDS?.lastNack).pop()!;
    assert.equal(st.types.RDS!.lastNack!.detail, 'route rejected: test');
    assert.equal(st.types.RDS!.ackedVersion, first.rds!.version_info, 'the node keeps its last accepted version');
    // The next response must be the next snapshot's, not the rejected one again.
    const v3 = snapshot({ alpha: ['/a3'], beta: ['/b'] }, v2);
    server.setSnapshot(v3);
    const rds3 = await s.next();
    assert.equal(rds3.type_url, TYPE.route);
    assert.notEqual(rds3.version_info, rds2.version_info);
    assert.match(JSON.stringify(rds3.resources), /"prefix":"\/a3"/);
    s.close();
    server.setSnapshot(v1);
  });

  test('removals come after: a removed cluster outlives the routes that used it', async () => {
    server.setSnapshot(v1);
    const s = new RawAdsStream<SotwResponse>(port, 'sotw');
    await firstFetch(s);
    server.setSnapshot(snapshot({ alpha: ['/a'] }, v1));
    const rds = await s.next();
    assert.equal(rds.type_url, TYPE.route, 'clusters are unchanged while beta is still routed to, so the routes go first');
    assert.doesNotMatch(JSON.stringify(rds.resources), /service:beta/);
    s.send({ type_url: TYPE.route, version_info: rds.version_info, response_nonce: rds.nonce, resource_names: [RDS] });
    const final = await s.next();
    assert.equal(final.type_url, TYPE.cluster);
    assert.deepEqual(names(final), ['service:alpha'], 'then beta goes');
    s.close();
    server.setSnapshot(v1);
  });

  test('a client reconnecting with the versions it holds is not sent them again', async () => {
    server.setSnapshot(v1);
    const s1 = new RawAdsStream<SotwResponse>(port, 'sotw');
    const got = await firstFetch(s1);
    s1.close();
    const s2 = new RawAdsStream<SotwResponse>(port, 'sotw');
    s2.send({ node, type_url: TYPE.cluster, version_info: got.cds!.version_info });
    s2.send({ type_url: TYPE.endpoint, version_info: got.eds!.version_info, resource_names: ['service:alpha', 'service:beta'] });
    s2.send({ type_url: TYPE.listener, version_info: got.lds!.version_info });
    s2.send({ type_url: TYPE.route, version_info: got.rds!.version_info, resource_names: [RDS] });
    const v2 = snapshot({ alpha: ['/resumed'], beta: ['/b'] }, v1);
    server.setSnapshot(v2);
    const next = await s2.next();
    assert.equal(next.type_url, TYPE.route, 'the first thing sent after resuming is the change, not a resend');
    s2.close();
    server.setSnapshot(v1);
  });
});

describe('ADS delta', () => {
  let server: AdsServer;
  let port: number;
  const v1 = snapshot({ alpha: ['/a'], beta: ['/b'] });

  before(async () => {
    server = new AdsServer(silentLogger());
    port = await server.listen('127.0.0.1', 0);
    server.setSnapshot(v1);
  });
  after(() => server.close());

  test('first fetch, then only what changed, and removals named', async () => {
    const s = new RawAdsStream<DeltaResponse>(port, 'delta');
    s.send({ node, type_url: TYPE.cluster });
    const cds = await s.next();
    assert.deepEqual(cds.resources.map((r) => r.name), ['service:alpha', 'service:beta']);
    s.send({ type_url: TYPE.cluster, response_nonce: cds.nonce });
    s.send({ type_url: TYPE.endpoint, resource_names_subscribe: ['service:alpha', 'service:beta'] });
    const eds = await s.next();
    assert.equal(eds.resources.length, 2);
    s.send({ type_url: TYPE.endpoint, response_nonce: eds.nonce });
    s.send({ type_url: TYPE.listener });
    const lds = await s.next();
    assert.equal(lds.type_url, TYPE.listener);
    s.send({ type_url: TYPE.listener, response_nonce: lds.nonce });
    s.send({ type_url: TYPE.route, resource_names_subscribe: [RDS] });
    const rds = await s.next();
    s.send({ type_url: TYPE.route, response_nonce: rds.nonce });

    server.setSnapshot(snapshot({ alpha: ['/a'] }, v1));
    const keep = await s.next();
    assert.equal(keep.type_url, TYPE.route, 'clusters unchanged while beta is still routed to: routes go first');
    s.send({ type_url: TYPE.route, response_nonce: keep.nonce });
    const removal = await s.next();
    assert.equal(removal.type_url, TYPE.cluster);
    assert.deepEqual(removal.resources, []);
    assert.deepEqual(removal.removed_resources, ['service:beta']);
    s.close();
  });

  test('a reconnect with initial_resource_versions gets only what differs', async () => {
    server.setSnapshot(v1);
    const s1 = new RawAdsStream<DeltaResponse>(port, 'delta');
    s1.send({ node, type_url: TYPE.cluster });
    const cds = await s1.next();
    s1.close();
    const held = Object.fromEntries(cds.resources.map((r) => [r.name, r.version]));
    held['service:alpha'] = 'stale-version';
    const s2 = new RawAdsStream<DeltaResponse>(port, 'delta');
    s2.send({ node, type_url: TYPE.cluster, initial_resource_versions: held });
    const resumed = await s2.next();
    assert.deepEqual(resumed.resources.map((r) => r.name), ['service:alpha'], 'only the cluster whose version differs');
    s2.close();
  });

  test('a NACK in delta is recorded and not resent', async () => {
    server.setSnapshot(v1);
    const s = new RawAdsStream<DeltaResponse>(port, 'delta');
    s.send({ node: { id: 'delta-nack', cluster: 'x' }, type_url: TYPE.cluster });
    const cds = await s.next();
    s.send({ type_url: TYPE.cluster, response_nonce: cds.nonce, error_detail: { code: 3, message: 'cluster rejected: test' } });
    await waitFor(() => server.nodes().find((n) => n.id === 'delta-nack')?.types.CDS?.lastNack, 'the NACK to be recorded');
    const v2 = snapshot({ alpha: ['/a'], gamma: ['/g'] }, v1);
    server.setSnapshot(v2);
    const next = await s.next();
    assert.ok(next.resources.some((r) => r.name === 'service:gamma'), 'the next response carries the new snapshot');
    s.close();
  });
});

describe('companion resources over the same ADS', () => {
  test('an AdsClient receives, ACKs and follows updates of a companion type (SotW and delta)', async () => {
    const server = new AdsServer(silentLogger());
    const port = await server.listen('127.0.0.1', 0);
    const v1 = snapshot({ alpha: ['/a'] });
    server.setSnapshot(v1);
    for (const mode of ['sotw', 'delta'] as const) {
      // A companion subscribes to clusters here only as a stand-in type it can decode; the
      // mechanism is the same for frontdesk.* types (see test/unit/*-translate tests).
      const client = new AdsClient({ target: `127.0.0.1:${port}`, nodeId: `companion-${mode}`, types: [TYPE.cluster], mode }).start();
      await waitFor(() => client.resources(TYPE.cluster).has('service:alpha'), 'the first update');
      server.setSnapshot(snapshot({ alpha: ['/a'], omega: ['/o'] }, v1));
      await waitFor(() => client.resources(TYPE.cluster).has('service:omega'), 'the second update');
      await waitFor(() => server.nodes().find((n) => n.id === `companion-${mode}`)?.types.CDS?.ackedVersion === client.version(TYPE.cluster), 'the ACK');
      client.close();
      server.setSnapshot(v1);
    }
    await server.close();
  });
});
