// Kong's hmac-auth, case by case (kong/plugins/hmac-auth, its access spec and the plugin's
// documented signature scheme). Every signature here is computed by the test from the
// documented signing string, with node:crypto, never by the code under test.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseHttpDate } from '../../src/authz/plugins/hmac-auth.js';
import type { AuthzDecision, AuthzSnapshot } from '../../src/authz/types.js';
import { hmacAuthConf, makeEngine, NOW_MS, request } from '../support/jwt-fixtures.js';

const DATE = new Date(NOW_MS).toUTCString(); // "Tue, 01 Jan 2030 12:00:00 GMT"
const NOT_VALID = 'HMAC signature cannot be verified';
const NOT_SAME = 'HMAC signature does not match';
const DATE_REQUIRED = 'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication';

const sign = (alg: string, secret: string, text: string) => createHmac(alg, secret).update(text).digest('base64');
const credentials = (username: string, algorithm: string, headers: string, signature: string, space = '') =>
  `hmac username="${username}",${space}algorithm="${algorithm}",${space}headers="${headers}",${space}signature="${signature}"`;
/** A request signed over `date` alone with bob's secret. */
const dateSigned = (alg = 'hmac-sha256', secret = 'secret') => credentials('bob', alg, 'date', sign(alg.slice(5), secret, `date: ${DATE}`));

function snapshot(): AuthzSnapshot {
  return {
    consumers: [{ id: 'c-bob', username: 'bob', customId: '1234' }, { id: 'c-nobody', username: 'no-body' }],
    hmacauthCredentials: [{ id: 'hc-bob', consumerId: 'c-bob', username: 'bob', secret: 'secret' }],
    policies: [
      { routeId: 'default', plugins: { 'hmac-auth': hmacAuthConf({ clock_skew: 3000 }) } },
      { routeId: 'realm', plugins: { 'hmac-auth': hmacAuthConf({ realm: 'api' }) } },
      { routeId: 'anon', plugins: { 'hmac-auth': hmacAuthConf({ anonymous: 'no-body' }) } },
      { routeId: 'body', plugins: { 'hmac-auth': hmacAuthConf({ validate_request_body: true }) } },
      { routeId: 'enforce', plugins: { 'hmac-auth': hmacAuthConf({ enforce_headers: ['date', 'request-line'], algorithms: ['hmac-sha1', 'hmac-sha256'] }) } },
      { routeId: 'hide', plugins: { 'hmac-auth': hmacAuthConf({ hide_credentials: true }) } },
    ],
  };
}

const denied = (d: AuthzDecision) => { assert.equal(d.allow, false, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: false }>; };
const allowed = (d: AuthzDecision) => { assert.equal(d.allow, true, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: true }>; };

describe('hmac-auth (Kong\'s access spec and signature scheme)', () => {
  const { engine, clock } = makeEngine(snapshot());
  const refusal = async (route: string, headers: Record<string, string>, message: string, extra = {}) => {
    const d = denied(await engine.check(route, request('/request', headers, extra)));
    assert.equal(d.status, 401);
    assert.deepEqual(d.body, { message });
    return d;
  };

  it('neither Authorization nor Proxy-Authorization: 401 Unauthorized with WWW-Authenticate: hmac', async () => {
    const d = await refusal('default', { date: DATE }, 'Unauthorized');
    assert.equal(d.headers['www-authenticate'], 'hmac');
    assert.equal((await refusal('realm', { date: DATE }, 'Unauthorized')).headers['www-authenticate'], 'hmac realm="api"');
  });
  it('a credential that does not parse: cannot be verified', async () => {
    for (const value of ['asd', 'hmac :dXNlcm5hbWU6cGFzc3dvcmQ=', 'hmac username=,algorithm,headers,dXNlcm5hbWU6cGFzc3dvcmQ=', 'hmac username']) {
      await refusal('default', { date: DATE, authorization: value }, NOT_VALID);
      await refusal('default', { date: DATE, 'proxy-authorization': value }, NOT_VALID);
    }
  });
  it('no date, an unparsable date, or one outside clock_skew: the date message', async () => {
    await refusal('default', { authorization: dateSigned() }, DATE_REQUIRED);
    await refusal('default', { date: 'yesterday', authorization: dateSigned() }, DATE_REQUIRED);
    const old = new Date(NOW_MS - 301_000).toUTCString();
    await refusal('realm', { date: old, authorization: credentials('bob', 'hmac-sha256', 'date', sign('sha256', 'secret', `date: ${old}`)) }, DATE_REQUIRED);
    // 300 s is still within the default skew.
    const edge = new Date(NOW_MS - 300_000).toUTCString();
    allowed(await engine.check('realm', request('/', { date: edge, authorization: credentials('bob', 'hmac-sha256', 'date', sign('sha256', 'secret', `date: ${edge}`)) })));
  });
  it('X-Date is read first; a valid X-Date stands in for a stale Date', async () => {
    const stale = new Date(NOW_MS - 3_600_000).toUTCString();
    const sig = sign('sha256', 'secret', `x-date: ${DATE}`);
    allowed(await engine.check('realm', request('/', { date: stale, 'x-date': DATE, authorization: credentials('bob', 'hmac-sha256', 'x-date', sig) })));
  });
  it('a date signature with hmac-sha256: allowed as bob, the credential identified by its username', async () => {
    const d = allowed(await engine.check('default', request('/request', { date: DATE, authorization: dateSigned() })));
    assert.equal(d.headersToSet['x-consumer-id'], 'c-bob');
    assert.equal(d.headersToSet['x-consumer-username'], 'bob');
    assert.equal(d.headersToSet['x-consumer-custom-id'], '1234');
    assert.equal(d.headersToSet['x-credential-identifier'], 'bob');
    assert.ok(!d.headersToRemove.includes('authorization'), 'the credentials go upstream unless hide_credentials');
  });
  it('each of sha224, sha256, sha384, sha512 by default; sha1 only where listed', async () => {
    for (const alg of ['hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']) allowed(await engine.check('default', request('/', { date: DATE, authorization: dateSigned(alg) })));
    await refusal('default', { date: DATE, authorization: dateSigned('hmac-sha1') }, NOT_VALID);
    const line = `GET /request HTTP/1.1`;
    const sig = sign('sha1', 'secret', `date: ${DATE}\n${line}`);
    allowed(await engine.check('enforce', request('/request', { date: DATE, authorization: credentials('bob', 'hmac-sha1', 'date request-line', sig) }, { protocol: 'HTTP/1.1' })));
  });
  it('a wrong secret, a signature that is not base64, an unknown username', async () => {
    await refusal('default', { date: DATE, authorization: dateSigned('hmac-sha256', 'not-the-secret') }, NOT_SAME);
    await refusal('default', { date: DATE, authorization: credentials('bob', 'hmac-sha256', 'date', 'not really a base64 encoded value!!!') }, NOT_SAME);
    await refusal('default', { date: DATE, authorization: credentials('alice', 'hmac-sha256', 'date', sign('sha256', 'secret', `date: ${DATE}`)) }, NOT_VALID);
  });
  it('Proxy-Authorization is read first; a bad one falls back to Authorization', async () => {
    allowed(await engine.check('default', request('/', { date: DATE, 'proxy-authorization': dateSigned(), authorization: 'hello' })));
    allowed(await engine.check('default', request('/', { date: DATE, 'proxy-authorization': 'hmac username', authorization: dateSigned() })));
  });
  it('spaces after the commas, and headers absent from the request sign as "name:"', async () => {
    const sig = sign('sha256', 'secret', `date: ${DATE}\ncontent-md5: md5\nx-absent:`);
    allowed(await engine.check('default', request('/', { date: DATE, 'content-md5': 'md5', authorization: credentials('bob', 'hmac-sha256', 'date content-md5 x-absent', sig, ' ') })));
  });
  it('request-line is the method, the path with its query and HTTP/x.y (HTTP/2 as 2.0); @request-target the lower-case method and the path', async () => {
    const h1 = sign('sha256', 'secret', `date: ${DATE}\nPOST /request?a=1 HTTP/1.1`);
    allowed(await engine.check('enforce', { method: 'POST', path: '/request?a=1', protocol: 'HTTP/1.1', headers: { date: DATE, authorization: credentials('bob', 'hmac-sha256', 'date request-line', h1) } }));
    const h2 = sign('sha256', 'secret', `date: ${DATE}\nGET /request HTTP/2.0`);
    allowed(await engine.check('enforce', request('/request', { date: DATE, authorization: credentials('bob', 'hmac-sha256', 'date request-line', h2) }, { protocol: 'HTTP/2' })));
    const target = sign('sha256', 'secret', `get /request?x=y\ndate: ${DATE}`);
    allowed(await engine.check('default', request('/request?x=y', { date: DATE, authorization: credentials('bob', 'hmac-sha256', '@request-target date', target) })));
    // The request line of another path does not verify.
    await refusal('enforce', { date: DATE, authorization: credentials('bob', 'hmac-sha256', 'date request-line', h2) }, NOT_SAME, { protocol: 'HTTP/1.1' });
  });
  it('enforce_headers: a signature that leaves one out cannot be verified', async () => {
    await refusal('enforce', { date: DATE, authorization: dateSigned() }, NOT_VALID);
  });
  it('validate_request_body: the Digest header is SHA-256 of the body; none passes only an empty body', async () => {
    const body = Buffer.from('{"a":"é"}');
    const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
    const sig = sign('sha256', 'secret', `date: ${DATE}\ndigest: ${digest}`);
    const post = (headers: Record<string, string>, bytes?: Buffer) => ({ method: 'POST', path: '/', headers, ...(bytes ? { bodyBytes: bytes, body: bytes.toString() } : {}) });
    allowed(await engine.check('body', post({ date: DATE, digest, authorization: credentials('bob', 'hmac-sha256', 'date digest', sig) }, body)));
    const d = denied(await engine.check('body', post({ date: DATE, digest, authorization: credentials('bob', 'hmac-sha256', 'date digest', sig) }, Buffer.from('{"a":"e"}'))));
    assert.deepEqual(d.body, { message: NOT_SAME });
    denied(await engine.check('body', post({ date: DATE, authorization: dateSigned() }, body)));
    allowed(await engine.check('body', post({ date: DATE, authorization: dateSigned() })));
  });
  it('hide_credentials removes the header the credentials came from', async () => {
    assert.ok(allowed(await engine.check('hide', request('/', { date: DATE, authorization: dateSigned() }))).headersToRemove.includes('authorization'));
    const viaProxy = allowed(await engine.check('hide', request('/', { date: DATE, 'proxy-authorization': dateSigned(), authorization: 'other' })));
    assert.ok(viaProxy.headersToRemove.includes('proxy-authorization'));
    assert.ok(!viaProxy.headersToRemove.includes('authorization'));
  });
  it('anonymous: a failed authentication runs as the anonymous consumer', async () => {
    const d = allowed(await engine.check('anon', request('/', { date: DATE, authorization: dateSigned('hmac-sha256', 'wrong') })));
    assert.equal(d.headersToSet['x-consumer-username'], 'no-body');
    assert.equal(d.headersToSet['x-anonymous-consumer'], 'true');
    assert.equal(d.headersToSet['x-credential-identifier'], undefined);
  });
  it('the clock moves: a signed date goes stale after clock_skew', async () => {
    clock.ms = NOW_MS + 301_000;
    await refusal('realm', { date: DATE, authorization: dateSigned() }, DATE_REQUIRED);
    clock.ms = NOW_MS;
  });
});

describe('HTTP dates as nginx reads them', () => {
  it('the three forms HTTP allows, and nothing else', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), t);
    for (const bad of ['1994-11-06T08:49:37Z', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', '784111777', '']) assert.equal(parseHttpDate(bad), undefined, bad);
  });
});
