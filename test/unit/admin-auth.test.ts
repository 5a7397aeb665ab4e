// Who may write through the Admin API: the token when one is configured; without one, only
// an admin server on loopback (safe by default).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { AdminAuth } from '../../src/admin/admin-auth.js';

const req = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;

test('no token: writes allowed on a loopback admin, refused (403) on 0.0.0.0, :: or another address', () => {
  for (const host of ['127.0.0.1', 'localhost', '::1']) assert.equal(new AdminAuth(undefined, host).check(req()), undefined, host);
  for (const host of ['0.0.0.0', '::', '10.1.2.3']) {
    const denied = new AdminAuth(undefined, host).check(req());
    assert.equal(denied?.status, 403, host);
    assert.match(denied!.message, /--admin-token/);
  }
});

test('a token: Kong-Admin-Token must carry it, wherever the admin listens', () => {
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    const auth = new AdminAuth('t0ken', host);
    assert.equal(auth.check(req())?.status, 401);
    assert.equal(auth.check(req({ 'kong-admin-token': 't0kem' }))?.status, 401);
    assert.equal(auth.check(req({ 'kong-admin-token': 't0ke' }))?.status, 401);
    assert.equal(auth.check(req({ 'kong-admin-token': 't0ken' })), undefined);
  }
});
