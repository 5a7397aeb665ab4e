// The companions' shared ADS start-up (src/xds/companion-client.ts) against the real ADS server:
// both authz types arrive and are applied together as typed messages (proto3 defaults filled
// in), a set the companion's check refuses is NACKed with the check's text while the last good
// set stays in force, and a later good set is applied.
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { consumersProblem, policiesProblem } from '../../src/authz/policy.js';
import { AUTHZ_TYPE, type AuthzMessages } from '../../src/contracts/authz.js';
import { kongId } from '../../src/kong-ids.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import type { Translation } from '../../src/resources/translate.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { AdsServer } from '../../src/xds/ads-server.js';
import { startCompanionClient, type CompanionClient } from '../../src/xds/companion-client.js';
import { buildSnapshot } from '../../src/xds/snapshot.js';
import { waitFor } from '../support/wait.js';
import { policyIdOf } from '../support/policy-ids.js';

const yaml = (key: string) => `_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:9
    routes:
      - name: orders
        paths: [/orders]
        plugins:
          - name: key-auth
            config: { enforcer: companion }
consumers:
  - username: alice
    keyauth_credentials:
      - key: ${key}
`;

function translation(text: string): Translation {
  const r = compileConfig([{ file: 'gateway.yaml', text }], { settings: DEFAULT_SETTINGS });
  assert.ok(r.ok && r.translation, JSON.stringify(r.diagnostics));
  return r.translation;
}

describe('companion client', () => {
  const ads = new AdsServer(silentLogger());
  const applied: Array<{ consumers: number; policies: number; keys: string[]; keyNames: string[] }> = [];
  let client: CompanionClient<AuthzMessages>;
  const alice = kongId('consumers', 'alice');

  before(async () => {
    const port = await ads.listen('127.0.0.1', 0);
    ads.setSnapshot(buildSnapshot(translation(yaml('first-key')), Date.now()));
    client = startCompanionClient<AuthzMessages>({
      name: 'authz-test',
      xds: { host: '127.0.0.1', port },
      nodeId: 'companion-client-test',
      logger: silentLogger(),
      types: { [AUTHZ_TYPE.consumer]: consumersProblem, [AUTHZ_TYPE.routePolicy]: policiesProblem },
      apply(resources) {
        const consumers = resources.get(AUTHZ_TYPE.consumer);
        const policies = resources.get(AUTHZ_TYPE.routePolicy);
        applied.push({
          consumers: consumers.size,
          policies: policies.size,
          keys: [...consumers.values()].flatMap((c) => c.keyauth_credentials.map((k) => k.key_hash)),
          keyNames: [...policies.values()].flatMap((p) => p.key_auth?.key_names ?? []),
        });
      },
    });
  });
  after(async () => {
    client.close();
    await ads.close();
  });

  test('applies the two types together, once both have arrived, as decoded messages', async () => {
    await client.whenReady();
    assert.equal(client.ready(), true);
    // The key travels as HMAC-SHA256 keyed by the salt (translate's default salt, "frontdesk"), never in clear.
    const firstKey = `hmac-sha256:${createHmac('sha256', 'frontdesk').update('first-key').digest('base64')}`;
    assert.deepEqual(applied, [{ consumers: 1, policies: 1, keys: [firstKey], keyNames: ['apikey'] }]);
    const c = client.resources.get(AUTHZ_TYPE.consumer).get(alice);
    // Every field of a decoded message is present: proto3's defaults where the bytes have none.
    assert.equal(c?.username, 'alice');
    assert.equal(c?.custom_id, '');
    assert.deepEqual(c?.jwt_secrets, []);
    assert.equal(client.resources.get(AUTHZ_TYPE.routePolicy).get(policyIdOf(translation(yaml('first-key')), 'orders', 'authz'))?.jwt, null);
  });

  test('a set the check refuses is NACKed with its text; the last good set stays in force', async () => {
    const good = translation(yaml('first-key'));
    const bad: Translation = {
      fleets: good.fleets,
      companions: new Map([...good.companions, [AUTHZ_TYPE.consumer, new Map([['c1', { name: 'c1', id: 'c1', keyauth_credentials: [{ id: 'k1' }] }]])]]),
    };
    const s = buildSnapshot(bad, Date.now(), ads.snapshot);
    ads.setSnapshot(s);
    const nack = await waitFor(() => ads.nodes().find((n) => n.id === 'companion-client-test')?.types.Consumer?.lastNack, 'the Consumer NACK');
    assert.match(nack.detail, /Consumer c1: keyauth_credentials\[0\] has no key/);
    assert.equal(applied.length, 1);
    assert.deepEqual([...client.resources.get(AUTHZ_TYPE.consumer).keys()], [alice]);
  });

  test('a later good set is applied', async () => {
    ads.setSnapshot(buildSnapshot(translation(yaml('second-key')), Date.now(), ads.snapshot));
    await waitFor(() => applied.length === 2, 'the second set applied');
    assert.deepEqual(applied[1], { consumers: 1, policies: 1, keys: [`hmac-sha256:${createHmac('sha256', 'frontdesk').update('second-key').digest('base64')}`], keyNames: ['apikey'] });
  });
});
