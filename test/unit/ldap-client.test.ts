// ldap-auth's LDAP client against a real slapd (Debian's OpenLDAP): simple binds plain, over
// LDAPS and over StartTLS, certificate checks, the pool, timeouts, and the BER it writes and reads
// (RFC 4511; the expected bytes are written out from the standard's definitions).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { bindRequest, LdapBinder, LdapError, readResult, startTlsRequest, userDn, type LdapEndpoint } from '../../src/authz/ldap-client.js';
import { selfSignedCert } from '../support/certs.js';
import { startLdapServer, type LdapServer } from '../support/ldap-server.js';

const cert = selfSignedCert(['localhost', '127.0.0.1']);
const dnOf = (uid: string) => `uid=${uid},ou=people,dc=example,dc=com`;

describe('BER of a bind (RFC 4511)', () => {
  test('BindRequest: LDAPMessage { 1, [APPLICATION 0] { 3, name, [0] password } }', () => {
    assert.equal(bindRequest(1, 'cn=a', 'pw').toString('hex'), '3012' + '020101' + '600d' + '020103' + '0404' + Buffer.from('cn=a').toString('hex') + '8002' + Buffer.from('pw').toString('hex'));
  });

  test('a DN of 200 bytes takes the long length form', () => {
    const dn = 'x'.repeat(200);
    const msg = bindRequest(2, dn, 'p');
    // The name: 04 81 c8 + 200 bytes; the op: version (3) + name (203) + [0] "p" (3) = 209 (0xd1),
    // 60 81 d1; the message: id (3) + op (212) = 215 (0xd7).
    assert.equal(msg.subarray(0, 3).toString('hex'), '3081d7');
    assert.equal(msg.subarray(6, 9).toString('hex'), '6081d1');
    assert.equal(msg.subarray(12, 15).toString('hex'), '0481c8');
  });

  test('StartTLS: [APPLICATION 23] { [0] 1.3.6.1.4.1.1466.20037 }', () => {
    const oid = Buffer.from('1.3.6.1.4.1.1466.20037', 'latin1');
    assert.equal(startTlsRequest(1).toString('hex'), `30${(oid.length + 7).toString(16)}020101` + `77${(oid.length + 2).toString(16)}80${oid.length.toString(16)}${oid.toString('hex')}`);
  });

  test('a BindResponse is read whole, and not before it is whole', () => {
    const diag = Buffer.from('bad');
    // resultCode 49 (0a 01 31), matchedDN "" (04 00), diagnosticMessage "bad" (04 03 ...): 10 bytes.
    const answer = Buffer.from(`300f020107610a0a0131040004${diag.length.toString(16).padStart(2, '0')}${diag.toString('hex')}`, 'hex');
    assert.equal(readResult(answer.subarray(0, 6)), undefined);
    const got = readResult(Buffer.concat([answer, Buffer.from([0x30])]))!;
    assert.deepEqual(got.result, { id: 7, op: 0x61, resultCode: 49, diagnosticMessage: 'bad' });
    assert.equal(got.used, answer.length);
  });

  test('malformed answers are errors, not verdicts', () => {
    assert.throws(() => readResult(Buffer.from('020101', 'hex')), LdapError);
    assert.throws(() => readResult(Buffer.from('3005020101' + '0400', 'hex')), LdapError);
    assert.throws(() => readResult(Buffer.from('3085ffffffffff', 'hex')), LdapError);
  });

  test('the username is escaped as an RDN value (RFC 4514), so it names one entry under base_dn', () => {
    assert.equal(userDn('uid', 'alice', 'ou=people,dc=example,dc=com'), 'uid=alice,ou=people,dc=example,dc=com');
    assert.equal(userDn('uid', 'alice,ou=admins', 'dc=example,dc=com'), 'uid=alice\\,ou\\=admins,dc=example,dc=com');
    assert.equal(userDn('cn', ' #a+b;<c>"d"\\ ', 'o=x'), 'cn=\\ #a\\+b\\;\\<c\\>\\"d\\"\\\\\\ ,o=x');
    assert.equal(userDn('cn', '#hash', 'o=x'), 'cn=\\#hash,o=x');
    assert.equal(userDn('cn', ' ', 'o=x'), 'cn=\\ ,o=x');
  });
});

describe('binds against slapd', () => {
  let ldap: LdapServer;
  const binder = new LdapBinder([cert.cert]);
  const ep = (over: Partial<LdapEndpoint> = {}): LdapEndpoint => ({
    host: '127.0.0.1', port: ldap.port, ldaps: false, startTls: false, verify: false, timeoutMs: 2000, keepaliveMs: 60_000, ...over,
  });

  before(async () => {
    ldap = await startLdapServer({ users: [{ uid: 'einstein', password: 'password' }, { uid: 'curie', password: 'radium 88!' }], tls: cert });
  });
  after(async () => {
    binder.close();
    await ldap?.stop();
  });

  test('plain LDAP: the right password binds, a wrong one and an unknown user are refused', async () => {
    assert.equal(await binder.bind(ep(), dnOf('einstein'), 'password'), true);
    assert.equal(await binder.bind(ep(), dnOf('curie'), 'radium 88!'), true);
    assert.equal(await binder.bind(ep(), dnOf('einstein'), 'wrong'), false);
    assert.equal(await binder.bind(ep(), dnOf('nobody'), 'password'), false);
  });

  test('an empty password is refused without binding (an unauthenticated bind would succeed)', async () => {
    assert.equal(await binder.bind(ep({ port: 1 }), dnOf('einstein'), ''), false);
  });

  test('LDAPS and StartTLS bind; with verify_ldap_host the certificate must be trusted and name the host', async () => {
    assert.equal(await binder.bind(ep({ port: ldap.ldapsPort!, ldaps: true }), dnOf('einstein'), 'password'), true);
    assert.equal(await binder.bind(ep({ startTls: true }), dnOf('einstein'), 'password'), true);
    assert.equal(await binder.bind(ep({ startTls: true }), dnOf('einstein'), 'nope'), false);
    assert.equal(await binder.bind(ep({ host: 'localhost', port: ldap.ldapsPort!, ldaps: true, verify: true }), dnOf('einstein'), 'password'), true);
    assert.equal(await binder.bind(ep({ host: 'localhost', startTls: true, verify: true }), dnOf('curie'), 'radium 88!'), true);
    const untrusting = new LdapBinder();
    try {
      await assert.rejects(untrusting.bind(ep({ host: 'localhost', port: ldap.ldapsPort!, ldaps: true, verify: true }), dnOf('einstein'), 'password'), LdapError);
      await assert.rejects(untrusting.bind(ep({ host: 'localhost', startTls: true, verify: true }), dnOf('einstein'), 'password'), LdapError);
    } finally {
      untrusting.close();
    }
  });

  test('connections are kept and reused, and one the server dropped is replaced', async () => {
    const counting = new LdapBinder();
    try {
      for (let i = 0; i < 5; i++) assert.equal(await counting.bind(ep(), dnOf('einstein'), 'password'), true);
      const idle = (counting as unknown as { idle: Map<string, unknown[]> }).idle;
      assert.equal([...idle.values()].flat().length, 1, 'one connection served five binds in turn');
      await ldap.kill();
      await ldap.restart();
      assert.equal(await counting.bind(ep(), dnOf('einstein'), 'password'), true, 'the dropped connection is replaced');
    } finally {
      counting.close();
    }
  });

  test('a server that is down, and one that never answers, are errors within the timeout', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    await assert.rejects(binder.bind(ep({ port: closed }), dnOf('einstein'), 'password'), (e: LdapError) => e.kind === 'connect');
    const silent = net.createServer((sock) => sock.on('data', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      await assert.rejects(binder.bind(ep({ port: (silent.address() as net.AddressInfo).port, timeoutMs: 300 }), dnOf('einstein'), 'password'), (e: LdapError) => e.kind === 'timeout');
      assert.ok(Date.now() - started < 5_000);
    } finally {
      silent.close();
    }
  });
});
