// The attack corpus (test/support/jwt-attacks.ts) through one real Envoy per enforcer: Envoy
// checking jwt, key-auth and basic-auth itself (native) and the authz companion (`enforcer: companion`). Every attack is
// refused with the status, JSON body and challenge the corpus gives, and the genuine
// credentials pass. The corpus's JWKS cases run against the companion only: a JWKS secret is
// never checked by Envoy (docs/authz.md, "Checked inside Envoy"), so a configuration with one
// keeps its jwt routes on the companion.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authEnforcer } from '../../src/contracts/authz.js';
import { CACHED_PROVIDERS_MAX } from '../../src/resources/filters/native-auth.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { attackCases, es, goodJwt, HS, jwksKey, ps, rs } from '../support/jwt-attacks.js';
import { proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

type Enforcer = 'native' | 'companion';

/**
 * Envoy checks a jwt token two ways, by the number of jwt credentials (CACHED_PROVIDERS_MAX):
 * with few, each provider is named in turn and a verified token is kept in jwt_authn's cache;
 * with more, the provider is looked up by `iss` and every token verified again. The corpus's
 * five credentials take the first way; `extra` dummy credentials (keys no attack names) the second.
 */
function gatewayConfig(upstream: string, enforcer: Enforcer, key = 'Mouse', extra = 0): string {
  const jwtSecrets = [
    { key: 'rs-iss', algorithm: 'RS256', rsa_public_key: rs.publicPem },
    { key: 'ps-iss', algorithm: 'PS256', rsa_public_key: ps.publicPem },
    { key: 'es-iss', algorithm: 'ES256', rsa_public_key: es.publicPem },
    ...(enforcer === 'companion' ? [{ key: 'jwks-iss', algorithm: 'RS256', jwks: { keys: [{ ...jwksKey.jwk, kid: 'k1', use: 'sig' }] } }] : []),
  ];
  return JSON.stringify({
    _format_version: '3.0',
    services: [{
      name: 'mock',
      url: upstream,
      routes: [
        { name: 'jwt', hosts: ['jwt.attack'], plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp', 'nbf'], maximum_expiration: 3600, enforcer } }] },
        // No claims checked: natively, a request with one well-formed token is accepted without Lua (resources/filters/native-accept.ts).
        { name: 'jwt-plain', hosts: ['jwt-plain.attack'], plugins: [{ name: 'jwt', config: { enforcer } }] },
        { name: 'key', hosts: ['key.attack'], plugins: [{ name: 'key-auth', config: { enforcer } }] },
        { name: 'basic', hosts: ['basic.attack'], plugins: [{ name: 'basic-auth', config: { enforcer } }] },
      ],
    }],
    consumers: [
      {
        username: 'alice',
        jwt_secrets: [{ key: 'alice-iss', secret: HS }, { key: 'alice512-iss', algorithm: 'HS512', secret: HS }],
        keyauth_credentials: [{ key }],
      },
      { username: 'bob', jwt_secrets: jwtSecrets, basicauth_credentials: [{ username: 'bob', password: 'kong-password' }] },
      ...(extra ? [{ username: 'carol', jwt_secrets: Array.from({ length: extra }, (_, i) => ({ key: `carol-iss-${i}`, secret: `carol-secret-${i}-0123456789abcdef` })) }] : []),
    ],
  });
}

/** The corpus cases about claims_to_verify and maximum_expiration, which the route without them accepts (Kong checks only the claims named). */
const CLAIM_CASES = new Set(['expired', 'nbf in the future', 'exp beyond maximum_expiration', 'exp as a string', 'no exp at all']);

const RUNS: Array<{ enforcer: Enforcer; extra: number; label: string }> = [
  { enforcer: 'native', extra: 0, label: 'native, tokens cached by named providers' },
  { enforcer: 'native', extra: CACHED_PROVIDERS_MAX, label: 'native, more credentials: provider looked up by iss' },
  { enforcer: 'companion', extra: 0, label: 'companion' },
];

/** jwt_authn's requirement in what the config compiles to, or undefined without the filter. */
function jwtRequirement(yaml: string): Record<string, unknown> | undefined {
  const r = compileConfig([{ file: 'gateway.yaml', text: yaml }]);
  const listeners = [...r.translation!.fleets.get('')!.get(TYPE.listener)!.values()] as Array<Record<string, any>>;
  const filters = listeners.flatMap((l) => l.filter_chains.flatMap((c: any) => c.filters.flatMap((f: any) => f.typed_config.http_filters ?? []))) as Array<Record<string, any>>;
  return filters.find((f) => f.name === 'envoy.filters.http.jwt_authn')?.typed_config.requirement_map.kong;
}

for (const { enforcer, extra, label } of RUNS) describe(`the attack corpus through Envoy (auth enforcer: ${label})`, () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  let yaml: string;
  const nowS = Math.floor(Date.now() / 1000);
  const corpus = attackCases(nowS).filter((c) => enforcer === 'companion' || !c.jwks);
  // The jwt attacks again on the route that checks no claims, but those about the claims it does not check.
  const cases = [...corpus, ...corpus.filter((c) => !c.route && !CLAIM_CASES.has(c.name)).map((c) => ({ ...c, name: `${c.name} (no claims checked)`, route: 'jwt-plain' }))];

  before(async () => {
    upstream = await startEchoUpstream('mock');
    yaml = gatewayConfig(upstream.url, enforcer, 'Mouse', extra);
    gw = await startGatewayWithAuthz(yaml);
  });

  if (enforcer === 'native') {
    test(extra ? 'jwt_authn looks the provider up by iss (allow_missing_or_failed alone)' : 'jwt_authn names each provider before allow_missing_or_failed (its token cache is used)', () => {
      const req = jwtRequirement(yaml);
      if (extra) assert.deepEqual(req, { allow_missing_or_failed: {} });
      else {
        const any = (req?.requires_any as { requirements: unknown[] } | undefined)?.requirements;
        assert.deepEqual(any?.at(-1), { allow_missing_or_failed: {} });
        assert.deepEqual(new Set(any?.slice(0, -1)), new Set(['alice-iss', 'alice512-iss', 'rs-iss', 'ps-iss', 'es-iss'].map((provider_name) => ({ provider_name }))));
      }
    });
  }
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  test(`the jwt and key-auth routes are checked by ${enforcer === 'native' ? 'Envoy' : 'the authz companion'}`, () => {
    const r = compileConfig([{ file: 'gateway.yaml', text: yaml }]);
    for (const name of ['jwt', 'jwt-plain', 'key']) {
      const route = r.ir!.routes.find((x) => x.routeName === name)!;
      assert.equal(authEnforcer(route, r.ir!.consumers)?.enforcer, enforcer === 'native' ? 'envoy' : 'authz', name);
    }
  });

  test('the genuine credentials pass', async () => {
    for (const [host, headers] of [
      ['jwt.attack', { authorization: `Bearer ${goodJwt(nowS)}` }],
      ['jwt-plain.attack', { authorization: `Bearer ${goodJwt(nowS)}` }],
      ['key.attack', { apikey: 'Mouse' }],
      ['basic.attack', { authorization: `Basic ${Buffer.from('bob:kong-password').toString('base64')}` }],
    ] as const) {
      const a = await proxyRequest(gw, { path: '/request', headers: { host, ...headers } });
      assert.equal(a.status, 200, `${host}: ${a.text}`);
      assert.equal(a.headers['x-upstream'], 'mock');
      // Kong's consumer headers reach the upstream, the client's credential unchanged (no hide_credentials), and none of Envoy's internal headers.
      const seen = (JSON.parse(a.text) as { headers: Record<string, string> }).headers;
      assert.equal(seen['x-consumer-username'], host === 'basic.attack' ? 'bob' : 'alice', host);
      if (host.startsWith('jwt')) {
        assert.equal(seen.authorization, headers.authorization, host);
        assert.equal(seen['x-credential-identifier'], 'alice-iss', host);
      }
      if (host === 'key.attack') assert.equal(seen.apikey, 'Mouse');
      assert.deepEqual(Object.keys(seen).filter((h) => h.startsWith('x-frontdesk-')), [], host);
    }
  });

  test('the keys stay out of Envoy\'s config dump (api_key_auth marks them sensitive)', async () => {
    const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump`)).text();
    assert.ok(dump.includes('"envoy.filters.http.') && dump.length > 1000, 'a config dump');
    assert.ok(!dump.includes('Mouse'), 'the key-auth key is in the config dump');
    assert.ok(!dump.includes('kong-password'), 'the basic-auth password is in the config dump');
  });

  test(`every attack is refused as the corpus says (${cases.length} attacks)`, async () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const { method, path, headers, body } = c.req;
      const a = await proxyRequest(gw, { method, path, headers: { ...headers, host: `${c.route ?? 'jwt'}.attack` }, ...(body !== undefined ? { body: String(body) } : {}) });
      let json: unknown;
      try { json = JSON.parse(a.text); } catch { json = a.text.slice(0, 100); }
      const problems = [
        a.status !== c.status && `status ${a.status}, expected ${c.status}`,
        JSON.stringify(json) !== JSON.stringify(c.body) && `body ${JSON.stringify(json)}, expected ${JSON.stringify(c.body)}`,
        a.headers['www-authenticate'] !== c.www && `www-authenticate ${String(a.headers['www-authenticate'])}, expected ${String(c.www)}`,
      ].filter(Boolean);
      if (problems.length) wrong.push(`${c.name}: ${problems.join('; ')}`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${cases.length} attacks answered otherwise`);
  });

  test('a key revoked by a YAML edit is refused, the new one accepted', async () => {
    await gw.edit(gatewayConfig(upstream.url, enforcer, 'Mouse-2', extra));
    const ask = async (key: string) => (await proxyRequest(gw, { path: '/request', headers: { host: 'key.attack', apikey: key } })).status;
    await waitFor(async () => (await ask('Mouse')) === 401 && (await ask('Mouse-2')) === 200, 'the revoked key refused and the new one accepted');
  });
});
