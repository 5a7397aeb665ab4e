// The acme plugin without a CA: its config as the loader reads it (Kong 3.x schema.lua and its
// entity checks), the names it holds certificates for, and what the http and https listeners
// serve from the ACME client's state. Expected values are Kong's (kong/plugins/acme/handler.lua:
// build_domain_matcher, check_domains, the access phase on http only, the certificate phase
// only where Kong would serve its default certificate; lua-resty-acme's http-01 answers).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { toApiEntity } from '../../src/admin/kong-entities.js';
import { acmeDomains, type AcmeState } from '../../src/ir/acme.js';
import { acmeTakes } from '../../src/model/plugins/acme.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { selfSignedCert, yamlBlock } from '../support/certs.js';
import { routeConfigOf } from '../support/route-configs.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const own = selfSignedCert(['own.acme.test']);
const wild = selfSignedCert(['*.wild.acme.test']);

function config(acme: string, extra = ''): string {
  return `_format_version: "3.0"
certificates:
  - cert: |
${yamlBlock(own.cert, 6)}
    key: |
${yamlBlock(own.key, 6)}
    snis: [own.acme.test]
  - cert: |
${yamlBlock(wild.cert, 6)}
    key: |
${yamlBlock(wild.key, 6)}
    snis: ["*.wild.acme.test"]
listeners:
  - { name: plain, address: 127.0.0.1, port: 8000 }
  - { name: tls, address: 127.0.0.1, port: 8443, protocol: https }
services:
  - name: app
    url: http://127.0.0.1:9001
    routes:
      - name: r
        paths: [/]
        hosts: [a.acme.test, "B.acme.test:8000", "*.acme.test", other.test, own.acme.test, x.wild.acme.test, 10.0.0.1]
plugins:
  - name: acme
    config: ${acme}
${extra}`;
}

const errors = (text: string) => compileConfig([{ file: 'kong.yml', text }]).diagnostics.filter((d) => d.severity === 'error');

describe('acme config (Kong 3.x schema)', () => {
  test('loads with Kong\'s defaults: Let\'s Encrypt\'s directory, rsa 4096, renew 14 days before, 5 minutes\' backoff, shm storage', () => {
    const out = compileConfig([{ file: 'kong.yml', text: config('{ account_email: ops@example.com, tos_accepted: true, domains: [a.acme.test] }') }]);
    assert.deepEqual(out.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.deepEqual(out.ir!.globalPlugins.acme!.feature, {
      accountEmail: 'ops@example.com', directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
      certType: 'rsa', rsaKeySize: 4096, renewThresholdDays: 14, failBackoffMinutes: 5,
      domains: { any: false, exact: ['a.acme.test'], suffixes: [] }, storage: { kind: 'shm' },
    });
  });

  test('Let\'s Encrypt without tos_accepted is refused with Kong\'s message, at the field', () => {
    const [e, ...more] = errors(config('{ account_email: ops@example.com }'));
    assert.equal(more.length, 0);
    assert.match(e!.message, /terms of service must be accepted, see https:\/\/letsencrypt\.org\/repository\//);
    assert.match(e!.path.join('.'), /config\.tos_accepted$/);
    // Another CA's terms are its own business: Kong checks only Let's Encrypt's.
    assert.deepEqual(errors(config('{ account_email: ops@example.com, api_uri: "https://ca.internal/directory" }')), []);
  });

  test('storage "kong" is refused: it is a database table, and there is no database', () => {
    const [e] = errors(config('{ account_email: ops@example.com, tos_accepted: true, storage: kong }'));
    assert.match(e!.message, /can't be used with dbless mode/);
  });

  test('storage "redis" needs a host; the namespace comes from extra_options (Kong 3.6+) or the older spelling', () => {
    const [e] = errors(config('{ account_email: ops@example.com, tos_accepted: true, storage: redis, storage_config: { redis: { port: 6380 } } }'));
    assert.match(e!.path.join('.'), /storage_config\.redis\.host$/);
    const out = compileConfig([{ file: 'kong.yml', text: config('{ account_email: ops@example.com, tos_accepted: true, storage: redis, storage_config: { redis: { host: redis.internal, port: 6380, database: 2, password: s3cret, extra_options: { namespace: "edge:" } } } }') }]);
    assert.deepEqual(out.ir!.globalPlugins.acme!.feature.storage, {
      kind: 'redis', namespace: 'edge:',
      redis: { host: 'redis.internal', port: 6380, database: 2, password: 's3cret', ssl: false, sslVerify: false, timeoutMs: 2000 },
    });
    const legacy = compileConfig([{ file: 'kong.yml', text: config('{ account_email: ops@example.com, tos_accepted: true, storage: redis, storage_config: { redis: { host: r, auth: pw, namespace: "old:" } } }') }]);
    assert.deepEqual(legacy.ir!.globalPlugins.acme!.feature.storage, { kind: 'redis', namespace: 'old:', redis: { host: 'r', port: 6379, database: 0, password: 'pw', ssl: false, sslVerify: false, timeoutMs: 2000 } });
  });

  test('eab_kid and eab_hmac_key go together', () => {
    const [e] = errors(config('{ account_email: ops@example.com, api_uri: "https://ca.internal/directory", eab_kid: kid-1 }'));
    assert.match(e!.path.join('.'), /eab_hmac_key$/);
  });

  test('the plugin is global only, as Kong\'s (it serves every name, not one route\'s)', () => {
    const text = config('{ account_email: ops@example.com, tos_accepted: true }').replace(/plugins:\n  - name: acme[\s\S]*$/, `plugins:
  - name: acme
    route: r
    config: { account_email: ops@example.com, tos_accepted: true }
`);
    assert.equal(errors(text).length, 1);
  });
});

describe('the names the acme plugin takes (Kong\'s build_domain_matcher)', () => {
  const d = { any: false, exact: ['exact.test'], suffixes: ['.acme.test'] };
  test('an exact entry takes that name only; a `*` entry takes what ends in its suffix, at any depth, and not the bare name', () => {
    assert.equal(acmeTakes(d, 'exact.test'), true);
    assert.equal(acmeTakes(d, 'www.exact.test'), false);
    assert.equal(acmeTakes(d, 'a.acme.test'), true);
    assert.equal(acmeTakes(d, 'a.b.acme.test'), true);
    assert.equal(acmeTakes(d, 'acme.test'), false);
    assert.equal(acmeTakes(d, 'A.ACME.TEST'), true);
    assert.equal(acmeTakes({ any: true, exact: [], suffixes: [] }, 'anything.example'), true);
  });

  test('certificates are held for the exact names and the route hosts taken, less names a configured certificate serves and IP addresses', () => {
    const out = compileConfig([{ file: 'kong.yml', text: config('{ account_email: ops@example.com, tos_accepted: true, domains: ["*.acme.test", exact.test, 10.0.0.1, "example.*"] }') }]);
    // "example.*": Kong's matcher reads a `*` only at the start, so it is a name no host has; never ordered.
    assert.deepEqual(acmeDomains(out.ir!), ['a.acme.test', 'b.acme.test', 'exact.test']);
  });
});

describe('what Envoy serves from the ACME client\'s state', () => {
  const token = 'tok_9eP0Yy3kq1zXcW8sT2uVbA';
  const keyAuthorization = `${token}.thumbprint_Abc-123`;
  const issued = selfSignedCert(['a.acme.test']);
  const stray = selfSignedCert(['other.test']);
  const state: AcmeState = {
    challenges: [{ token, keyAuthorization }, { token: 'bad token/..', keyAuthorization: 'x' }],
    certificates: [{ domain: 'a.acme.test', cert: issued.cert, key: issued.key }, { domain: 'other.test', cert: stray.cert, key: stray.key }],
  };
  const out = compileConfig([{ file: 'kong.yml', text: config('{ account_email: ops@example.com, tos_accepted: true, domains: ["*.acme.test", exact.test] }') }], { acme: state });
  const fleet = out.translation!.fleets.get('')!;
  const plain = routeConfigOf(fleet.get(TYPE.route)!, 'plain') as Json;
  const secure = routeConfigOf(fleet.get(TYPE.route)!, 'tls') as Json;
  const routes = plain.virtual_hosts[0].routes as Json[];
  const fullMatch = (regex: string, value: string) => {
    const ci = regex.startsWith('(?i)');
    return new RegExp(`^(?:${ci ? regex.slice(4) : regex})$`, ci ? 'i' : '').test(value);
  };

  test('the http listener answers the token being validated with its key authorization, ahead of every route, with no filter on', () => {
    assert.equal(out.ok, true, JSON.stringify(out.diagnostics));
    const [first] = routes;
    assert.equal(first!.match.path, `/.well-known/acme-challenge/${token}`);
    assert.deepEqual(first!.direct_response, { status: 200, body: { inline_string: `${keyAuthorization}\n` } });
    assert.equal(first!.typed_per_filter_config, undefined);
    // A token outside base64url (RFC 8555 §8.1) is never served.
    assert.equal(routes.filter((r) => String(r.name).startsWith('acme:') && r.direct_response.status === 200).length, 1);
  });

  test('only for the hosts Kong\'s matcher takes, with or without a port, in any case', () => {
    const authority = (routes[0]!.match.headers as Json[]).find((h) => h.name === ':authority')!.string_match.safe_regex.regex as string;
    assert.equal(fullMatch(authority, 'a.acme.test'), true);
    assert.equal(fullMatch(authority, 'A.Acme.Test:8000'), true);
    assert.equal(fullMatch(authority, 'x.y.acme.test'), true);
    assert.equal(fullMatch(authority, 'exact.test'), true);
    assert.equal(fullMatch(authority, 'acme.test'), false);
    assert.equal(fullMatch(authority, 'other.test'), false);
  });

  test('another token under the challenge path gets Kong\'s 404 for those hosts', () => {
    const unknown = routes.find((r) => r.name === 'acme:unknown-token')!;
    assert.equal(fullMatch(unknown.match.safe_regex.regex, '/.well-known/acme-challenge/anything'), true);
    assert.equal(fullMatch(unknown.match.safe_regex.regex, '/.well-known/acme-challenge/'), false);
    assert.deepEqual(unknown.direct_response, { status: 404, body: { inline_string: '{"message":"Not found"}' } });
  });

  test('the https listener has no challenge routes (Kong answers http-01 on http only)', () => {
    assert.equal((secure.virtual_hosts[0].routes as Json[]).some((r) => String(r.name).startsWith('acme:')), false);
  });

  test('an obtained certificate is served on the https listener for its name; one for a name no longer wanted is not', () => {
    const listener = fleet.get(TYPE.listener)!.get('listener:tls') as Json;
    const chains = (listener.filter_chains as Json[]).map((c) => c.filter_chain_match.server_names as string[]);
    assert.deepEqual(chains.filter((n) => n.includes('a.acme.test')), [['a.acme.test']]);
    assert.equal(chains.some((n) => n.includes('other.test')), false);
    const secret = fleet.get(TYPE.secret)!.get('certificate:acme:a.acme.test') as Json;
    assert.equal(secret.tls_certificate.certificate_chain.inline_string, issued.cert);
    assert.equal(fleet.get(TYPE.secret)!.has('certificate:acme:other.test'), false);
  });

  test('an obtained certificate does not count as a configured one: its name is still wanted (and renewed)', () => {
    assert.deepEqual(acmeDomains(out.ir!), ['a.acme.test', 'b.acme.test', 'exact.test']);
  });

  test('without the plugin nothing of it is served, whatever the state holds', () => {
    const none = compileConfig([{ file: 'kong.yml', text: config('{ account_email: ops@example.com, tos_accepted: true }').replace(/plugins:\n  - name: acme[\s\S]*$/, '') }], { acme: state });
    const rc = routeConfigOf(none.translation!.fleets.get('')!.get(TYPE.route)!, 'plain') as Json;
    assert.equal((rc.virtual_hosts[0].routes as Json[]).some((r) => String(r.name).startsWith('acme:')), false);
    assert.equal(none.translation!.fleets.get('')!.get(TYPE.secret)!.has('certificate:acme:a.acme.test'), false);
  });
});

describe('an https listener with no certificate of its own, beside the acme plugin', () => {
  const text = (plugins: string) => `_format_version: "3.0"
listeners:
  - { name: tls, address: 127.0.0.1, port: 8443, protocol: https }
services:
  - name: app
    url: http://127.0.0.1:9001
    routes: [{ name: r, paths: [/], hosts: [a.acme.test] }]
${plugins}`;

  test('loads, and serves a default certificate (Kong\'s: self-signed, CN localhost) to names ACME has none for', () => {
    const out = compileConfig([{ file: 'kong.yml', text: text('plugins:\n  - name: acme\n    config: { account_email: ops@example.com, api_uri: "https://ca.internal/directory" }\n') }]);
    assert.equal(out.ok, true, JSON.stringify(out.diagnostics));
    const fleet = out.translation!.fleets.get('')!;
    const listener = fleet.get(TYPE.listener)!.get('listener:tls') as Json;
    const sds = listener.default_filter_chain.transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs as Json[];
    assert.deepEqual(sds.map((s) => s.name), ['certificate:acme:default']);
    const pem = (fleet.get(TYPE.secret)!.get('certificate:acme:default') as Json).tls_certificate.certificate_chain.inline_string as string;
    const x = new X509Certificate(pem);
    assert.match(x.subject, /CN=localhost/);
    assert.equal(x.subject, x.issuer);
  });

  test('without the acme plugin it is refused: the listener needs a certificate', () => {
    const errors = compileConfig([{ file: 'kong.yml', text: text('') }]).diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors.map((e) => e.code), ['FD_REQUIRED']);
  });
});

describe('acme\'s secrets on the Admin API', () => {
  test('the EAB key and the storages\' passwords and tokens are withheld from a reader that may not write, shown to one that may', () => {
    const config = {
      account_email: 'ops@example.com', eab_kid: 'kid-1', eab_hmac_key: 'hmac-secret',
      storage: 'redis', storage_config: { redis: { host: 'r', password: 'redis-pass', auth: 'old-pass' }, consul: { host: 'c', token: 'consul-token' }, vault: { token: 'vault-token' }, shm: { shm_name: 'kong' } },
    };
    const plugin = { id: 'p1', name: 'acme', config };
    assert.deepEqual(toApiEntity('plugins', plugin, 0).config, {
      account_email: 'ops@example.com', eab_kid: 'kid-1',
      storage: 'redis', storage_config: { redis: { host: 'r' }, consul: { host: 'c' }, vault: {}, shm: { shm_name: 'kong' } },
    });
    assert.deepEqual(toApiEntity('plugins', plugin, 0, true).config, config);
    assert.equal(config.storage_config.redis.password, 'redis-pass', 'the entity itself is unchanged');
  });
});
