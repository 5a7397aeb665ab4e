/**
 * Golden files: every test/golden/<case>/in.yaml is compiled and the resources of fleet '' are
 * compared with out.json. Each expected resource also round-trips through protobufjs (proto3
 * JSON → bytes → JSON) unchanged, which proves it is a valid Envoy message and that no field is
 * silently dropped, and the resources refer to each other consistently (routes → clusters,
 * EDS clusters → endpoints, listeners → route configurations and secrets). Last, a real Envoy
 * loads each case's resources with `--mode validate`, which applies every field rule (required
 * fields, ranges, RE2 regexes) that protobufjs does not know about.
 *
 * This test only reads: `npm run golden:update` (scripts/golden-update.mjs) rewrites out.json
 * from the current output and deletes the out.json of cases whose in.yaml is gone; review the
 * diff before committing it. UPDATE_GOLDEN in the environment changes nothing here, and under
 * CI it fails the run, so a pipeline cannot be made to bless its own output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { findEnvoy } from '../../src/runtime/envoy.js';
import { decodeToJson, encodeJson, type Json } from '../../src/xds/proto-json.js';
import { typeForUrl } from '../../src/xds/proto-registry.js';
import { goldenCases, orphanOutputs, readGolden, render, staticBootstrap, typeUrlOf, type Golden } from '../support/golden.js';

const truthy = (v: string | undefined) => ['1', 'true', 'yes'].includes((v ?? '').trim().toLowerCase());

type Obj = { [k: string]: Json };

/** Every value under `key` anywhere inside `v`. */
function collect(v: Json, key: string, out: Json[] = []): Json[] {
  if (Array.isArray(v)) for (const x of v) collect(x, key, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) out.push(x);
      collect(x, key, out);
    }
  }
  return out;
}

function checkReferences(g: Golden): void {
  const cds = (g.CDS ?? {}) as Record<string, Obj>;
  const has = (short: string, name: string) => Object.hasOwn(g[short] ?? {}, name);
  for (const [name, rc] of Object.entries(g.RDS ?? {})) {
    for (const cluster of collect(rc, 'cluster')) {
      assert.ok(typeof cluster === 'string' && has('CDS', cluster), `RDS ${name} routes to cluster ${String(cluster)}, which CDS lacks`);
    }
  }
  for (const [name, c] of Object.entries(cds)) {
    if (c.type === 'EDS') {
      const eds = c.eds_cluster_config as Obj;
      const service = (eds.service_name as string | undefined) ?? name;
      assert.ok(has('EDS', service), `EDS cluster ${name} has no ClusterLoadAssignment ${service}`);
    }
  }
  for (const [name, l] of Object.entries(g.LDS ?? {})) {
    for (const rds of collect(l, 'route_config_name')) assert.ok(has('RDS', rds as string), `listener ${name} uses route configuration ${String(rds)}, which RDS lacks`);
    for (const list of collect(l, 'tls_certificate_sds_secret_configs')) {
      for (const s of list as Obj[]) assert.ok(has('SDS', s.name as string), `listener ${name} uses secret ${String(s.name)}, which SDS lacks`);
    }
  }
  for (const name of Object.keys(g.EDS ?? {})) assert.ok(has('CDS', name), `EDS ${name} has no cluster`);
}

describe('golden files', () => {
  const cases = goldenCases();

  test('UPDATE_GOLDEN is not set under CI (regeneration is `npm run golden:update`, never the test run)', (t) => {
    const update = process.env.UPDATE_GOLDEN;
    if (update !== undefined && truthy(process.env.CI)) assert.fail(`UPDATE_GOLDEN=${update} under CI: golden files are compared, never rewritten, in CI`);
    if (update !== undefined) t.diagnostic('UPDATE_GOLDEN is ignored by the test run: use `npm run golden:update` to rewrite out.json');
  });

  test('there are at least 12 cases, each starting with a comment that says what it tests', () => {
    assert.ok(cases.length >= 12, `only ${cases.length} cases`);
    for (const c of cases) assert.match(readFileSync(c.input, 'utf8'), /^# \S.{10,}/, `${c.name}/in.yaml must start with a "# what it tests" comment`);
  });

  test('no out.json is left without its in.yaml', () => {
    assert.deepEqual(orphanOutputs(), [], 'delete these (or run `npm run golden:update`)');
  });

  for (const c of cases) {
    test(c.name, () => {
      const rendered = render(readFileSync(c.input, 'utf8'), c.input);
      assert.ok(rendered.golden, `${c.name} does not compile:\n${rendered.errors}`);
      assert.ok(existsSync(c.outFile), `${c.name}/out.json is missing; run \`npm run golden:update\` and review it`);
      const expected = readGolden(c.outFile);
      assert.deepEqual(rendered.golden, expected, `${c.name}: output differs from out.json (\`npm run golden:update\` rewrites it)`);

      for (const [short, resources] of Object.entries(expected)) {
        const type = typeForUrl(typeUrlOf(short));
        assert.ok(type, `unknown resource type ${short}`);
        for (const [name, json] of Object.entries(resources)) {
          assert.ok(json !== null && typeof json === 'object' && !Array.isArray(json), `${short} ${name} is not a resource: ${JSON.stringify(json)}`);
          const obj = json as Obj;
          assert.equal(obj.name ?? obj.cluster_name, name, `${short} ${name}: resource name and key agree`);
          const back = decodeToJson(type, encodeJson(type, json));
          assert.deepEqual(back, json, `${short} ${name} round-trips through protobufjs unchanged`);
        }
      }
      checkReferences(expected);
    });
  }
});

describe('golden files load in Envoy (--mode validate)', () => {
  const envoy = findEnvoy();
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-golden-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of goldenCases()) {
    test(c.name, () => {
      assert.ok(envoy, 'no envoy binary: run `node scripts/install-envoy.mjs` or set ENVOY_BIN');
      assert.ok(existsSync(c.outFile), `${c.name}/out.json is missing`);
      const file = join(dir, `${c.name}.json`);
      writeFileSync(file, JSON.stringify(staticBootstrap(readGolden(c.outFile))));
      const r = spawnSync(envoy, ['--mode', 'validate', '-c', file, '-l', 'critical'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `envoy refuses ${c.name}:\n${r.stdout}${r.stderr}`);
    });
  }
});
