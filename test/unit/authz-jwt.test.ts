import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzDecision, AuthzSnapshot, JwtAlgorithm } from '../../src/authz/types.js';
import { decodeToken, verifyRegisteredClaims } from '../../src/authz/plugins/jwt.js';
import { NOW_S, jwtConf, keyPair, makeEngine, request, signToken } from '../support/jwt-fixtures.js';

const ASYM = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const HS_SECRETS: Record<string, string> = { HS256: 'alice-secret-256', HS384: 'alice-secret-384', HS512: 'alice-secret-512' };

function snapshot(): AuthzSnapshot {
  return {
    consumers: [
      { id: 'c-alice', username: 'alice', customId: 'A-1' },
      { id: 'c-bob', username: 'bob' },
      { id: 'c-anon', username: 'anonymous' },
    ],
    jwtSecrets: [
      { id: 'js-1', consumerId: 'c-alice', key: 'alice-iss', secret: HS_SECRETS.HS256 },
      { consumerId: 'c-alice', key: 'HS384-iss', algorithm: 'HS384', secret: HS_SECRETS.HS384 },
      { consumerId: 'c-alice', key: 'HS512-iss', algorithm: 'HS512', secret: HS_SECRETS.HS512 },
      { consumerId: 'c-bob', key: 'b64-iss', secret: Buffer.from('raw secret bytes \u00ff').toString('base64') },
      ...ASYM.map((alg) => ({ consumerId: 'c-bob', key: `${alg}-iss`, algorithm: alg as JwtAlgorithm, rsaPublicKey: keyPair(alg).publicPem })),
    ],
    policies: [
      { routeId: 'default', plugins: { jwt: jwtConf() } },
      { routeId: 'claims', plugins: { jwt: jwtConf({ claims_to_verify: ['exp', 'nbf'] }) } },
      { routeId: 'nbf-exp', plugins: { jwt: jwtConf({ claims_to_verify: ['nbf', 'exp'] }) } },
      { routeId: 'max-exp', plugins: { jwt: jwtConf({ claims_to_verify: ['exp'], maximum_expiration: 300 }) } },
      { routeId: 'cookie', plugins: { jwt: jwtConf({ cookie_names: ['silly', 'crumble'] }) } },
      { routeId: 'custom', plugins: { jwt: jwtConf({ header_names: ['CustomAuthorization'], uri_param_names: ['token', 'jwt'] }) } },
      { routeId: 'kid', plugins: { jwt: jwtConf({ key_claim_name: 'kid' }) } },
      { routeId: 'aud', plugins: { jwt: jwtConf({ key_claim_name: 'aud' }) } },
      { routeId: 'b64', plugins: { jwt: jwtConf({ secret_is_base64: true }) } },
      { routeId: 'preflight', plugins: { jwt: jwtConf({ run_on_preflight: false }) } },
      { routeId: 'realm', plugins: { jwt: jwtConf({ realm: 'orders' }) } },
      { routeId: 'anon', plugins: { jwt: jwtConf({ anonymous: 'anonymous' }) } },
    ],
  };
}

const hs = (payload: object, header: object = {}, alg = 'HS256') => signToken(alg, HS_SECRETS[alg]!, payload, header);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function denied(d: AuthzDecision) {
  assert.equal(d.allow, false, `expected a refusal, got ${JSON.stringify(d)}`);
  return d as Extract<AuthzDecision, { allow: false }>;
}
function allowed(d: AuthzDecision) {
  assert.equal(d.allow, true, `expected allow, got ${JSON.stringify(d)}`);
  return d as Extract<AuthzDecision, { allow: true }>;
}

describe('jwt: algorithms', () => {
  const { engine } = makeEngine(snapshot());
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(`verifies ${alg} and forwards Kong's consumer headers`, async () => {
      const iss = alg === 'HS256' ? 'alice-iss' : `${alg}-iss`;
      const d = allowed(await engine.check('default', request('/', bearer(hs({ iss, exp: NOW_S + 60 }, {}, alg)))));
      assert.equal(d.headersToSet['x-consumer-id'], 'c-alice');
      assert.equal(d.headersToSet['x-consumer-username'], 'alice');
      assert.equal(d.headersToSet['x-consumer-custom-id'], 'A-1');
      assert.equal(d.headersToSet['x-credential-identifier'], iss);
      assert.equal(d.headersToSet['x-anonymous-consumer'], undefined);
      assert.ok(d.headersToRemove.includes('x-anonymous-consumer'));
      assert.deepEqual(d.metadata, { consumer_id: 'c-alice', consumer_username: 'alice', consumer_custom_id: 'A-1', credential_id: iss });
      assert.equal(d.anonymous, false);
    });
  }
  for (const alg of ASYM) {
    it(`verifies ${alg} with the secret's rsa_public_key`, async () => {
      const d = allowed(await engine.check('default', request('/', bearer(signToken(alg, keyPair(alg).privateKey, { iss: `${alg}-iss` })))));
      assert.equal(d.consumer?.id, 'c-bob');
      assert.equal(d.credentialId, `${alg}-iss`);
    });
    it(`refuses ${alg} signed by another key with "Invalid signature"`, async () => {
      const d = denied(await engine.check('default', request('/', bearer(signToken(alg, keyPair(alg, 'other').privateKey, { iss: `${alg}-iss` })))));
      assert.equal(d.status, 401);
      assert.deepEqual(d.body, { message: 'Invalid signature' });
    });
  }
});

describe('jwt: where the token comes from', () => {
  const { engine } = makeEngine(snapshot());
  const token = hs({ iss: 'alice-iss' });

  it('401 Unauthorized with a bare Bearer challenge when there is no token', async () => {
    const d = denied(await engine.check('default', request('/')));
    assert.equal(d.status, 401);
    assert.deepEqual(d.body, { message: 'Unauthorized' });
    assert.equal(d.headers['www-authenticate'], 'Bearer');
    assert.equal(d.headers['content-type'], 'application/json; charset=utf-8');
  });
  it('reads ?jwt= by default', async () => {
    allowed(await engine.check('default', request(`/orders?jwt=${token}`)));
  });
  it('reads a custom query parameter and a custom header (header names are case-insensitive)', async () => {
    allowed(await engine.check('custom', request(`/x?token=${token}`)));
    allowed(await engine.check('custom', request('/x', { CustomAuthorization: `Bearer ${token}` })));
    denied(await engine.check('custom', request('/x', bearer(token))));
  });
  it('reads cookies', async () => {
    allowed(await engine.check('cookie', request('/', { cookie: `crumble=${token}; path=/;domain=.jwt9.test` })));
    allowed(await engine.check('cookie', request('/', { cookie: `other=1; silly=${token}` })));
  });
  it('accepts "bearer" as Kong does ([Bb]earer), not "BEARER"', async () => {
    allowed(await engine.check('default', request('/', { authorization: `bearer ${token}` })));
    const d = denied(await engine.check('default', request('/', { authorization: `BEARER ${token}` })));
    assert.deepEqual(d.body, { message: 'Unauthorized' });
  });
  it('the same token in two places is one token; two different tokens are refused', async () => {
    allowed(await engine.check('default', request(`/?jwt=${token}`, bearer(token))));
    const d = denied(await engine.check('default', request(`/?jwt=${hs({ iss: 'alice-iss', x: 1 })}`, bearer(token))));
    assert.deepEqual(d.body, { message: 'Multiple tokens provided' });
    assert.equal(d.headers['www-authenticate'], 'Bearer error="invalid_token"');
  });
  it('finds the key in a header claim (key_claim_name: kid) and in another claim (aud)', async () => {
    allowed(await engine.check('kid', request('/', bearer(hs({ sub: 'x' }, { kid: 'alice-iss' })))));
    allowed(await engine.check('aud', request('/', bearer(hs({ aud: 'alice-iss' })))));
  });
  it('decodes a base64 secret when secret_is_base64', async () => {
    const t = signToken('HS256', Buffer.from('raw secret bytes \u00ff'), { iss: 'b64-iss' });
    allowed(await engine.check('b64', request('/', bearer(t))));
    denied(await engine.check('default', request('/', bearer(t))));
  });
});

describe('jwt: registered claims', () => {
  it('exp in the past: 401 {"exp":"token expired"}', async () => {
    const { engine } = makeEngine(snapshot());
    const d = denied(await engine.check('claims', request('/', bearer(hs({ iss: 'alice-iss', exp: NOW_S - 10, nbf: NOW_S - 10 })))));
    assert.equal(d.status, 401);
    assert.deepEqual(d.body, { exp: 'token expired' });
    assert.equal(d.headers['www-authenticate'], 'Bearer error="invalid_token"');
  });
  it('exp equal to now is expired (Kong: exp <= now)', async () => {
    const { engine } = makeEngine(snapshot());
    denied(await engine.check('claims', request('/', bearer(hs({ iss: 'alice-iss', exp: NOW_S, nbf: NOW_S })))));
  });
  it('nbf in the future: 401 {"nbf":"token not valid yet"}', async () => {
    const { engine } = makeEngine(snapshot());
    const d = denied(await engine.check('claims', request('/', bearer(hs({ iss: 'alice-iss', exp: NOW_S + 10, nbf: NOW_S + 5 })))));
    assert.deepEqual(d.body, { nbf: 'token not valid yet' });
  });
  it('claims to verify must be numbers, reported in the configured order', async () => {
    const { engine } = makeEngine(snapshot());
    const d = denied(await engine.check('nbf-exp', request('/', bearer(hs({ iss: 'alice-iss', exp: String(NOW_S + 60) })))));
    assert.equal(JSON.stringify(d.body), '{"nbf":"must be a number","exp":"must be a number"}');
  });
  it('claims not listed in claims_to_verify are not checked (an expired token passes, as in Kong)', async () => {
    const { engine } = makeEngine(snapshot());
    allowed(await engine.check('default', request('/', bearer(hs({ iss: 'alice-iss', exp: NOW_S - 3600 })))));
  });
  it('maximum_expiration: exp too far ahead is 401 {"exp":"exceeds maximum allowed expiration"}', async () => {
    const { engine } = makeEngine(snapshot());
    const far = denied(await engine.check('max-exp', request('/', bearer(hs({ iss: 'alice-iss', exp: NOW_S + 3600 })))));
    assert.equal(JSON.stringify(far.body), '{"exp":"exceeds maximum allowed expiration"}');
    allowed(await engine.check('max-exp', request('/', bearer(hs({ iss: 'alice-iss', exp: NOW_S + 270 })))));
  });
  it('verifyRegisteredClaims and decodeToken match Kong on edge values', () => {
    assert.equal(verifyRegisteredClaims({ exp: 10 }, ['exp'], 9), undefined);
    assert.deepEqual(verifyRegisteredClaims({ exp: 10 }, ['exp'], 10), { exp: 'token expired' });
    assert.deepEqual(verifyRegisteredClaims({}, ['exp', 'exp'], 0), { exp: 'must be a number' });
    assert.deepEqual(decodeToken('a.b'), { error: 'invalid JSON' });
  });
});

describe('jwt: preflight, realm, anonymous', () => {
  it('run_on_preflight: false lets OPTIONS through unauthenticated (and strips spoofed identity headers)', async () => {
    const { engine } = makeEngine(snapshot());
    const d = allowed(await engine.check('preflight', request('/', { 'x-consumer-id': 'c-alice' }, { method: 'OPTIONS' })));
    assert.equal(d.consumer, undefined);
    assert.deepEqual(d.headersToSet, {});
    assert.ok(d.headersToRemove.includes('x-consumer-id'));
    denied(await engine.check('preflight', request('/')));
  });
  it('run_on_preflight: true (default) authenticates OPTIONS too', async () => {
    const { engine } = makeEngine(snapshot());
    const d = denied(await engine.check('default', request('/', {}, { method: 'OPTIONS' })));
    assert.deepEqual(d.body, { message: 'Unauthorized' });
  });
  it('realm goes into every challenge', async () => {
    const { engine } = makeEngine(snapshot());
    assert.equal(denied(await engine.check('realm', request('/'))).headers['www-authenticate'], 'Bearer realm="orders"');
    const bad = denied(await engine.check('realm', request('/', bearer('x.y.z'))));
    assert.equal(bad.headers['www-authenticate'], 'Bearer realm="orders" error="invalid_token"');
  });
  it('anonymous: a failure runs as the anonymous consumer, flagged X-Anonymous-Consumer', async () => {
    const { engine } = makeEngine(snapshot());
    const d = allowed(await engine.check('anon', request('/', bearer('garbage'))));
    assert.equal(d.anonymous, true);
    assert.equal(d.headersToSet['x-anonymous-consumer'], 'true');
    assert.equal(d.headersToSet['x-consumer-username'], 'anonymous');
    assert.equal(d.headersToSet['x-credential-identifier'], undefined);
    assert.ok(d.headersToRemove.includes('x-credential-identifier'));
    assert.deepEqual(d.metadata, { consumer_id: 'c-anon', consumer_username: 'anonymous' });
    const ok = allowed(await engine.check('anon', request('/', bearer(hs({ iss: 'alice-iss' })))));
    assert.equal(ok.anonymous, false);
    assert.equal(ok.headersToSet['x-consumer-username'], 'alice');
  });
});

describe('jwt: verified-token cache', () => {
  it('caches a verified token, still checks exp on every request', async () => {
    const { engine, clock } = makeEngine(snapshot());
    const t = hs({ iss: 'alice-iss', exp: NOW_S + 60, nbf: NOW_S - 1 });
    allowed(await engine.check('claims', request('/', bearer(t))));
    assert.equal(engine.stats().tokenCacheEntries, 1);
    allowed(await engine.check('claims', request('/', bearer(t))));
    assert.equal(engine.stats().tokenCacheEntries, 1);
    clock.ms += 61_000;
    const d = denied(await engine.check('claims', request('/', bearer(t))));
    assert.deepEqual(d.body, { exp: 'token expired' });
  });
  it('a cached token stops working as soon as its secret is removed by update()', async () => {
    const snap = snapshot();
    const { engine } = makeEngine(snap);
    const t = hs({ iss: 'alice-iss' });
    allowed(await engine.check('default', request('/', bearer(t))));
    engine.update({ ...snap, jwtSecrets: snap.jwtSecrets!.filter((s) => s.key !== 'alice-iss') });
    const d = denied(await engine.check('default', request('/', bearer(t))));
    assert.deepEqual(d.body, { message: "No credentials found for given 'iss'" });
  });
  it('a cached token is refused the same way twice (claims re-checked from the cache)', async () => {
    const { engine } = makeEngine(snapshot());
    const t = hs({ iss: 'alice-iss', exp: 'soon', nbf: NOW_S + 100 });
    for (let i = 0; i < 2; i++) {
      const d = denied(await engine.check('claims', request('/', bearer(t))));
      assert.equal(JSON.stringify(d.body), '{"exp":"must be a number","nbf":"token not valid yet"}');
    }
    assert.equal(engine.stats().tokenCacheEntries, 1);
  });
  it('is bounded (LRU) and can be switched off', async () => {
    const { engine } = makeEngine(snapshot(), { tokenCacheSize: 2 });
    for (let i = 0; i < 5; i++) allowed(await engine.check('default', request('/', bearer(hs({ iss: 'alice-iss', n: i })))));
    assert.equal(engine.stats().tokenCacheEntries, 2);
    const off = makeEngine(snapshot(), { tokenCacheSize: 0 }).engine;
    allowed(await off.check('default', request('/', bearer(hs({ iss: 'alice-iss' })))));
    assert.equal(off.stats().tokenCacheEntries, 0);
  });
  it('the cache is keyed by route settings too: secret_is_base64 changes the answer', async () => {
    const { engine } = makeEngine(snapshot());
    const t = signToken('HS256', Buffer.from('raw secret bytes \u00ff'), { iss: 'b64-iss' });
    allowed(await engine.check('b64', request('/', bearer(t))));
    denied(await engine.check('default', request('/', bearer(t))));
  });
});

describe('jwt: logging', () => {
  it('never logs a token or a secret', async () => {
    const snap = snapshot();
    snap.jwtSecrets!.push({ consumerId: 'c-bob', key: 'broken-iss', algorithm: 'RS256', rsaPublicKey: 'not a pem' });
    snap.jwtSecrets!.push({ consumerId: 'ghost', key: 'ghost-iss', secret: 'ghost-secret' });
    const { engine, logger } = makeEngine(snap);
    const t = hs({ iss: 'alice-iss' });
    await engine.check('default', request('/', bearer(t)));
    const broken = signToken('RS256', keyPair('RS256').privateKey, { iss: 'broken-iss' });
    const d = denied(await engine.check('default', request('/', bearer(broken))));
    assert.equal(d.status, 500);
    assert.deepEqual(d.body, { message: 'An unexpected error occurred' });
    const text = logger.text();
    assert.ok(text.includes('broken-iss'), 'the secret is named by its key');
    for (const secret of [t, broken, ...Object.values(HS_SECRETS), 'ghost-secret', 'not a pem']) assert.ok(!text.includes(secret), `log leaks ${secret.slice(0, 12)}…`);
  });
});
