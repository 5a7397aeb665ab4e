/**
 * The JWKS extension: keys picked by kid from an inline JWKS or one fetched by URL, with a
 * timeout, a cache, a refresh on an unknown kid and a rate cap on refreshes.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { AuthzDecision, AuthzFetch, AuthzSnapshot, JsonWebKeySet } from '../../src/authz/types.js';
import { NOW_S, jwtConf, keyPair, makeEngine, request, signToken } from '../support/jwt-fixtures.js';

const k1 = keyPair('RS256', 'k1');
const k2 = keyPair('RS256', 'k2');
const ec = keyPair('ES256', 'jwks');
const URI = 'https://idp.example/.well-known/jwks.json';

const jwk = (p: typeof k1, kid: string, extra: object = {}) => ({ ...p.jwk, kid, ...extra });
const token = (p: typeof k1, kid: string | undefined, claims: object = {}) =>
  signToken('RS256', p.privateKey, { iss: 'idp', exp: NOW_S + 600, ...claims }, kid === undefined ? {} : { kid });
const bearer = (t: string) => request('/', { authorization: `Bearer ${t}` });

function snapshot(secret: Partial<AuthzSnapshot['jwtSecrets'] extends Array<infer S> | undefined ? S : never>): AuthzSnapshot {
  return {
    consumers: [{ id: 'c-idp', username: 'idp-users' }],
    jwtSecrets: [{ consumerId: 'c-idp', key: 'idp', algorithm: 'RS256', ...secret }],
    policies: [{ routeId: 'r', plugins: { jwt: jwtConf({ claims_to_verify: ['exp'] }) } }],
  };
}

const denied = (d: AuthzDecision) => { assert.equal(d.allow, false, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: false }>; };
const allowed = (d: AuthzDecision) => { assert.equal(d.allow, true, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: true }>; };

/** A fake JWKS endpoint: serves `doc` (changeable), counts requests, can fail or hang. */
function fakeIdp(initial: JsonWebKeySet) {
  const idp = { doc: initial, calls: 0, status: 200, hang: false, body: undefined as string | undefined };
  const fetch: AuthzFetch = (url, init) => {
    idp.calls++;
    assert.equal(url, URI);
    if (idp.hang) {
      return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    }
    const text = idp.body ?? JSON.stringify(idp.doc);
    return Promise.resolve({ ok: idp.status < 400, status: idp.status, text: () => Promise.resolve(text) });
  };
  return { idp, fetch };
}

describe('jwks: inline', () => {
  it('picks the key by kid; a lone key needs no kid', async () => {
    const { engine } = makeEngine(snapshot({ jwks: { keys: [jwk(k1, 'k1'), jwk(k2, 'k2')] } }));
    assert.equal(allowed(await engine.check('r', bearer(token(k1, 'k1')))).credentialId, 'idp');
    allowed(await engine.check('r', bearer(token(k2, 'k2'))));
    assert.deepEqual(denied(await engine.check('r', bearer(token(k1, 'k2')))).body, { message: 'Invalid signature' });
    assert.deepEqual(denied(await engine.check('r', bearer(token(k1, undefined)))).body, { message: "No mandatory 'kid' in header" });
    const lone = makeEngine(snapshot({ jwks: { keys: [jwk(k1, 'only')] } })).engine;
    allowed(await lone.check('r', bearer(token(k1, undefined))));
  });
  it('ignores keys that do not fit the secret\'s algorithm (kty, alg, use)', async () => {
    const { engine } = makeEngine(snapshot({ jwks: { keys: [jwk(k1, 'a', { alg: 'PS256' }), jwk(k1, 'b', { use: 'enc' }), jwk(ec, 'c')] } }));
    for (const kid of ['a', 'b', 'c']) {
      assert.deepEqual(denied(await engine.check('r', bearer(token(k1, kid)))).body, { message: "No credentials found for given 'kid'" });
    }
  });
  it('an EC JWKS secret verifies ES256', async () => {
    const { engine } = makeEngine(snapshot({ algorithm: 'ES256', jwks: { keys: [jwk(ec, 'e1')] } }));
    allowed(await engine.check('r', bearer(signToken('ES256', ec.privateKey, { iss: 'idp', exp: NOW_S + 60 }, { kid: 'e1' }))));
  });
});

describe('jwks: by URL', () => {
  const opts = (fetch: AuthzFetch) => ({ fetch, jwksTimeoutMs: 200, jwksCacheTtlMs: 60_000, jwksRefreshIntervalMs: 10_000 });

  it('fetches once (at update), then serves from the cache', async () => {
    const { idp, fetch } = fakeIdp({ keys: [jwk(k1, 'k1')] });
    const { engine } = makeEngine(snapshot({ jwksUri: URI }), opts(fetch));
    allowed(await engine.check('r', bearer(token(k1, 'k1'))));
    allowed(await engine.check('r', bearer(token(k1, 'k1', { n: 2 }))));
    assert.equal(idp.calls, 1);
  });
  it('an unknown kid refreshes the JWKS, at most once per interval', async () => {
    const { idp, fetch } = fakeIdp({ keys: [jwk(k1, 'k1')] });
    const { engine, clock } = makeEngine(snapshot({ jwksUri: URI }), opts(fetch));
    allowed(await engine.check('r', bearer(token(k1, 'k1'))));
    clock.ms += 10_001;
    // the IdP rotates in k2: the first k2 token triggers a refresh and passes
    idp.doc = { keys: [jwk(k1, 'k1'), jwk(k2, 'k2')] };
    allowed(await engine.check('r', bearer(token(k2, 'k2'))));
    assert.equal(idp.calls, 2);
    // a flood of unknown kids within the interval costs the IdP nothing more
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(denied(await engine.check('r', bearer(token(k1, `forged-${i}`)))).body, { message: "No credentials found for given 'kid'" });
    }
    assert.equal(idp.calls, 2);
    clock.ms += 10_001;
    denied(await engine.check('r', bearer(token(k1, 'forged-again'))));
    assert.equal(idp.calls, 3);
  });
  it('concurrent requests share one fetch', async () => {
    const { idp, fetch } = fakeIdp({ keys: [jwk(k1, 'k1')] });
    const { engine } = makeEngine(snapshot({ jwksUri: URI }), opts(fetch));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.check('r', bearer(token(k1, 'k1', { i })))));
    for (const d of results) allowed(d);
    assert.equal(idp.calls, 1);
  });
  it('refetches after the cache TTL; a failed refetch keeps the last good JWKS', async () => {
    const { idp, fetch } = fakeIdp({ keys: [jwk(k1, 'k1')] });
    const { engine, clock, logger } = makeEngine(snapshot({ jwksUri: URI }), opts(fetch));
    allowed(await engine.check('r', bearer(token(k1, 'k1'))));
    clock.ms += 60_001;
    idp.status = 503;
    allowed(await engine.check('r', bearer(token(k1, 'k1', { n: 1 }))));
    assert.equal(idp.calls, 2);
    assert.match(logger.text(), /"keptPrevious":true} authz: jwks fetch failed/);
  });
  it('a JWKS that cannot be fetched is a 500 (fail closed), not a 401', async () => {
    const { idp, fetch } = fakeIdp({ keys: [jwk(k1, 'k1')] });
    idp.status = 500;
    const { engine, logger } = makeEngine(snapshot({ jwksUri: URI }), opts(fetch));
    const d = denied(await engine.check('r', bearer(token(k1, 'k1'))));
    assert.equal(d.status, 500);
    assert.deepEqual(d.body, { message: 'An unexpected error occurred' });
    assert.match(logger.text(), /HTTP 500/);
  });
  it('a hanging JWKS endpoint times out', async () => {
    const { idp, fetch } = fakeIdp({ keys: [jwk(k1, 'k1')] });
    idp.hang = true;
    const { engine, logger } = makeEngine(snapshot({ jwksUri: URI }), { ...opts(fetch), jwksTimeoutMs: 30 });
    assert.equal(denied(await engine.check('r', bearer(token(k1, 'k1')))).status, 500);
    assert.match(logger.text(), /timed out after 30 ms/);
  });
  it('refuses an oversized or malformed JWKS document', async () => {
    for (const [body, why] of [['x'.repeat(2048), /larger than 1024 bytes/], ['{"nokeys":[]}', /not a JWKS/], ['<html>', /JSON/]] as const) {
      const { idp, fetch } = fakeIdp({ keys: [] });
      idp.body = body;
      const { engine, logger } = makeEngine(snapshot({ jwksUri: URI }), { ...opts(fetch), jwksMaxBytes: 1024 });
      assert.equal(denied(await engine.check('r', bearer(token(k1, 'k1')))).status, 500);
      assert.match(logger.text(), why);
    }
  });
  it('a key removed from the JWKS stops a cached token at the next refresh', async () => {
    const { idp, fetch } = fakeIdp({ keys: [jwk(k1, 'k1')] });
    const { engine, clock } = makeEngine(snapshot({ jwksUri: URI }), opts(fetch));
    const t = token(k1, 'k1');
    allowed(await engine.check('r', bearer(t)));
    assert.equal(engine.stats().tokenCacheEntries, 1);
    idp.doc = { keys: [jwk(k2, 'k2')] };
    clock.ms += 60_001;
    allowed(await engine.check('r', bearer(token(k2, 'k2'))));
    assert.deepEqual(denied(await engine.check('r', bearer(t))).body, { message: "No credentials found for given 'kid'" });
  });
});

describe('jwks: a real HTTP endpoint', () => {
  const server = createServer((req, res) => {
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk(k1, 'k1')] }));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is fetched with the platform fetch', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { engine } = makeEngine(snapshot({ jwksUri: `http://127.0.0.1:${port}/jwks.json` }), { fetch: globalThis.fetch, jwksTimeoutMs: 2000 });
    allowed(await engine.check('r', bearer(token(k1, 'k1'))));
  });
});
