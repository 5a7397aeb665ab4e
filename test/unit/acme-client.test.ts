// The ACME client against a real ACME server: Pebble (Let's Encrypt's test CA), its VA
// resolving every name to 127.0.0.1 through a DNS stub and fetching http-01 responses from a
// server here that answers with what the responder presented. The expected values are RFC
// 8555's and X.509's, read from the certificates with node:crypto (SANs, key type and size,
// signatures up the chain to one of Pebble's roots), not taken from the client.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AcmeClient, AcmeError, generateAccountKey, type AcmeChallengeResponder } from '../../src/acme/client.js';
import { jwkThumbprint } from '../../src/acme/jws.js';
import { startDnsStub, type DnsStub } from '../support/dns-stub.js';
import { startPebble, type Pebble } from '../support/pebble.js';
import { freePort } from '../support/ports.js';

const ACME_ERROR = 'urn:ietf:params:acme:error:';

/** token → key authorization, as the challenge server answers them. */
const served = new Map<string, string>();

/** A responder that serves what it is given (or `mangle` of it) and records its calls. */
function recordingResponder(mangle: (keyAuthorization: string) => string = (k) => k) {
  const calls: Array<{ op: 'present' | 'remove'; token: string; keyAuthorization?: string }> = [];
  const responder: AcmeChallengeResponder = {
    async present(token, keyAuthorization) {
      calls.push({ op: 'present', token, keyAuthorization });
      served.set(token, mangle(keyAuthorization));
    },
    async remove(token) {
      calls.push({ op: 'remove', token });
      served.delete(token);
    },
  };
  return { responder, calls };
}

function pemCerts(chain: string): X509Certificate[] {
  return (chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}

function cn(name: string): string | undefined {
  return name.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
}

/** The RFC 7638 thumbprint computed here, independently of jws.ts (EC keys: crv, kty, x, y). */
function thumbprintOf(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}

/** Each certificate signed by the next; the topmost by one of `roots`. */
function assertChainsTo(chain: X509Certificate[], roots: X509Certificate[]): X509Certificate {
  assert.ok(chain.length >= 2, 'a leaf and at least one intermediate');
  for (let i = 0; i + 1 < chain.length; i++) {
    assert.ok(chain[i]!.checkIssued(chain[i + 1]!), `certificate ${i}'s issuer is certificate ${i + 1}`);
    assert.ok(chain[i]!.verify(chain[i + 1]!.publicKey), `certificate ${i} is signed by certificate ${i + 1}`);
  }
  const top = chain[chain.length - 1]!;
  const root = roots.find((r) => top.checkIssued(r) && top.verify(r.publicKey));
  assert.ok(root, 'the topmost certificate is signed by one of Pebble\'s roots');
  return root;
}

// The tests below are independent (each its own account and names), so they run side by side.
describe('ACME client against Pebble', { concurrency: true }, () => {
  let dns: DnsStub;
  let challenges: http.Server;
  let pebble: Pebble;
  let eabPebble: Pebble;
  let altPebble: Pebble;
  let reusePebble: Pebble;
  const eabKid = 'kid-1';
  const eabKey = Buffer.from('frontdesk test EAB MAC key, 32 bytes!!').toString('base64url');

  const client = async (p: Pebble, accountKey = generateAccountKey()) => {
    const c = new AcmeClient({ directoryUrl: p.directoryUrl, accountKey, ca: [p.ca], pollTimeoutMs: 20_000 });
    await c.account({ email: 'ops@frontdesk.test', termsAgreed: true });
    return c;
  };

  before(async () => {
    dns = await startDnsStub('127.0.0.1');
    const httpPort = await freePort();
    challenges = http.createServer((req, res) => {
      const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
      const body = token === undefined ? undefined : served.get(token);
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' }).end(body ?? '');
    });
    await new Promise<void>((resolve) => challenges.listen(httpPort, '127.0.0.1', resolve));
    [pebble, eabPebble, altPebble, reusePebble] = await Promise.all([
      startPebble({ httpPort, dnsServer: dns.address }),
      startPebble({ httpPort, dnsServer: dns.address, eab: { [eabKid]: eabKey } }),
      startPebble({ httpPort, dnsServer: dns.address, alternateRoots: 1 }),
      startPebble({ httpPort, dnsServer: dns.address, authzReuse: 100 }),
    ]);
  });

  after(async () => {
    await Promise.all([pebble, eabPebble, altPebble, reusePebble].map((p) => p?.stop()));
    await new Promise((resolve) => challenges?.close(resolve));
    await dns?.close();
  });

  test('an ECC certificate for two names: both in the SANs, an EC P-256 key that matches the leaf, a chain up to a Pebble root', async () => {
    const c = await client(pebble);
    const { responder } = recordingResponder();
    const issued = await c.order(['ecc-a.acme.test', 'ECC-B.acme.test'], responder, { certType: 'ecc', rsaKeySize: 2048 });
    const chain = pemCerts(issued.certificate);
    const leaf = chain[0]!;
    const sans = leaf.subjectAltName!.split(', ').sort();
    assert.deepEqual(sans, ['DNS:ecc-a.acme.test', 'DNS:ecc-b.acme.test']);
    assert.deepEqual(issued.domains, ['ecc-a.acme.test', 'ecc-b.acme.test']);
    assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(issued.key, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8 PEM');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(issued.key)), 'the returned key is the leaf\'s');
    assert.equal(issued.notAfter.getTime(), new Date(leaf.validTo).getTime());
    assert.ok(issued.notAfter.getTime() > Date.now());
    assertChainsTo(chain, (await pebble.roots()).map((r) => new X509Certificate(r)));
  });

  test('an RSA 2048 certificate: an RSA key with a 2048-bit modulus', async () => {
    const c = await client(pebble);
    const issued = await c.order(['rsa.acme.test'], recordingResponder().responder, { certType: 'rsa', rsaKeySize: 2048 });
    const leaf = pemCerts(issued.certificate)[0]!;
    assert.equal(leaf.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(leaf.subjectAltName, 'DNS:rsa.acme.test');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(issued.key)));
  });

  test('the responder: one token per name presented with token.thumbprint (RFC 8555 §8.1), each removed after', async () => {
    const accountKey = generateAccountKey();
    const c = await client(pebble, accountKey);
    const { responder, calls } = recordingResponder();
    await c.order(['p1.acme.test', 'p2.acme.test', 'p3.acme.test'], responder, { certType: 'ecc', rsaKeySize: 2048 });
    const presented = calls.filter((x) => x.op === 'present');
    assert.equal(presented.length, 3);
    for (const p of presented) {
      assert.match(p.token, /^[A-Za-z0-9_-]{22,}$/, 'a base64url token of at least 128 bits (§8.3)');
      assert.equal(p.keyAuthorization, `${p.token}.${thumbprintOf(accountKey)}`);
    }
    const removed = calls.filter((x) => x.op === 'remove').map((x) => x.token);
    assert.deepEqual([...removed].sort(), presented.map((p) => p.token).sort());
    for (const token of removed) {
      const i = calls.findIndex((x) => x.op === 'remove' && x.token === token);
      assert.ok(calls.findIndex((x) => x.op === 'present' && x.token === token) < i, 'presented before removed');
    }
  });

  test('a wrong key authorization: the order rejects with an AcmeError naming the domain and Pebble\'s problem; the token is removed', async () => {
    const c = await client(pebble);
    const { responder, calls } = recordingResponder((k) => `${k.split('.')[0]}.not-the-thumbprint`);
    const failed = c.order(['wrong.acme.test'], responder, { certType: 'ecc', rsaKeySize: 2048 });
    await assert.rejects(failed, (err: unknown) => {
      assert.ok(err instanceof AcmeError);
      assert.match(err.message, /^ACME order for wrong\.acme\.test failed: authorization for wrong\.acme\.test invalid: /);
      assert.equal(err.problem?.type, `${ACME_ERROR}unauthorized`);
      assert.ok(err.problem?.detail && err.message.includes(err.problem.detail), 'the server\'s detail is in the message');
      return true;
    });
    assert.deepEqual(calls.map((x) => x.op), ['present', 'remove']);
    assert.equal(calls[0]!.token, calls[1]!.token);
  });

  test('a responder whose present throws: the order rejects and remove is still called', async () => {
    const c = await client(pebble);
    const removed: string[] = [];
    const responder: AcmeChallengeResponder = {
      present: async () => { throw new Error('challenge store unavailable'); },
      remove: async (token) => { removed.push(token); },
    };
    await assert.rejects(c.order(['broken.acme.test'], responder, { certType: 'ecc', rsaKeySize: 2048 }), (err: unknown) => {
      assert.ok(err instanceof AcmeError);
      assert.match(err.message, /^ACME order for broken\.acme\.test failed: challenge store unavailable$/);
      return true;
    });
    assert.equal(removed.length, 1);
  });

  test('an order before account() rejects without a request', async () => {
    const c = new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey: generateAccountKey(), ca: [pebble.ca] });
    await assert.rejects(c.order(['x.acme.test'], recordingResponder().responder, { certType: 'ecc', rsaKeySize: 2048 }), /call account\(\) first/);
  });

  test('newAccount for a key that has an account: the same account URL (200)', async () => {
    const key = generateAccountKey();
    const c = new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey: key, ca: [pebble.ca] });
    const first = await c.account({ email: 'ops@frontdesk.test', termsAgreed: true });
    const again = await new AcmeClient({ directoryUrl: pebble.directoryUrl, accountKey: key, ca: [pebble.ca] }).account({ email: 'ops@frontdesk.test', termsAgreed: true });
    assert.match(first, /^https:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(again, first);
  });

  test('a valid authorization reused by the CA is not proved again (RFC 8555 §7.1.3)', async () => {
    const c = await client(reusePebble);
    const first = recordingResponder();
    await c.order(['reuse.acme.test'], first.responder, { certType: 'ecc', rsaKeySize: 2048 });
    assert.equal(first.calls.filter((x) => x.op === 'present').length, 1);
    const second = recordingResponder();
    const issued = await c.order(['reuse.acme.test'], second.responder, { certType: 'ecc', rsaKeySize: 2048 });
    assert.deepEqual(second.calls, []);
    assert.equal(pemCerts(issued.certificate)[0]!.subjectAltName, 'DNS:reuse.acme.test');
  });

  describe('external account binding (RFC 8555 §7.3.4)', () => {
    const eabClient = () => new AcmeClient({ directoryUrl: eabPebble.directoryUrl, accountKey: generateAccountKey(), ca: [eabPebble.ca] });

    test('without one, a CA that requires it refuses the account: externalAccountRequired', async () => {
      await assert.rejects(eabClient().account({ email: 'ops@frontdesk.test', termsAgreed: true }), (err: unknown) => {
        assert.ok(err instanceof AcmeError);
        assert.equal(err.problem?.type, `${ACME_ERROR}externalAccountRequired`);
        assert.match(err.message, /^ACME account registration with https:\/\/127\.0\.0\.1:\d+\/dir failed: newAccount answered \d{3}: .*\(externalAccountRequired\)$/);
        return true;
      });
    });

    test('with the wrong MAC key it is refused, and the key is not in the message', async () => {
      const wrong = Buffer.from('another MAC key, also 32 bytes long!!').toString('base64url');
      await assert.rejects(eabClient().account({ email: 'ops@frontdesk.test', termsAgreed: true, eab: { kid: eabKid, hmacKey: wrong } }), (err: unknown) => {
        assert.ok(err instanceof AcmeError);
        assert.ok(!err.message.includes(wrong) && !err.message.includes(eabKey));
        return true;
      });
    });

    test('with the CA\'s kid and MAC key it is created, and can order', async () => {
      const c = eabClient();
      const kid = await c.account({ email: 'ops@frontdesk.test', termsAgreed: true, eab: { kid: eabKid, hmacKey: eabKey } });
      assert.match(kid, /^https:\/\/127\.0\.0\.1:\d+\//);
      const issued = await c.order(['eab.acme.test'], recordingResponder().responder, { certType: 'ecc', rsaKeySize: 2048 });
      assert.equal(pemCerts(issued.certificate)[0]!.subjectAltName, 'DNS:eab.acme.test');
    });
  });

  test('preferredChain: the alternate chain whose topmost issuer has that common name; the default chain when none has', async () => {
    const roots = (await altPebble.roots()).map((r) => new X509Certificate(r));
    assert.equal(roots.length, 2);
    const c = await client(altPebble);
    const opts = { certType: 'ecc', rsaKeySize: 2048 } as const;

    const plain = pemCerts((await c.order(['chain.acme.test'], recordingResponder().responder, opts)).certificate);
    const defaultRoot = assertChainsTo(plain, roots);
    const other = roots.find((r) => r !== defaultRoot)!;
    assert.ok(cn(other.subject) && cn(other.subject) !== cn(defaultRoot.subject), 'the two roots have distinct common names');

    const preferred = pemCerts((await c.order(['chain.acme.test'], recordingResponder().responder, { ...opts, preferredChain: cn(other.subject)! })).certificate);
    assert.equal(cn(preferred[preferred.length - 1]!.issuer), cn(other.subject));
    assert.equal(assertChainsTo(preferred, roots), other);

    const asDefault = pemCerts((await c.order(['chain.acme.test'], recordingResponder().responder, { ...opts, preferredChain: cn(defaultRoot.subject)! })).certificate);
    assert.equal(assertChainsTo(asDefault, roots), defaultRoot);

    const unknown = pemCerts((await c.order(['chain.acme.test'], recordingResponder().responder, { ...opts, preferredChain: 'No Such Root' })).certificate);
    assert.equal(assertChainsTo(unknown, roots), defaultRoot);
  });
});

describe('badNonce (RFC 8555 §6.5), against a one-route fake', () => {
  test('a request refused for its nonce is signed again with the nonce of the refusal', async () => {
    const nonces: string[] = [];
    const checks: Array<{ alg: string; url: boolean; verifies: boolean }> = [];
    let issued = 0;
    const fresh = () => `nonce-${++issued}`;
    let refusals = 0;
    const server = http.createServer((req, res) => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (req.url === '/dir') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order` }));
        return;
      }
      if (req.url === '/nonce') {
        res.writeHead(200, { 'replay-nonce': fresh() }).end();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const jws = JSON.parse(body) as { protected: string; payload: string; signature: string };
        const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString()) as { alg: string; nonce: string; url: string; jwk: { kty: string; crv: string; x: string; y: string } };
        nonces.push(header.nonce);
        // The signature checked here as RFC 7515 and 7518 §3.4 define it: ES256, r||s, over protected.payload.
        const key = createPublicKey({ key: header.jwk, format: 'jwk' });
        const ok = verify('sha256', Buffer.from(`${jws.protected}.${jws.payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(jws.signature, 'base64url'));
        checks.push({ alg: header.alg, url: header.url === `${base}/account`, verifies: ok });
        if (refusals < 2) {
          refusals++;
          res.writeHead(400, { 'content-type': 'application/problem+json', 'replay-nonce': fresh() })
            .end(JSON.stringify({ type: `${ACME_ERROR}badNonce`, detail: 'JWS has an invalid anti-replay nonce', status: 400 }));
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json', location: `${base}/acct/1`, 'replay-nonce': fresh() }).end(JSON.stringify({ status: 'valid' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const c = new AcmeClient({ directoryUrl: `http://127.0.0.1:${port}/dir`, accountKey: generateAccountKey() });
      assert.equal(await c.account({ email: '', termsAgreed: true }), `http://127.0.0.1:${port}/acct/1`);
      assert.deepEqual(nonces, ['nonce-1', 'nonce-2', 'nonce-3'], 'the first from newNonce, then each from the refusal before');
      assert.deepEqual(checks, Array(3).fill({ alg: 'ES256', url: true, verifies: true }));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('HTTP bounds, against fakes', () => {
  const withServer = async (handler: http.RequestListener, run: (url: string) => Promise<void>) => {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  };

  test('a server that does not answer: the request times out after timeoutMs', async () => {
    await withServer(() => undefined, async (url) => {
      const c = new AcmeClient({ directoryUrl: url, accountKey: generateAccountKey(), timeoutMs: 150 });
      await assert.rejects(c.account({ email: '', termsAgreed: true }), (err: unknown) => {
        assert.ok(err instanceof AcmeError);
        assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/dir timed out after 150 ms$/);
        return true;
      });
    });
  });

  test('an answer over 1 MiB is refused', async () => {
    await withServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.alloc(2 << 20, 0x20)); }, async (url) => {
      const c = new AcmeClient({ directoryUrl: url, accountKey: generateAccountKey() });
      await assert.rejects(c.account({ email: '', termsAgreed: true }), /the response is larger than 1048576 bytes/);
    });
  });
});

describe('JWK thumbprint (RFC 7638)', () => {
  test('§3.1\'s RSA example key has the thumbprint the RFC gives', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    assert.equal(jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    assert.equal(jwkThumbprint(createPublicKey({ key: jwk, format: 'jwk' })), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', 'the same from the key');
  });

  test('an EC key: SHA-256 of {"crv","kty","x","y"} in that order', () => {
    const key = generateAccountKey();
    assert.equal(jwkThumbprint(key), thumbprintOf(key));
  });
});
