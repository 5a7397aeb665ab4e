// Kong's acl plugin with several groups, from YAML through the compiler into the authz engine.
// Expected values follow Kong 3.x's kong/plugins/acl/handler.lua and groups.lua:
// - a config is a DENY list when `deny` has groups, an ALLOW list otherwise (schema: only one
//   of the two may be set, so both together do not load);
// - `consumer_in_groups` is true when ANY of the consumer's groups is in the list: one listed
//   group is enough to be denied (deny) or let in (allow);
// - groups compare as exact strings (a Lua table lookup): case and spaces count;
// - a consumer with no groups passes a deny list and is refused by an allow list (403 with a
//   credential, 401 for the anonymous consumer); blocked → 403 "You cannot consume this service";
// - let in → X-Consumer-Groups is the consumer's groups joined with ", ".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzDecision } from '../../src/authz/types.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { authzFromYaml } from '../support/authz-from-yaml.js';

const consumer = (name: string, groups: string[]) => `  - username: ${name}
    keyauth_credentials: [{ key: key-${name} }]
${groups.length ? `    acls:\n${groups.map((g) => `      - group: ${JSON.stringify(g)}`).join('\n')}` : ''}`;

const YAML = `_format_version: "3.0"
services:
  - name: app
    url: http://127.0.0.1:9001
    plugins:
      - name: key-auth
        config: { enforcer: companion }
    routes:
      - name: deny-two
        paths: [/deny-two]
        plugins: [{ name: acl, config: { enforcer: companion, deny: [banned, suspended] } }]
      - name: deny-three
        paths: [/deny-three]
        plugins: [{ name: acl, config: { enforcer: companion, deny: [x, y, suspended] } }]
      - name: allow-two
        paths: [/allow-two]
        plugins: [{ name: acl, config: { enforcer: companion, allow: [gold, silver] } }]
      - name: allow-case
        paths: [/allow-case]
        plugins: [{ name: acl, config: { enforcer: companion, allow: [Gold] } }]
      - name: deny-case
        paths: [/deny-case]
        plugins: [{ name: acl, config: { enforcer: companion, deny: [BANNED] } }]
      - name: allow-spaced
        paths: [/allow-spaced]
        plugins: [{ name: acl, config: { enforcer: companion, allow: ["team a"] } }]
      - name: anon-allow
        paths: [/anon-allow]
        plugins:
          - { name: key-auth, config: { enforcer: companion, anonymous: visitor } }
          - { name: acl, config: { enforcer: companion, allow: [gold, visitors] } }
      - name: anon-bare-allow
        paths: [/anon-bare-allow]
        plugins:
          - { name: key-auth, config: { enforcer: companion, anonymous: nobody-special } }
          - { name: acl, config: { enforcer: companion, allow: [gold, silver] } }
      - name: anon-deny
        paths: [/anon-deny]
        plugins:
          - { name: key-auth, config: { enforcer: companion, anonymous: visitor } }
          - { name: acl, config: { enforcer: companion, deny: [banned, visitors] } }
      - name: anon-bare-deny
        paths: [/anon-bare-deny]
        plugins:
          - { name: key-auth, config: { enforcer: companion, anonymous: nobody-special } }
          - { name: acl, config: { enforcer: companion, deny: [banned, suspended] } }
consumers:
${consumer('gold-only', ['gold'])}
${consumer('silver-only', ['silver'])}
${consumer('gold-silver', ['gold', 'silver'])}
${consumer('banned-only', ['banned'])}
${consumer('suspended-only', ['suspended'])}
${consumer('banned-suspended', ['banned', 'suspended'])}
${consumer('gold-banned', ['gold', 'banned'])}
${consumer('no-groups', [])}
${consumer('upper-gold', ['GOLD'])}
${consumer('team-a', ['team a'])}
${consumer('team', ['team', 'a'])}
${consumer('team-a-padded', ['team a '])}
  - username: visitor
    acls:
      - group: visitors
  - username: nobody-special
`;

const authz = authzFromYaml(YAML);
const FORBIDDEN = { message: 'You cannot consume this service' };

async function expectAllowed(route: string, who: string | undefined, groups: string[]): Promise<void> {
  const d = await authz.check(route, who ? { apikey: `key-${who}` } : {});
  assert.equal(d.allow, true, `${route} lets ${who ?? 'the anonymous consumer'} in: ${JSON.stringify(d)}`);
  const header = (d as Extract<AuthzDecision, { allow: true }>).headersToSet['x-consumer-groups'];
  // Kong concatenates the groups in the order it loaded them; compare them as a set.
  assert.deepEqual((header ? header.split(', ') : []).sort(), [...groups].sort(), `${route}, ${who}: X-Consumer-Groups`);
}

async function expectRefused(route: string, who: string | undefined, status = 403): Promise<void> {
  const d = await authz.check(route, who ? { apikey: `key-${who}` } : {});
  assert.equal(d.allow, false, `${route} refuses ${who ?? 'the anonymous consumer'}`);
  const deny = d as Extract<AuthzDecision, { allow: false }>;
  assert.equal(deny.status, status, `${route}, ${who}: status`);
  assert.deepEqual(deny.body, status === 403 ? FORBIDDEN : { message: 'Unauthorized' }, `${route}, ${who}: body`);
}

describe('acl deny lists with several groups', () => {
  it('a consumer in any one of the deny groups is refused, whichever group it is', async () => {
    await expectRefused('deny-two', 'banned-only');
    await expectRefused('deny-two', 'suspended-only');
    await expectRefused('deny-two', 'banned-suspended');
    await expectRefused('deny-three', 'suspended-only');
    await expectRefused('deny-three', 'banned-suspended');
  });

  it('a consumer with a denied group among allowed-looking ones is still refused', async () => {
    await expectRefused('deny-two', 'gold-banned');
  });

  it('consumers in none of the deny groups pass with their groups upstream, even with no groups', async () => {
    await expectAllowed('deny-two', 'gold-only', ['gold']);
    await expectAllowed('deny-two', 'gold-silver', ['gold', 'silver']);
    await expectAllowed('deny-three', 'banned-only', ['banned']);
    await expectAllowed('deny-two', 'no-groups', []);
  });
});

describe('acl allow lists with several groups', () => {
  it('a consumer in any one of the allowed groups passes, with all its groups in X-Consumer-Groups', async () => {
    await expectAllowed('allow-two', 'gold-only', ['gold']);
    await expectAllowed('allow-two', 'silver-only', ['silver']);
    await expectAllowed('allow-two', 'gold-silver', ['gold', 'silver']);
    await expectAllowed('allow-two', 'gold-banned', ['gold', 'banned']);
  });

  it('a consumer in none of them, or in no group at all, is 403', async () => {
    await expectRefused('allow-two', 'banned-only');
    await expectRefused('allow-two', 'banned-suspended');
    await expectRefused('allow-two', 'no-groups');
  });
});

describe('acl group names compare exactly', () => {
  it('case counts: Gold is not gold, BANNED is not banned', async () => {
    await expectRefused('allow-case', 'gold-only');
    await expectRefused('allow-case', 'upper-gold');
    await expectRefused('allow-two', 'upper-gold');
    await expectAllowed('deny-case', 'banned-only', ['banned']);
  });

  it('spaces count: "team a" is neither "team" + "a" nor "team a "', async () => {
    await expectAllowed('allow-spaced', 'team-a', ['team a']);
    await expectRefused('allow-spaced', 'team');
    await expectRefused('allow-spaced', 'team-a-padded');
  });
});

describe('acl with the anonymous consumer and several groups', () => {
  it('the anonymous consumer is judged by its own groups', async () => {
    await expectAllowed('anon-allow', undefined, ['visitors']);
    await expectRefused('anon-deny', undefined);
    await expectAllowed('anon-bare-deny', undefined, []);
  });

  it('an anonymous consumer with no groups is 401 on an allow list (no credential was given)', async () => {
    await expectRefused('anon-bare-allow', undefined, 401);
  });

  it('a credential on the same routes is judged by its consumer, not the anonymous one', async () => {
    await expectAllowed('anon-allow', 'gold-only', ['gold']);
    await expectRefused('anon-allow', 'banned-only');
    await expectRefused('anon-deny', 'banned-only');
    await expectAllowed('anon-deny', 'gold-silver', ['gold', 'silver']);
    await expectRefused('anon-bare-deny', 'suspended-only');
  });
});

describe('acl allow and deny together', () => {
  it("does not load (Kong's schema: only one of config.allow and config.deny)", () => {
    const r = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
services:
  - name: app
    url: http://127.0.0.1:9001
    routes:
      - name: both
        paths: [/both]
        plugins:
          - name: key-auth
          - name: acl
            config:
              allow: [gold]
              deny: [banned]
` }]);
    assert.equal(r.ok, false);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.message, /exactly one of "allow" or "deny"/);
    assert.equal(errors[0]!.line, 12, "at allow:");
  });
});
