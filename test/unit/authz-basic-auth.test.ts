import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBasic } from '../../src/authz/plugins/basic-auth.js';
import type { AuthzDecision, AuthzSnapshot } from '../../src/authz/types.js';
import { basicAuthConf, makeEngine, request } from '../support/jwt-fixtures.js';

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

function snapshot(): AuthzSnapshot {
  return {
    consumers: [{ id: 'c-bob', username: 'bob' }, { id: 'c-nobody', username: 'no-body' }],
    basicauthCredentials: [
      { id: 'bc-1', consumerId: 'c-bob', username: 'bob', password: 'kong' },
      { consumerId: 'c-bob', username: 'user123', password: 'password123' },
      { consumerId: 'c-bob', username: 'user321', password: 'password:123' },
    ],
    policies: [
      { routeId: 'realm', plugins: { 'basic-auth': basicAuthConf({ realm: 'test-realm' }) } },
      { routeId: 'hide', plugins: { 'basic-auth': basicAuthConf({ hide_credentials: true }) } },
      { routeId: 'anon', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'no-body' }) } },
      { routeId: 'missing-anon', plugins: { 'basic-auth': basicAuthConf({ anonymous: '00000000-0000-4000-8000-000000000000' }) } },
    ],
  };
}

const denied = (d: AuthzDecision) => { assert.equal(d.allow, false, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: false }>; };
const allowed = (d: AuthzDecision) => { assert.equal(d.allow, true, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: true }>; };

describe('basic-auth (cases from Kong\'s access spec)', () => {
  const { engine, logger } = makeEngine(snapshot());

  it('missing credentials: 401 Unauthorized, Basic realm="service" by default', async () => {
    const d = denied(await engine.check('hide', request('/')));
    assert.equal(d.status, 401);
    assert.deepEqual(d.body, { message: 'Unauthorized' });
    assert.equal(d.headers['www-authenticate'], 'Basic realm="service"');
    assert.equal(denied(await engine.check('realm', request('/'))).headers['www-authenticate'], 'Basic realm="test-realm"');
  });
  for (const [what, headers] of [
    ['garbage in Authorization', { authorization: 'foobar' }],
    ['garbage in Proxy-Authorization', { 'proxy-authorization': 'foobar' }],
    ['password only', { authorization: 'Basic a29uZw==' }],
    ['username only', { authorization: 'Basic Ym9i' }],
    ['invalid base64', { authorization: 'Basic adXNlcjEyMzpwYXNzd29yZDEyMw==' }],
    ['wrong password', { authorization: basic('bob:Kong') }],
    ['the right password followed by a line break and more', { authorization: basic('bob:kong\nanything') }],
    ['unknown user', { authorization: basic('alice:kong') }],
    ['empty username', { authorization: basic(':kong') }],
  ] as const) {
    it(`${what}: 401 Unauthorized with the challenge`, async () => {
      const d = denied(await engine.check('realm', request('/', headers)));
      assert.deepEqual(d.body, { message: 'Unauthorized' });
      assert.equal(d.headers['www-authenticate'], 'Basic realm="test-realm"');
    });
  }
  it('authenticates Authorization and Proxy-Authorization; X-Credential-Identifier is the username', async () => {
    const d = allowed(await engine.check('realm', request('/', { authorization: 'Basic dXNlcjEyMzpwYXNzd29yZDEyMw==' })));
    assert.equal(d.headersToSet['x-consumer-username'], 'bob');
    assert.equal(d.headersToSet['x-credential-identifier'], 'user123');
    allowed(await engine.check('realm', request('/', { 'proxy-authorization': 'Basic Ym9iOmtvbmc=' })));
  });
  it('a password may hold ":"', async () => {
    assert.equal(allowed(await engine.check('realm', request('/', { authorization: basic('user321:password:123') }))).credentialId, 'user321');
  });
  it('"basic" in lower case and no space after the scheme are accepted, as Kong\'s regex does', async () => {
    allowed(await engine.check('realm', request('/', { authorization: 'basic Ym9iOmtvbmc=' })));
    allowed(await engine.check('realm', request('/', { authorization: 'BasicYm9iOmtvbmc=' })));
  });
  it('Proxy-Authorization is tried first; Authorization when it names no known user', async () => {
    allowed(await engine.check('realm', request('/', { 'proxy-authorization': basic('ghost:x'), authorization: basic('bob:kong') })));
    // a known user with a wrong password in Proxy-Authorization is final, as in Kong
    denied(await engine.check('realm', request('/', { 'proxy-authorization': basic('bob:wrong'), authorization: basic('bob:kong') })));
  });
  it('hide_credentials strips the header(s) read; false forwards them', async () => {
    const hidden = allowed(await engine.check('hide', request('/', { authorization: 'Basic Ym9iOmtvbmc=' })));
    assert.ok(hidden.headersToRemove.includes('authorization'));
    const shown = allowed(await engine.check('realm', request('/', { authorization: 'Basic Ym9iOmtvbmc=' })));
    assert.ok(!shown.headersToRemove.includes('authorization'));
  });
  it('anonymous by username', async () => {
    const d = allowed(await engine.check('anon', request('/')));
    assert.equal(d.headersToSet['x-anonymous-consumer'], 'true');
    assert.equal(d.headersToSet['x-consumer-username'], 'no-body');
    const real = allowed(await engine.check('anon', request('/', { authorization: basic('user123:password123') })));
    assert.equal(real.anonymous, false);
    assert.equal(real.credentialId, 'user123');
  });
  it('an anonymous consumer that does not exist is a 500, as in Kong', async () => {
    const d = denied(await engine.check('missing-anon', request('/')));
    assert.equal(d.status, 500);
    assert.deepEqual(d.body, { message: 'An unexpected error occurred' });
  });
  it('passwords never reach the log', () => {
    assert.ok(!/kong"|password123|password:123/.test(logger.text()));
  });
});

describe('basic-auth: parsing', () => {
  it('splits at the first colon and needs a username', () => {
    assert.deepEqual(parseBasic(basic('a:b:c')), { username: 'a', password: 'b:c' });
    assert.deepEqual(parseBasic(basic('a:')), { username: 'a', password: '' });
    assert.equal(parseBasic(basic(':b')), undefined);
    assert.equal(parseBasic(basic('ab')), undefined);
    assert.equal(parseBasic('Bearer x'), undefined);
    assert.equal(parseBasic(undefined), undefined);
  });
  it('a password with a line break is taken whole, not cut at the line feed', () => {
    assert.deepEqual(parseBasic(basic('bob:kong\nextra')), { username: 'bob', password: 'kong\nextra' });
    assert.deepEqual(parseBasic(basic('bob:ko\r\nng')), { username: 'bob', password: 'ko\r\nng' });
  });
});
