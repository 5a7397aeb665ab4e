import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzDecision, AuthzSnapshot } from '../../src/authz/types.js';
import { keyAuthConf, makeEngine, request } from '../support/jwt-fixtures.js';

function snapshot(): AuthzSnapshot {
  return {
    consumers: [{ id: 'c-mickey', username: 'Mickey', customId: 'M-1' }, { id: 'c-anon', username: 'anonymous' }],
    keyauthCredentials: [
      { id: 'kc-1', consumerId: 'c-mickey', key: 'Mouse' },
      { consumerId: 'c-mickey', key: 'k,with,commas' },
    ],
    policies: [
      { routeId: 'default', plugins: { 'key-auth': keyAuthConf() } },
      { routeId: 'names', plugins: { 'key-auth': keyAuthConf({ key_names: ['X-API-Key', 'api_key'] }) } },
      { routeId: 'hide', plugins: { 'key-auth': keyAuthConf({ hide_credentials: true }) } },
      { routeId: 'header-only', plugins: { 'key-auth': keyAuthConf({ key_in_query: false }) } },
      { routeId: 'query-only', plugins: { 'key-auth': keyAuthConf({ key_in_header: false }) } },
      { routeId: 'body', plugins: { 'key-auth': keyAuthConf({ key_in_body: true, hide_credentials: true }) } },
      { routeId: 'realm', plugins: { 'key-auth': keyAuthConf({ realm: 'kong' }) } },
      { routeId: 'preflight', plugins: { 'key-auth': keyAuthConf({ run_on_preflight: false }) } },
      { routeId: 'anon', plugins: { 'key-auth': keyAuthConf({ anonymous: 'c-anon' }) } },
    ],
  };
}

const denied = (d: AuthzDecision) => { assert.equal(d.allow, false, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: false }>; };
const allowed = (d: AuthzDecision) => { assert.equal(d.allow, true, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: true }>; };

describe('key-auth', () => {
  const { engine, logger } = makeEngine(snapshot());

  it('accepts the key in the apikey header and sets the consumer headers (credential id as X-Credential-Identifier)', async () => {
    const d = allowed(await engine.check('default', request('/', { apikey: 'Mouse' })));
    assert.deepEqual(d.headersToSet, { 'x-consumer-id': 'c-mickey', 'x-consumer-custom-id': 'M-1', 'x-consumer-username': 'Mickey', 'x-credential-identifier': 'kc-1' });
    assert.deepEqual(d.metadata, { consumer_id: 'c-mickey', consumer_username: 'Mickey', consumer_custom_id: 'M-1', credential_id: 'kc-1' });
    assert.equal(d.queryParamsToRemove, undefined);
    assert.ok(!d.headersToRemove.includes('apikey'), 'the key is forwarded when hide_credentials is false');
  });
  it('accepts the key in the query string', async () => {
    allowed(await engine.check('default', request('/orders?apikey=Mouse&x=1')));
    allowed(await engine.check('default', request('/orders?apikey=M%6Fuse')));
  });
  it('401 "No API key found in request" with WWW-Authenticate: Key', async () => {
    const d = denied(await engine.check('default', request('/')));
    assert.equal(d.status, 401);
    assert.deepEqual(d.body, { message: 'No API key found in request' });
    assert.equal(d.headers['www-authenticate'], 'Key');
  });
  it('an empty key is no key', async () => {
    assert.deepEqual(denied(await engine.check('default', request('/?apikey='))).body, { message: 'No API key found in request' });
    assert.deepEqual(denied(await engine.check('default', request('/', { apikey: '' }))).body, { message: 'No API key found in request' });
    assert.deepEqual(denied(await engine.check('default', request('/?apikey'))).body, { message: 'No API key found in request' });
  });
  it('401 "Unauthorized" for an unknown key', async () => {
    const d = denied(await engine.check('default', request('/', { apikey: 'mouse' })));
    assert.deepEqual(d.body, { message: 'Unauthorized' });
    assert.equal(d.headers['www-authenticate'], 'Key');
  });
  it('401 "Duplicate API key found" for a repeated query parameter or header', async () => {
    assert.deepEqual(denied(await engine.check('default', request('/?apikey=Mouse&apikey=Mouse'))).body, { message: 'Duplicate API key found' });
    assert.deepEqual(denied(await engine.check('default', request('/', { apikey: 'Mouse,Mouse' }))).body, { message: 'Duplicate API key found' });
  });
  it('a key holding a comma works from the query but not from a header (Envoy joins repeats with commas)', async () => {
    allowed(await engine.check('default', request(`/?apikey=${encodeURIComponent('k,with,commas')}`)));
    denied(await engine.check('default', request('/', { apikey: 'k,with,commas' })));
  });
  it('custom key names, in order; header names are case-insensitive and "_" also finds "-"', async () => {
    allowed(await engine.check('names', request('/', { 'x-api-key': 'Mouse' })));
    allowed(await engine.check('names', request('/', { 'api-key': 'Mouse' })));
    allowed(await engine.check('names', request('/?api_key=Mouse')));
    denied(await engine.check('names', request('/?apikey=Mouse')));
  });
  it('the header wins over the query for the same name', async () => {
    allowed(await engine.check('default', request('/?apikey=wrong', { apikey: 'Mouse' })));
    denied(await engine.check('default', request('/?apikey=Mouse', { apikey: 'wrong' })));
  });
  it('key_in_query: false ignores the query; key_in_header: false ignores headers', async () => {
    denied(await engine.check('header-only', request('/?apikey=Mouse')));
    allowed(await engine.check('header-only', request('/', { apikey: 'Mouse' })));
    denied(await engine.check('query-only', request('/', { apikey: 'Mouse' })));
    allowed(await engine.check('query-only', request('/?apikey=Mouse')));
  });
  it('hide_credentials strips the key name from headers and query', async () => {
    const d = allowed(await engine.check('hide', request('/?apikey=Mouse', {})));
    assert.ok(d.headersToRemove.includes('apikey'));
    assert.deepEqual(d.queryParamsToRemove, ['apikey']);
  });
  it('key_in_body reads JSON, urlencoded and multipart bodies; hide_credentials asks to strip the field', async () => {
    const json = allowed(await engine.check('body', request('/', { 'content-type': 'application/json' }, { method: 'POST', body: '{"apikey":"Mouse"}' })));
    assert.deepEqual(json.bodyParamsToRemove, ['apikey']);
    allowed(await engine.check('body', request('/', { 'content-type': 'application/x-www-form-urlencoded' }, { method: 'POST', body: 'a=1&apikey=Mouse' })));
    const multipart = '--XyZ\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nMouse\r\n--XyZ--\r\n';
    allowed(await engine.check('body', request('/', { 'content-type': 'multipart/form-data; boundary=XyZ' }, { method: 'POST', body: multipart })));
    assert.deepEqual(denied(await engine.check('body', request('/', { 'content-type': 'application/json' }, { method: 'POST', body: '{"apikey":["Mouse","x"]}' }))).body, { message: 'Duplicate API key found' });
    assert.deepEqual(denied(await engine.check('body', request('/', { 'content-type': 'application/json' }, { method: 'POST', body: '{"apikey":42}' }))).body, { message: 'No API key found in request' });
    assert.deepEqual(denied(await engine.check('body', request('/', { 'content-type': 'text/plain' }, { method: 'POST', body: 'apikey=Mouse' }))).body, { message: 'No API key found in request' });
    denied(await engine.check('default', request('/', { 'content-type': 'application/json' }, { method: 'POST', body: '{"apikey":"Mouse"}' })));
  });
  it('realm goes into the challenge', async () => {
    assert.equal(denied(await engine.check('realm', request('/'))).headers['www-authenticate'], 'Key realm="kong"');
  });
  it('run_on_preflight: false lets OPTIONS through', async () => {
    allowed(await engine.check('preflight', request('/', {}, { method: 'OPTIONS' })));
    denied(await engine.check('default', request('/', {}, { method: 'OPTIONS' })));
  });
  it('anonymous by consumer id', async () => {
    const d = allowed(await engine.check('anon', request('/', { apikey: 'nope' })));
    assert.equal(d.anonymous, true);
    assert.equal(d.headersToSet['x-consumer-id'], 'c-anon');
  });
  it('keys never reach the log', () => {
    assert.ok(!logger.text().includes('Mouse'));
  });
});

describe('key-auth: index', () => {
  it('keeps the first of two credentials with the same key and says so without the key', async () => {
    const snap = snapshot();
    snap.consumers.push({ id: 'c-other' });
    snap.keyauthCredentials!.push({ id: 'kc-dup', consumerId: 'c-other', key: 'Mouse' });
    const { engine, logger } = makeEngine(snap);
    assert.equal(allowed(await engine.check('default', request('/', { apikey: 'Mouse' }))).consumer?.id, 'c-mickey');
    assert.match(logger.text(), /duplicate key-auth key ignored/);
    assert.ok(!logger.text().includes('Mouse'));
  });
  it('a credential without an id gets a stable derived one', async () => {
    const a = makeEngine(snapshot()).engine;
    const b = makeEngine(snapshot()).engine;
    const da = allowed(await a.check('query-only', request(`/?apikey=${encodeURIComponent('k,with,commas')}`)));
    const db = allowed(await b.check('query-only', request(`/?apikey=${encodeURIComponent('k,with,commas')}`)));
    assert.match(da.credentialId!, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(da.credentialId, db.credentialId);
  });
  it('revoking a key by update() takes effect on the next check', async () => {
    const snap = snapshot();
    const { engine } = makeEngine(snap);
    allowed(await engine.check('default', request('/', { apikey: 'Mouse' })));
    engine.update({ ...snap, keyauthCredentials: [] });
    assert.deepEqual(denied(await engine.check('default', request('/', { apikey: 'Mouse' }))).body, { message: 'Unauthorized' });
  });
});
