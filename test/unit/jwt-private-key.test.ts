// A private RSA key pasted as a jwt_secret's rsa_public_key is refused where it is written (it
// would parse: a private key holds its public half), while the public key loads.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { compileConfig } from '../../src/runtime/compile.js';
import { yamlBlock } from '../support/certs.js';
import { marked } from '../support/envoy-refusals.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const config = (pem: string) => `_format_version: "3.0"
consumers:
  - username: alice
    jwt_secrets:
      - key: issuer-a
        algorithm: RS256
        rsa_public_key: ⟦|
${yamlBlock(pem, 10)}
services:
  - name: app
    url: http://127.0.0.1:9
    routes:
      - name: r
        paths: ["/ok"]
    plugins:
      - name: jwt
`;

test('a private key as rsa_public_key is refused at its line:col', () => {
  for (const pem of [privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, privateKey.export({ type: 'pkcs1', format: 'pem' }) as string]) {
    const { text, line, col } = marked(config(pem));
    const r = compileConfig([{ file: 'gateway.yaml', text }]);
    assert.equal(r.ok, false);
    const d = r.diagnostics.find((x) => x.severity === 'error');
    assert.ok(d && d.message.includes('holds a private key'), JSON.stringify(r.diagnostics));
    assert.deepEqual([d.code, d.line, d.col], ['FD_INVALID_VALUE', line, col]);
  }
});

test('the public key loads', () => {
  const r = compileConfig([{ file: 'gateway.yaml', text: marked(config(publicKey.export({ type: 'spki', format: 'pem' }) as string)).text }]);
  assert.equal(r.ok, true, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
});
