// ldap-auth through a real Envoy and a real LDAP server (Debian's slapd): Envoy asks the authz
// companion (ext_authz), which binds to slapd as the user. The answers expected are Kong's
// (kong/plugins/ldap-auth/access.lua and its spec, 3.x: every 401 `Unauthorized` with the
// challenge, `LDAP` for the default header_type, with `realm="..."` when one is configured; an
// accepted user has no consumer, only X-Credential-Identifier; an LDAP server that cannot answer
// is 500 `An unexpected error occurred`).
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import { selfSignedCert } from '../support/certs.js';
import type { Gateway } from '../support/gateway.js';
import { startLdapServer, type LdapServer } from '../support/ldap-server.js';
import { h2Request, proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

const BASE_DN = 'ou=people,dc=example,dc=com';
const config = (upstream: string, ldap: LdapServer) => {
  const server = `ldap_host: 127.0.0.1, ldap_port: ${ldap.port}, base_dn: "${BASE_DN}", attribute: uid`;
  return `_format_version: "3.0"
consumers:
  - username: no-body
    custom_id: anon-1
services:
  - name: svc
    url: ${upstream}
    routes:
      - name: plain
        paths: [/plain]
        plugins: [{ name: ldap-auth, config: { ${server} } }]
      - name: hidden
        paths: [/hidden]
        plugins: [{ name: ldap-auth, config: { ${server}, hide_credentials: true, realm: staff } }]
      - name: basic-type
        paths: [/basic-type]
        plugins: [{ name: ldap-auth, config: { ${server}, header_type: Basic } }]
      - name: anonymous
        paths: [/anonymous]
        plugins:
          - { name: ldap-auth, config: { ${server}, anonymous: no-body } }
          - { name: acl, config: { allow: [nobody-group] } }
      - name: short-cache
        paths: [/short-cache]
        plugins: [{ name: ldap-auth, config: { ${server}, cache_ttl: 1 } }]
      - name: starttls
        paths: [/starttls]
        plugins: [{ name: ldap-auth, config: { ${server}, start_tls: true } }]
      - name: shallow
        paths: [/shallow]
        plugins: [{ name: ldap-auth, config: { ldap_host: 127.0.0.1, ldap_port: ${ldap.port}, base_dn: "dc=example,dc=com", attribute: uid } }]
      - name: ldaps
        paths: [/ldaps]
        plugins: [{ name: ldap-auth, config: { ldap_host: 127.0.0.1, ldap_port: ${ldap.ldapsPort}, ldaps: true, base_dn: "${BASE_DN}", attribute: uid } }]
`;
};

const ldapHeader = (user: string, password: string, type = 'ldap') => `${type} ${Buffer.from(`${user}:${password}`).toString('base64')}`;
type Seen = { headers: Record<string, string | undefined> };

describe('ldap-auth through Envoy, the authz companion and slapd', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let ldap: LdapServer;
  let gw: Gateway;
  before(async () => {
    upstream = await startEchoUpstream('ldap');
    ldap = await startLdapServer({
      users: [{ uid: 'einstein', password: 'password' }, { uid: 'curie', password: 'radium' }, { uid: 'bohr', password: 'atom' }, { uid: 'planck', password: 'quantum' }],
      tls: selfSignedCert(['localhost', '127.0.0.1']),
    });
    gw = await startGatewayWithAuthz(config(upstream.url, ldap));
  });
  after(async () => {
    await gw?.stop();
    await ldap?.stop();
    await upstream?.close();
  });

  test('a user the LDAP server accepts reaches the upstream with X-Credential-Identifier and no consumer; forged identity headers are dropped', async () => {
    const r = await proxyRequest(gw, { path: '/plain/get', headers: { authorization: ldapHeader('einstein', 'password'), 'x-consumer-username': 'forged', 'x-anonymous-consumer': 'true' } });
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text) as Seen;
    assert.equal(seen.headers['x-credential-identifier'], 'einstein');
    assert.equal(seen.headers['x-consumer-username'], undefined);
    assert.equal(seen.headers['x-consumer-id'], undefined);
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    assert.equal(seen.headers.authorization, ldapHeader('einstein', 'password'), 'the credentials go upstream without hide_credentials');
  });

  test('Kong\'s forms of the header: LDAP in capitals, leading white space, Proxy-Authorization; and over HTTP/2', async () => {
    const forms: Array<Record<string, string>> = [
      { authorization: ldapHeader('einstein', 'password', 'LDAP') },
      { authorization: ` ${ldapHeader('einstein', 'password')}` },
      { 'proxy-authorization': ldapHeader('curie', 'radium') },
      { 'proxy-authorization': ldapHeader('curie', 'wrong'), authorization: ldapHeader('einstein', 'password') },
    ];
    for (const headers of forms) {
      const r = await proxyRequest(gw, { path: '/plain', headers });
      assert.equal(r.status, 200, `${JSON.stringify(headers)}: ${r.text}`);
    }
    const session = connect(`http://127.0.0.1:${gw.proxyPort}`);
    try {
      const ok = await h2Request(session, { ':path': '/plain/h2', authorization: ldapHeader('curie', 'radium') });
      assert.equal(ok.status, 200);
      assert.equal((JSON.parse(ok.body) as Seen).headers['x-credential-identifier'], 'curie');
      assert.equal((await h2Request(session, { ':path': '/plain/h2', authorization: ldapHeader('curie', 'nope') })).status, 401);
    } finally {
      session.close();
    }
  });

  test('Kong\'s refusals: each 401 Unauthorized with the challenge, and nothing reaches the upstream', async () => {
    const before = upstream.requests.length;
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: 'abcd' },
      { 'proxy-authorization': 'abcd' },
      { authorization: 'ldap ' },
      { authorization: `invalidldap ${Buffer.from('einstein:password').toString('base64')}` },
      { authorization: ldapHeader('einstein', '') },
      { authorization: ldapHeader('einstein', 'password:another_password') },
      { authorization: ldapHeader('einstein', 'wrong_password') },
      { authorization: ldapHeader('einstein', 'e0d91f53c566'.repeat(20)) },
      { authorization: ldapHeader('nobody', 'password') },
      { authorization: ldapHeader('einstein,ou=people', 'password') },
    ];
    for (const headers of cases) {
      const r = await proxyRequest(gw, { path: '/plain', headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.deepEqual(JSON.parse(r.text), { message: 'Unauthorized' });
      assert.equal(r.headers['www-authenticate'], 'LDAP', JSON.stringify(headers));
    }
    const realm = await proxyRequest(gw, { path: '/hidden', headers: { authorization: ldapHeader('einstein', 'nope') } });
    assert.equal(realm.status, 401);
    assert.equal(realm.headers['www-authenticate'], 'LDAP realm="staff"');
    assert.equal(upstream.requests.length, before);
  });

  test('a username is one RDN value: "einstein,ou=people" under dc=example,dc=com is no user (Kong would bind as uid=einstein,ou=people)', async () => {
    const r = await proxyRequest(gw, { path: '/shallow', headers: { authorization: ldapHeader('einstein,ou=people', 'password') } });
    assert.equal(r.status, 401, 'the username is escaped into the DN, not spliced into it');
  });

  test('hide_credentials: neither Authorization nor Proxy-Authorization reaches the upstream', async () => {
    const r = await proxyRequest(gw, { path: '/hidden', headers: { authorization: ldapHeader('einstein', 'password'), 'proxy-authorization': 'something else' } });
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text) as Seen;
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers['proxy-authorization'], undefined);
    assert.equal(seen.headers['x-credential-identifier'], 'einstein');
  });

  test('header_type: Basic reads "basic <base64>" and challenges with Basic (a browser\'s login prompt)', async () => {
    assert.equal((await proxyRequest(gw, { path: '/basic-type', headers: { authorization: ldapHeader('einstein', 'password', 'basic') } })).status, 200);
    const missing = await proxyRequest(gw, { path: '/basic-type' });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Basic');
    assert.equal((await proxyRequest(gw, { path: '/basic-type', headers: { authorization: ldapHeader('einstein', 'password') } })).status, 401);
  });

  test('anonymous: a failed login runs as the anonymous consumer and acl judges it; a good one is the credential', async () => {
    const anon = await proxyRequest(gw, { path: '/anonymous', headers: { authorization: ldapHeader('einstein', 'wrong') } });
    assert.equal(anon.status, 401, 'acl: the anonymous consumer has no groups (Kong: 401 for the anonymous consumer under an allow list)');
    const user = await proxyRequest(gw, { path: '/anonymous', headers: { authorization: ldapHeader('einstein', 'password') } });
    assert.equal(user.status, 403, 'acl: an LDAP user has a credential and no consumer, so no group');
    assert.deepEqual(JSON.parse(user.text), { message: 'You cannot consume this service' });
  });

  test('StartTLS and LDAPS: the bind goes over TLS', async () => {
    assert.equal((await proxyRequest(gw, { path: '/starttls', headers: { authorization: ldapHeader('bohr', 'atom') } })).status, 200);
    assert.equal((await proxyRequest(gw, { path: '/starttls', headers: { authorization: ldapHeader('bohr', 'wrong') } })).status, 401);
    assert.equal((await proxyRequest(gw, { path: '/ldaps', headers: { authorization: ldapHeader('bohr', 'atom') } })).status, 200);
    assert.equal((await proxyRequest(gw, { path: '/ldaps', headers: { authorization: ldapHeader('bohr', 'wrong') } })).status, 401);
  });

  test('cache_ttl: a password changed on the server still works until its verdict expires, then the new one does', async () => {
    assert.equal((await proxyRequest(gw, { path: '/short-cache', headers: { authorization: ldapHeader('planck', 'quantum') } })).status, 200);
    await ldap.setPassword('planck', 'h-bar');
    const old = await proxyRequest(gw, { path: '/short-cache', headers: { authorization: ldapHeader('planck', 'quantum') } });
    assert.equal(old.status, 200, 'the verdict is kept for cache_ttl (1 s), as Kong keeps it');
    await waitFor(async () => (await proxyRequest(gw, { path: '/short-cache', headers: { authorization: ldapHeader('planck', 'quantum') } })).status === 401, 'the old password to be refused once its verdict expired', 10_000, 100);
    assert.equal((await proxyRequest(gw, { path: '/short-cache', headers: { authorization: ldapHeader('planck', 'h-bar') } })).status, 200);
  });

  test('an LDAP server that is down is 500 An unexpected error occurred (fail closed, nothing cached); back up, logins work again', async () => {
    await ldap.kill();
    try {
      const r = await proxyRequest(gw, { path: '/plain', headers: { authorization: ldapHeader('curie', 'radium-new-try') } });
      assert.equal(r.status, 500, r.text);
      assert.deepEqual(JSON.parse(r.text), { message: 'An unexpected error occurred' });
    } finally {
      await ldap.restart();
    }
    assert.equal((await proxyRequest(gw, { path: '/plain', headers: { authorization: ldapHeader('curie', 'radium-new-try') } })).status, 401);
    assert.equal((await proxyRequest(gw, { path: '/plain', headers: { authorization: ldapHeader('curie', 'radium') } })).status, 200);
  });
});
