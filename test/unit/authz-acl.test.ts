import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzDecision, AuthzSnapshot } from '../../src/authz/types.js';
import { aclConf, keyAuthConf, makeEngine, request } from '../support/jwt-fixtures.js';

function snapshot(): AuthzSnapshot {
  return {
    consumers: [
      { id: 'c-admin', username: 'admin', groups: ['admin'] },
      { id: 'c-pro', username: 'pro' },
      { id: 'c-free', username: 'free' },
      { id: 'c-none', username: 'none' },
      { id: 'c-anon', username: 'anonymous' },
      { id: 'c-anon-grouped', username: 'anonymous-grouped', groups: ['guests'] },
    ],
    acls: [
      { consumerId: 'c-pro', group: 'pro' },
      { consumerId: 'c-pro', group: 'hello' },
      { consumerId: 'c-free', group: 'free' },
      { consumerId: 'c-free', group: 'hello' },
      { consumerId: 'ghost', group: 'x' },
    ],
    keyauthCredentials: [
      { consumerId: 'c-admin', key: 'k-admin' },
      { consumerId: 'c-pro', key: 'k-pro' },
      { consumerId: 'c-free', key: 'k-free' },
      { consumerId: 'c-none', key: 'k-none' },
    ],
    policies: [
      { routeId: 'allow-admin', plugins: { 'key-auth': keyAuthConf(), acl: aclConf({ allow: ['admin'] }) } },
      { routeId: 'allow-many', plugins: { 'key-auth': keyAuthConf(), acl: aclConf({ allow: ['admin', 'pro', 'hello'] }) } },
      { routeId: 'deny-admin', plugins: { 'key-auth': keyAuthConf(), acl: aclConf({ deny: ['admin'] }) } },
      { routeId: 'hidden', plugins: { 'key-auth': keyAuthConf(), acl: aclConf({ allow: ['pro'], hide_groups_header: true }) } },
      { routeId: 'acl-only', plugins: { acl: aclConf({ allow: ['admin'] }) } },
      { routeId: 'anon', plugins: { 'key-auth': keyAuthConf({ anonymous: 'anonymous' }), acl: aclConf({ allow: ['pro'] }) } },
      { routeId: 'anon-grouped', plugins: { 'key-auth': keyAuthConf({ anonymous: 'anonymous-grouped' }), acl: aclConf({ allow: ['pro'] }) } },
      { routeId: 'anon-deny', plugins: { 'key-auth': keyAuthConf({ anonymous: 'anonymous' }), acl: aclConf({ deny: ['pro'] }) } },
    ],
  };
}

const denied = (d: AuthzDecision) => { assert.equal(d.allow, false, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: false }>; };
const allowed = (d: AuthzDecision) => { assert.equal(d.allow, true, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: true }>; };
const key = (k: string) => ({ apikey: k });

describe('acl', () => {
  const { engine } = makeEngine(snapshot());

  it('allow list: a member passes with X-Consumer-Groups', async () => {
    const d = allowed(await engine.check('allow-admin', request('/', key('k-admin'))));
    assert.equal(d.headersToSet['x-consumer-groups'], 'admin');
    const many = allowed(await engine.check('allow-many', request('/', key('k-pro'))));
    assert.equal(many.headersToSet['x-consumer-groups'], 'pro, hello');
    allowed(await engine.check('allow-many', request('/', key('k-free'))));
  });
  it('allow list: a non-member is 403 "You cannot consume this service" (no challenge)', async () => {
    const d = denied(await engine.check('allow-admin', request('/', key('k-pro'))));
    assert.equal(d.status, 403);
    assert.deepEqual(d.body, { message: 'You cannot consume this service' });
    assert.equal(d.headers['www-authenticate'], undefined);
  });
  it('allow list: an authenticated consumer with no groups is 403', async () => {
    assert.equal(denied(await engine.check('allow-admin', request('/', key('k-none')))).status, 403);
  });
  it('deny list: a member is 403, others (even without groups) pass', async () => {
    assert.equal(denied(await engine.check('deny-admin', request('/', key('k-admin')))).status, 403);
    allowed(await engine.check('deny-admin', request('/', key('k-pro'))));
    const none = allowed(await engine.check('deny-admin', request('/', key('k-none'))));
    assert.equal(none.headersToSet['x-consumer-groups'], '');
  });
  it('hide_groups_header: no X-Consumer-Groups, and a client-sent one is removed', async () => {
    const d = allowed(await engine.check('hidden', request('/', { ...key('k-pro'), 'x-consumer-groups': 'admin' })));
    assert.equal(d.headersToSet['x-consumer-groups'], undefined);
    assert.ok(d.headersToRemove.includes('x-consumer-groups'));
  });
  it('no authenticated consumer: 401 Unauthorized', async () => {
    const d = denied(await engine.check('acl-only', request('/')));
    assert.equal(d.status, 401);
    assert.deepEqual(d.body, { message: 'Unauthorized' });
  });
  it('the anonymous consumer without groups is 401 on an allow list', async () => {
    const d = denied(await engine.check('anon', request('/')));
    assert.equal(d.status, 401);
    assert.deepEqual(d.body, { message: 'Unauthorized' });
    allowed(await engine.check('anon', request('/', key('k-pro'))));
  });
  it('the anonymous consumer with groups outside the allow list is 403', async () => {
    assert.equal(denied(await engine.check('anon-grouped', request('/'))).status, 403);
  });
  it('the anonymous consumer passes a deny list it is not on', async () => {
    const d = allowed(await engine.check('anon-deny', request('/')));
    assert.equal(d.anonymous, true);
    assert.equal(denied(await engine.check('anon-deny', request('/', key('k-pro')))).status, 403);
  });
  it('the auth plugin fails first when it has no anonymous (401 from key-auth, not acl)', async () => {
    assert.deepEqual(denied(await engine.check('allow-admin', request('/'))).body, { message: 'No API key found in request' });
  });
  it('group changes apply on update()', async () => {
    const snap = snapshot();
    const e = makeEngine(snap).engine;
    denied(await e.check('allow-admin', request('/', key('k-pro'))));
    e.update({ ...snap, acls: [...snap.acls!, { consumerId: 'c-pro', group: 'admin' }] });
    allowed(await e.check('allow-admin', request('/', key('k-pro'))));
  });
});
