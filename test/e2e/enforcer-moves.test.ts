// Moving a route's auth between the authz companion and Envoy's own filters is an edit like
// any other, and it must never open the route: the listener's filter chain changes with it,
// and Envoy applies a listener before its routes. Twelve edits move key-auth and jwt back and
// forth under clients looping without a credential (every answer must be Kong's 401) and with
// one (every answer the upstream's 200).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'moves-secret';
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const input = `${b64({ typ: 'JWT', alg: 'HS256' })}.${b64({ iss: 'moves-key', exp: 4_102_444_800 })}`;
const TOKEN = `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;

const config = (upstream: string, enforcer: 'native' | 'companion') => `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    jwt_secrets: [{ key: moves-key, secret: ${SECRET} }]
services:
  - name: svc
    url: ${upstream}
    routes:
      - name: keys
        paths: [/keys]
        plugins: [{ name: key-auth, config: { enforcer: ${enforcer} } }]
      - name: tokens
        paths: [/tokens]
        plugins: [{ name: jwt, config: { enforcer: ${enforcer} } }]
      - name: open
        paths: [/open]
`;

function send(gw: Gateway, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('auth moved between the companion and Envoy', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  before(async () => {
    upstream = await startEchoUpstream('moves');
    gw = await startGatewayWithAuthz(config(upstream.url, 'companion'));
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  test('twelve moves under request loops: without a credential always 401, with one always 200', async () => {
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    let stop = false;
    const loop = async (path: string, headers: Record<string, string>, label: string) => {
      while (!stop) count(`${label} ${await send(gw, path, headers)}`);
    };
    const loops = [
      loop('/keys', {}, 'keys without a key'), loop('/tokens', {}, 'tokens without a token'),
      loop('/keys', { apikey: 'alice-key' }, 'keys with the key'), loop('/tokens', { authorization: `Bearer ${TOKEN}` }, 'tokens with the token'),
      loop('/open', {}, 'open'),
    ];
    for (let i = 0; i < 12; i++) {
      const before = seen.get('keys with the key 200') ?? 0;
      await gw.edit(config(upstream.url, i % 2 === 0 ? 'native' : 'companion'));
      // Requests ran under each version before the next move.
      await waitFor(() => (seen.get('keys with the key 200') ?? 0) > before + 3 || undefined, `requests under move ${i + 1}`, 15_000);
    }
    stop = true;
    await Promise.all(loops);
    const got = Object.fromEntries([...seen].sort());
    for (const label of ['keys without a key', 'tokens without a token']) {
      assert.deepEqual(Object.keys(got).filter((k) => k.startsWith(label)), [`${label} 401`], `${label}: only 401 ${JSON.stringify(got)}`);
    }
    for (const label of ['keys with the key', 'tokens with the token', 'open']) {
      assert.deepEqual(Object.keys(got).filter((k) => k.startsWith(label)), [`${label} 200`], `${label}: only 200 ${JSON.stringify(got)}`);
    }
  });
});
