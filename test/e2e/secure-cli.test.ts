// The commands of mTLS as a user runs them: `frontdesk certs` (a CA and one certificate per
// party, its role and fleet in a URI SAN; run again: new certificates under the same CA),
// `frontdesk bootstrap --tls-*` (the xDS cluster over mTLS, its certificate from SDS files), and
// `frontdesk translate --companions`, credentials redacted unless --show-secrets.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { selfSignedCert, yamlBlock } from '../support/certs.js';

const ENTRY = ['--import', 'tsx', 'test/support/cli-entry.ts'];
const cli = (...args: string[]) => spawnSync(process.execPath, [...ENTRY, ...args], { encoding: 'utf8', timeout: 120_000 });

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'frontdesk-certs-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const cert = (name: string) => new X509Certificate(readFileSync(join(dir, 'pki', name)));

test('frontdesk certs: a CA, and a certificate per party naming its role and fleet, signed by it', () => {
  const r = cli('certs', '--out', join(dir, 'pki'), '--fleet', 'web', '--fleet', 'mobile');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /created a CA and 7 certificate\(s\)/);
  const ca = cert('ca.pem');
  assert.equal(ca.ca, true);
  const want: Record<string, string> = {
    'control-plane.pem': 'spiffe://frontdesk/control-plane',
    'envoy-web.pem': 'spiffe://frontdesk/envoy/web',
    'envoy-mobile.pem': 'spiffe://frontdesk/envoy/mobile',
    'authz.pem': 'spiffe://frontdesk/companion/authz',
    'ratelimit.pem': 'spiffe://frontdesk/companion/ratelimit',
    'transform.pem': 'spiffe://frontdesk/companion/transform',
    'log.pem': 'spiffe://frontdesk/companion/log',
  };
  for (const [file, uri] of Object.entries(want)) {
    const c = cert(file);
    assert.ok(c.subjectAltName?.split(', ').includes(`URI:${uri}`), `${file}: ${c.subjectAltName}`);
    assert.equal(c.ca, false);
    assert.ok(c.verify(ca.publicKey), `${file} is signed by the CA`);
    assert.ok(c.checkIssued(ca));
    const key = join(dir, 'pki', file.replace('.pem', '-key.pem'));
    assert.equal(statSync(key).mode & 0o077, 0, `${key} is readable by its owner only`);
  }
  assert.equal(statSync(join(dir, 'pki', 'ca-key.pem')).mode & 0o077, 0);
});

test('frontdesk certs again: the same CA, new certificates (a rotation)', () => {
  const caBefore = cert('ca.pem').fingerprint256;
  const serialBefore = cert('envoy-web.pem').serialNumber;
  const r = cli('certs', '--out', join(dir, 'pki'), '--fleet', 'web', '--fleet', 'mobile');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /kept the CA/);
  assert.equal(cert('ca.pem').fingerprint256, caBefore);
  assert.notEqual(cert('envoy-web.pem').serialNumber, serialBefore);
  assert.ok(cert('envoy-web.pem').verify(cert('ca.pem').publicKey));
});

test('frontdesk bootstrap --tls-*: the xDS cluster over mTLS, certificate and CA from watched SDS files', () => {
  const pki = join(dir, 'pki');
  const r = cli('bootstrap', '--xds', 'control-plane:18000', '--node-id', 'web-1', '--cluster', 'web',
    '--tls-cert', join(pki, 'envoy-web.pem'), '--tls-key', join(pki, 'envoy-web-key.pem'), '--tls-ca', join(pki, 'ca.pem'));
  assert.equal(r.status, 0, r.stderr);
  type Obj = Record<string, any>;
  const b = parse(r.stdout) as Obj;
  const xds = (b.static_resources.clusters as Obj[]).find((c) => c.name === 'frontdesk_xds')!;
  const ctx = xds.transport_socket.typed_config as Obj;
  assert.equal(ctx['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  assert.deepEqual(ctx.common_tls_context.alpn_protocols, ['h2'], 'gRPC needs h2 by ALPN');
  const certSds = ctx.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.path_config_source;
  assert.equal(certSds.watched_directory.path, pki);
  const validation = ctx.common_tls_context.combined_validation_context;
  assert.deepEqual(validation.default_validation_context.match_typed_subject_alt_names, [{ san_type: 'URI', matcher: { exact: 'spiffe://frontdesk/control-plane' } }]);
  const certFile = parse(readFileSync(certSds.path, 'utf8')) as Obj;
  assert.deepEqual(certFile.resources[0].tls_certificate.certificate_chain, { filename: join(pki, 'envoy-web.pem') });
  assert.deepEqual(certFile.resources[0].tls_certificate.private_key, { filename: join(pki, 'envoy-web-key.pem') });
  const caFile = parse(readFileSync(validation.validation_context_sds_secret_config.sds_config.path_config_source.path, 'utf8')) as Obj;
  assert.deepEqual(caFile.resources[0].validation_context.trusted_ca, { filename: join(pki, 'ca.pem') });
  assert.ok(existsSync(join(pki, 'envoy-ca.sds.yaml')));
});

test('frontdesk translate --companions: credentials redacted, shown with --show-secrets', () => {
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-secret-key }]
    basicauth_credentials: [{ username: al, password: alice-password }]
    jwt_secrets: [{ key: alice-issuer, algorithm: HS256, secret: alice-hs-secret }]
services:
  - name: orders
    url: http://127.0.0.1:9
    routes:
      - name: orders
        paths: [/orders]
        plugins: [{ name: key-auth }, { name: basic-auth }, { name: jwt }, { name: standard-webhooks, config: { secret_v1: orders-webhook-secret } }, { name: loggly, config: { key: orders-loggly-token } }, { name: session, config: { secret: orders-session-secret-0123456789abcdef } }]
      - name: quota
        paths: [/quota]
        plugins:
          - { name: response-ratelimiting, config: { policy: redis, redis: { host: 127.0.0.1, password: quota-redis-password }, limits: { video: { minute: 5 } } } }
          - { name: rate-limiting, config: { minute: 5, policy: redis, redis: { host: 127.0.0.1, password: limits-redis-password } } }
`);
  const redacted = cli('translate', file, '--companions');
  assert.equal(redacted.status, 0, redacted.stderr);
  for (const secret of ['alice-secret-key', 'alice-password', 'alice-hs-secret', 'orders-webhook-secret', 'orders-loggly-token', 'orders-session-secret-0123456789abcdef', 'quota-redis-password', 'limits-redis-password']) assert.ok(!redacted.stdout.includes(secret), secret);
  const transforms = Object.values((JSON.parse(redacted.stdout) as Record<string, Record<string, any>>).RouteTransform!);
  const transform = transforms.find((t) => t.route === 'orders')!;
  assert.deepEqual(transform.standard_webhooks, { secret_v1: '<redacted>', tolerance_second: 300 });
  const quota = transforms.find((t) => t.route === 'quota')!;
  assert.equal(quota.response_ratelimiting.redis.password, '<redacted>');
  assert.equal(quota.response_ratelimiting.redis.host, '127.0.0.1', 'what is not a credential is shown');
  const sink = Object.values((JSON.parse(redacted.stdout) as Record<string, Record<string, any>>).StreamLogSink!)[0];
  assert.equal(sink.loggly_key, '<redacted>');
  const policy = Object.values((JSON.parse(redacted.stdout) as Record<string, Record<string, any>>).RoutePolicy!)[0];
  assert.equal(policy.session.secret, '<redacted>');
  const consumer = Object.values((JSON.parse(redacted.stdout) as Record<string, Record<string, any>>).Consumer!)[0];
  assert.equal(consumer.username, 'alice');
  assert.equal(consumer.jwt_secrets[0].key, 'alice-issuer', 'what is not a credential is shown');
  assert.equal(consumer.jwt_secrets[0].secret, '<redacted>');
  const shown = cli('translate', file, '--companions', '--show-secrets');
  assert.equal(shown.status, 0, shown.stderr);
  assert.ok(shown.stdout.includes('alice-hs-secret'), 'the HS secret, which authz needs in clear to verify');
  assert.ok(shown.stdout.includes('orders-webhook-secret'), 'the webhook secret, which the transform companion needs in clear');
});

test('translate prints no private key unless --show-secrets, and no copy of the acme plugin\'s default certificate (each process makes its own)', () => {
  const own = selfSignedCert(['api.example.test']);
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-translate-keys-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, `_format_version: "3.0"
certificates:
  - id: api
    snis: [api.example.test]
    cert: |
${yamlBlock(own.cert, 6)}
    key: |
${yamlBlock(own.key, 6)}
listeners:
  - { name: tls, address: 127.0.0.1, port: 8443, protocol: https }
services:
  - { name: app, url: "http://127.0.0.1:9", connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000, routes: [{ name: r, paths: [/] }] }
`);
  const hidden = cli('translate', file);
  assert.equal(hidden.status, 0, hidden.stderr);
  const keyLine = own.key.split('\n')[1]!;
  assert.ok(!hidden.stdout.includes(keyLine), 'the private key is not printed');
  const sds = (JSON.parse(hidden.stdout) as { SDS: Record<string, { tls_certificate: { certificate_chain: { inline_string: string }; private_key: { inline_string: string } } }> }).SDS;
  assert.equal(sds['certificate:api']!.tls_certificate.private_key.inline_string, '<redacted>');
  assert.equal(sds['certificate:api']!.tls_certificate.certificate_chain.inline_string, own.cert, 'the certificate itself is public');
  assert.ok(cli('translate', file, '--show-secrets').stdout.includes(keyLine), 'shown when asked for');

  const twice = [cli('translate', 'config/examples/letsencrypt.yaml'), cli('translate', 'config/examples/letsencrypt.yaml')];
  assert.equal(twice[0]!.status, 0, twice[0]!.stderr);
  assert.equal(twice[0]!.stdout, twice[1]!.stdout, 'the same config prints the same resources');
  assert.match(twice[0]!.stdout, /"<made when the control plane starts: self-signed, CN localhost>"/);
  rmSync(dir, { recursive: true, force: true });
});
