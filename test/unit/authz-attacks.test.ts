/**
 * The attack corpus (test/support/jwt-attacks.ts) against the authz engine on a fixed clock;
 * every row is its own test. test/e2e/jwt-attacks.test.ts runs it through Envoy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzRequest } from '../../src/authz/types.js';
import { attackCases, attackSnapshot, goodJwt, HS, jwksKey } from '../support/jwt-attacks.js';
import { NOW_S, makeEngine, request, signToken } from '../support/jwt-fixtures.js';

const cases = attackCases(NOW_S);
const snapshot = attackSnapshot;
const goodToken = goodJwt(NOW_S);
const bearer = (t: string): AuthzRequest => request('/', { authorization: `Bearer ${t}` });
const basic = (s: string): AuthzRequest => request('/', { authorization: `Basic ${Buffer.from(s).toString('base64')}` });
const good = { iss: 'alice-iss', exp: NOW_S + 600, nbf: NOW_S - 10 };

describe('attack corpus', () => {
  const { engine, logger } = makeEngine(snapshot());

  it('holds at least 30 attacks', () => {
    assert.ok(cases.length >= 30, `${cases.length} cases`);
  });
  it('the genuine token and credentials pass (the corpus refuses for the right reason)', async () => {
    assert.equal((await engine.check('jwt', bearer(goodToken))).allow, true);
    assert.equal((await engine.check('jwt', bearer(signToken('RS256', jwksKey.privateKey, { ...good, iss: 'jwks-iss' }, { kid: 'k1' })))).allow, true);
    assert.equal((await engine.check('key', request('/?apikey=Mouse'))).allow, true);
    assert.equal((await engine.check('basic', basic('bob:kong-password'))).allow, true);
  });
  for (const c of cases) {
    it(`refuses: ${c.name}`, async () => {
      const d = await engine.check(c.route ?? 'jwt', c.req);
      assert.equal(d.allow, false, `allowed: ${JSON.stringify(d)}`);
      if (d.allow) return;
      assert.equal(d.status, c.status);
      assert.deepEqual(d.body, c.body);
      assert.equal(d.headers['www-authenticate'], c.www);
    });
  }
  it('nothing of the attack requests reaches the log', () => {
    const text = logger.text();
    for (const c of cases) {
      const auth = c.req.headers.authorization;
      if (auth && auth.length > 12) assert.ok(!text.includes(auth.slice(7)), c.name);
    }
    assert.ok(!text.includes(HS) && !text.includes('Mouse') && !text.includes('kong-password'));
  });
});
