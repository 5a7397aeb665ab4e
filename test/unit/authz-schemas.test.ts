/** The four auth plugin schemas (Kong's fields and defaults) and the jwt secret checks the model uses. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { jwtSecretProblem } from '../../src/jwt-keys.js';
import { aclConfigSchema, aclPlugin } from '../../src/model/plugins/acl.js';
import { basicAuthConfigSchema, basicAuthPlugin } from '../../src/model/plugins/basic-auth.js';
import { jwtConfigSchema, jwtPlugin } from '../../src/model/plugins/jwt.js';
import { keyAuthConfigSchema, keyAuthPlugin } from '../../src/model/plugins/key-auth.js';
import { keyPair } from '../support/jwt-fixtures.js';

const issues = (r: { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[]; code: string }> } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.code === 'unrecognized_keys' ? 'unknown key' : i.message}`);

describe('plugin schemas', () => {
  it('jwt: Kong\'s defaults', () => {
    assert.deepEqual(jwtConfigSchema.parse({}), {
      uri_param_names: ['jwt'], cookie_names: [], header_names: ['authorization'], key_claim_name: 'iss',
      secret_is_base64: false, run_on_preflight: true, maximum_expiration: 0,
    });
    assert.equal(jwtPlugin.name, 'jwt');
    assert.deepEqual(jwtPlugin.scopes, ['global', 'service', 'route']);
  });
  it('jwt: the deep-dive example loads (claims_to_verify exp, header_names Authorization)', () => {
    const c = jwtConfigSchema.parse({ claims_to_verify: ['exp'], header_names: ['Authorization'] });
    assert.deepEqual(c.claims_to_verify, ['exp']);
    assert.deepEqual(c.header_names, ['Authorization']);
  });
  it('jwt: rejects unknown keys, unknown claims, out-of-range maximum_expiration', () => {
    assert.deepEqual(issues(jwtConfigSchema.safeParse({ claim_to_verify: ['exp'] })), [': unknown key']);
    assert.equal(jwtConfigSchema.safeParse({ claims_to_verify: ['iat'] }).success, false);
    assert.equal(jwtConfigSchema.safeParse({ maximum_expiration: 31536001, claims_to_verify: ['exp'] }).success, false);
    assert.equal(jwtConfigSchema.safeParse({ maximum_expiration: -1 }).success, false);
  });
  it('jwt: maximum_expiration needs exp in claims_to_verify (Kong\'s entity check)', () => {
    assert.deepEqual(issues(jwtConfigSchema.safeParse({ maximum_expiration: 300 })), ['claims_to_verify: maximum_expiration > 0 requires "exp" in claims_to_verify']);
    assert.equal(jwtConfigSchema.safeParse({ maximum_expiration: 300, claims_to_verify: ['exp'] }).success, true);
  });
  it('anonymous: "" (older files) means unset', () => {
    assert.equal(jwtConfigSchema.parse({ anonymous: '' }).anonymous, undefined);
    assert.equal(keyAuthConfigSchema.parse({ anonymous: 'anon' }).anonymous, 'anon');
  });
  it('key-auth: Kong\'s defaults; key names are header-name characters', () => {
    assert.deepEqual(keyAuthConfigSchema.parse({}), {
      key_names: ['apikey'], hide_credentials: false, key_in_header: true, key_in_query: true,
      key_in_body: false, run_on_preflight: true,
    });
    assert.equal(keyAuthConfigSchema.safeParse({ key_names: ['api key'] }).success, false);
    assert.equal(keyAuthConfigSchema.safeParse({ key_names: ['X-API_Key-2'] }).success, true);
    assert.equal(keyAuthPlugin.name, 'key-auth');
  });
  it('basic-auth: Kong\'s defaults (realm "service")', () => {
    assert.deepEqual(basicAuthConfigSchema.parse({}), { hide_credentials: false, realm: 'service' });
    assert.equal(basicAuthConfigSchema.safeParse({ hide_credential: true }).success, false);
    assert.equal(basicAuthPlugin.name, 'basic-auth');
  });
  it('acl: exactly one of allow / deny', () => {
    assert.deepEqual(aclConfigSchema.parse({ allow: ['orders-read', 'orders-write'] }), {
      allow: ['orders-read', 'orders-write'], hide_groups_header: false, include_consumer_groups: false, always_use_authenticated_groups: false,
    });
    assert.equal(aclConfigSchema.safeParse({ deny: ['x'], allow: [] }).success, true);
    assert.deepEqual(issues(aclConfigSchema.safeParse({})), ['allow: set exactly one of "allow" or "deny" (a non-empty list of groups)']);
    assert.equal(aclConfigSchema.safeParse({ allow: ['a'], deny: ['b'] }).success, false);
    assert.equal(aclConfigSchema.safeParse({ whitelist: ['a'] }).success, false);
    assert.equal(aclPlugin.name, 'acl');
  });
  it('acl: include_consumer_groups: true is refused (no consumer_groups in Frontdesk)', () => {
    assert.match(issues(aclConfigSchema.safeParse({ allow: ['a'], include_consumer_groups: true })).join(), /include_consumer_groups: .*does not implement/);
  });
});

describe('jwtSecretProblem', () => {
  it('accepts fitting keys', () => {
    assert.equal(jwtSecretProblem({ consumerId: 'c', key: 'k', secret: 's' }), undefined);
    for (const alg of ['RS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
      const pair = keyPair(alg === 'PS384' ? 'RS256' : alg);
      assert.equal(jwtSecretProblem({ consumerId: 'c', key: 'k', algorithm: alg, rsaPublicKey: pair.publicPem }), undefined, alg);
    }
    assert.equal(jwtSecretProblem({ consumerId: 'c', key: 'k', algorithm: 'RS256', jwksUri: 'https://idp/jwks' }), undefined);
  });
  it('names what is wrong, without the key material', () => {
    const cases: Array<[Parameters<typeof jwtSecretProblem>[0], RegExp]> = [
      [{ consumerId: 'c', key: 'k', algorithm: 'HS256' }, /HS256 needs "secret"/],
      [{ consumerId: 'c', key: 'k', algorithm: 'RS256' }, /needs rsa_public_key/],
      [{ consumerId: 'c', key: 'k', algorithm: 'RS256', rsaPublicKey: 'garbage' }, /does not parse/],
      [{ consumerId: 'c', key: 'k', algorithm: 'RS256', rsaPublicKey: keyPair('ES256').publicPem }, /RS256 needs an RSA public key, got ec/],
      [{ consumerId: 'c', key: 'k', algorithm: 'ES256', rsaPublicKey: keyPair('ES384').publicPem }, /ES256 needs curve P-256/],
      [{ consumerId: 'c', key: 'k', algorithm: 'PS256', rsaPublicKey: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }, /id-RSASSA-PSS keys are not supported/],
      [{ consumerId: 'c', key: 'k', algorithm: 'RS256', rsaPublicKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }, /2048 bits or more, got 1024/],
      [{ consumerId: 'c', key: 'k', algorithm: 'EdDSA', rsaPublicKey: keyPair('RS256').publicPem }, /EdDSA needs an Ed25519 public key/],
      [{ consumerId: 'c', key: 'k', algorithm: 'HS256', secret: 's', rsaPublicKey: keyPair('RS256').publicPem }, /rsa_public_key is for/],
      [{ consumerId: 'c', key: 'k', algorithm: 'RS256', jwks: { keys: [keyPair('ES256').jwk] } }, /no key usable with RS256/],
      [{ consumerId: 'c', key: 'k', algorithm: 'RS256', jwksUri: 'https://x', rsaPublicKey: keyPair('RS256').publicPem }, /only one of/],
    ];
    for (const [secret, re] of cases) assert.match(jwtSecretProblem(secret) ?? 'no problem', re);
    assert.ok(!(jwtSecretProblem({ consumerId: 'c', key: 'k', algorithm: 'RS256', rsaPublicKey: 'garbage' }) ?? '').includes('garbage'));
  });
});
