import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthzEngine, IDENTITY_HEADERS } from '../../src/authz/engine.js';
import type { AuthzDecision, AuthzSnapshot } from '../../src/authz/types.js';
import { NOW_S, RecordingLogger, aclConf, basicAuthConf, jwtConf, keyAuthConf, makeEngine, request, signToken } from '../support/jwt-fixtures.js';

/** The two-plugin routes of Kong's jwt/basic-auth access specs: logical AND and logical OR. */
function snapshot(): AuthzSnapshot {
  return {
    consumers: [
      { id: 'c-anon', username: 'Anonymous' },
      { id: 'c-mickey', username: 'Mickey', groups: ['readers'] },
      { id: 'c-aladdin', username: 'Aladdin', groups: ['writers'] },
    ],
    keyauthCredentials: [{ id: 'kc-mouse', consumerId: 'c-mickey', key: 'Mouse' }],
    basicauthCredentials: [{ consumerId: 'c-aladdin', username: 'Aladdin', password: 'OpenSesame' }],
    jwtSecrets: [{ consumerId: 'c-aladdin', key: 'aladdin-iss', secret: 'lamp' }],
    policies: [
      { routeId: 'and', plugins: { jwt: jwtConf(), 'key-auth': keyAuthConf() } },
      { routeId: 'or', plugins: { jwt: jwtConf({ anonymous: 'c-anon' }), 'key-auth': keyAuthConf({ anonymous: 'c-anon' }) } },
      { routeId: 'or-basic', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'c-anon' }), 'key-auth': keyAuthConf({ anonymous: 'c-anon' }) } },
      { routeId: 'or-acl', plugins: { jwt: jwtConf({ anonymous: 'c-anon' }), 'key-auth': keyAuthConf({ anonymous: 'c-anon' }), acl: aclConf({ allow: ['readers', 'writers'] }) } },
      { routeId: 'mixed', plugins: { jwt: jwtConf({ anonymous: 'c-anon' }), 'key-auth': keyAuthConf() } },
      { routeId: 'open', plugins: {} },
    ],
  };
}

const jwt = `Bearer ${signToken('HS256', 'lamp', { iss: 'aladdin-iss', exp: NOW_S + 600 })}`;
const denied = (d: AuthzDecision) => { assert.equal(d.allow, false, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: false }>; };
const allowed = (d: AuthzDecision) => { assert.equal(d.allow, true, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: true }>; };

describe('several auth plugins on one route (Kong semantics)', () => {
  const { engine } = makeEngine(snapshot());

  it('without anonymous it is a logical AND: both credentials needed', async () => {
    const both = allowed(await engine.check('and', request('/', { apikey: 'Mouse', authorization: jwt })));
    assert.equal(both.headersToSet['x-anonymous-consumer'], undefined);
    // plugins run jwt (priority 1450) then key-auth (1250): the last to authenticate sets the consumer
    assert.equal(both.headersToSet['x-consumer-id'], 'c-mickey');
    assert.equal(both.headersToSet['x-credential-identifier'], 'kc-mouse');
    assert.equal(denied(await engine.check('and', request('/', { apikey: 'Mouse' }))).status, 401);
    assert.equal(denied(await engine.check('and', request('/', { authorization: jwt }))).status, 401);
    assert.equal(denied(await engine.check('and', request('/'))).status, 401);
  });
  it('with anonymous on every plugin it is a logical OR: the first to authenticate wins', async () => {
    const both = allowed(await engine.check('or', request('/', { apikey: 'Mouse', authorization: jwt })));
    assert.equal(both.headersToSet['x-consumer-id'], 'c-aladdin');
    assert.equal(both.headersToSet['x-credential-identifier'], 'aladdin-iss');
    const keyOnly = allowed(await engine.check('or', request('/', { apikey: 'Mouse' })));
    assert.equal(keyOnly.headersToSet['x-consumer-id'], 'c-mickey');
    assert.equal(keyOnly.anonymous, false);
    assert.equal(keyOnly.headersToSet['x-anonymous-consumer'], undefined);
    const jwtOnly = allowed(await engine.check('or', request('/', { authorization: jwt })));
    assert.equal(jwtOnly.headersToSet['x-consumer-id'], 'c-aladdin');
    const none = allowed(await engine.check('or', request('/')));
    assert.equal(none.headersToSet['x-consumer-id'], 'c-anon');
    assert.equal(none.headersToSet['x-anonymous-consumer'], 'true');
    assert.equal(none.headersToSet['x-credential-identifier'], undefined);
  });
  it('logical OR with basic-auth and key-auth', async () => {
    const basic = `Basic ${Buffer.from('Aladdin:OpenSesame').toString('base64')}`;
    assert.equal(allowed(await engine.check('or-basic', request('/', { authorization: basic }))).headersToSet['x-consumer-id'], 'c-aladdin');
    assert.equal(allowed(await engine.check('or-basic', request('/', { apikey: 'Mouse' }))).headersToSet['x-consumer-id'], 'c-mickey');
    assert.equal(allowed(await engine.check('or-basic', request('/'))).anonymous, true);
  });
  it('logical OR then acl: the anonymous consumer (no groups) is 401, a real one passes', async () => {
    assert.equal(denied(await engine.check('or-acl', request('/'))).status, 401);
    assert.equal(allowed(await engine.check('or-acl', request('/', { apikey: 'Mouse' }))).headersToSet['x-consumer-groups'], 'readers');
  });
  it('anonymous on one plugin only: the other must still pass', async () => {
    assert.equal(allowed(await engine.check('mixed', request('/', { apikey: 'Mouse' }))).headersToSet['x-consumer-id'], 'c-mickey');
    assert.deepEqual(denied(await engine.check('mixed', request('/', { authorization: jwt }))).body, { message: 'No API key found in request' });
  });
});

describe('engine', () => {
  it('strips every client-sent identity header it does not set', async () => {
    const { engine } = makeEngine(snapshot());
    const spoof: Record<string, string> = {};
    for (const h of IDENTITY_HEADERS) spoof[h] = 'spoofed';
    const d = allowed(await engine.check('or', request('/', { ...spoof, apikey: 'Mouse' })));
    for (const h of IDENTITY_HEADERS) assert.ok(h in d.headersToSet || d.headersToRemove.includes(h), h);
    assert.ok(!Object.values(d.headersToSet).includes('spoofed'));
    const open = allowed(await engine.check('open', request('/', spoof)));
    assert.deepEqual(open.headersToSet, {});
    assert.deepEqual([...open.headersToRemove].sort(), [...IDENTITY_HEADERS].sort());
  });
  it('an unknown route is refused with 503 (fail closed), and so is every route before the first update()', async () => {
    const { engine, logger } = makeEngine(snapshot());
    const d = denied(await engine.check('no-such-route', request('/', { apikey: 'Mouse' })));
    assert.equal(d.status, 503);
    assert.deepEqual(d.body, { message: 'Service unavailable' });
    assert.match(logger.text(), /no-such-route/);
    const fresh = new AuthzEngine({ logger: new RecordingLogger() });
    assert.equal(fresh.ready, false);
    assert.equal(denied(await fresh.check('or', request('/'))).status, 503);
  });
  it('update() swaps the snapshot whole: a check in flight finishes on the snapshot it started with', async () => {
    const snap = snapshot();
    const { engine } = makeEngine(snap);
    const inFlight = engine.check('or', request('/', { authorization: jwt }));
    engine.update({ ...snap, jwtSecrets: [] });
    assert.equal(allowed(await inFlight).headersToSet['x-consumer-id'], 'c-aladdin');
    assert.equal(allowed(await engine.check('or', request('/', { authorization: jwt }))).anonymous, true);
  });
  it('an anonymous consumer missing from the snapshot gives 500 and a warning at update()', async () => {
    const snap = snapshot();
    snap.consumers = snap.consumers.filter((c) => c.id !== 'c-anon');
    const { engine, logger } = makeEngine(snap);
    assert.match(logger.text(), /anonymous consumer does not exist/);
    assert.equal(denied(await engine.check('or', request('/'))).status, 500);
    // jwt (first) falls back to the missing consumer before key-auth runs: 500, as in Kong
    assert.equal(denied(await engine.check('or', request('/', { apikey: 'Mouse' }))).status, 500);
    allowed(await engine.check('or', request('/', { authorization: jwt })));
  });
  it('returns a copy of the consumer: a caller cannot change the index', async () => {
    const { engine } = makeEngine(snapshot());
    const d = allowed(await engine.check('or-acl', request('/', { apikey: 'Mouse' })));
    d.consumer!.groups.push('admin');
    assert.equal(allowed(await engine.check('or-acl', request('/', { apikey: 'Mouse' }))).headersToSet['x-consumer-groups'], 'readers');
  });
  it('stats() counts routes and cached tokens', async () => {
    const { engine } = makeEngine(snapshot());
    await engine.check('or', request('/', { authorization: jwt }));
    assert.deepEqual(engine.stats(), { routes: 6, tokenCacheEntries: 1 });
  });
});
