/**
 * The rate-limit stores' own Redis client (src/ratelimit/stores/resp-client.ts) against a real
 * redis-server: each RESP2 reply type as Redis documents it, AUTH and SELECT from the URL, a
 * wrong password kept from ever being ready, a timed-out command that leaves the connection
 * usable; and, against a server that writes its replies one byte at a time, replies read
 * whole however TCP cuts them; a refused connection retried, with nothing thrown.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRedisClient, whenReady } from '../../src/ratelimit/stores/redis-client.js';
import { ReplyError, RespClient } from '../../src/ratelimit/stores/resp-client.js';
import { fromRedisError } from '../../src/ratelimit/stores/errors.js';
import { startRedisServer, waitFor, type RedisServer } from '../support/redis-server.js';

describe('resp client against redis-server', () => {
  let server: RedisServer;
  const clients: RespClient[] = [];
  const client = async (target: Parameters<typeof createRedisClient>[0]) => {
    const c = createRedisClient(target);
    clients.push(c);
    await whenReady(c);
    return c;
  };
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  test('replies as RESP2 types them: status, bulk, nil, integer, array, error', async () => {
    const c = await client(server.url);
    assert.equal(await c.call('SET', 'greeting', 'grüß dich ☃'), 'OK');
    assert.equal(await c.call('GET', 'greeting'), 'grüß dich ☃', 'bulk strings are counted in bytes, not characters');
    assert.equal(await c.call('GET', 'nothing-here'), null);
    assert.equal(await c.call('INCRBY', 'n', 41), 41);
    assert.equal(await c.call('RPUSH', 'list', 'a', '', 'c'), 3);
    assert.deepEqual(await c.call('LRANGE', 'list', 0, -1), ['a', '', 'c']);
    assert.deepEqual(await c.call('EVAL', 'return {1, {2, "x"}, false}', 0), [1, [2, 'x'], null], 'nested arrays; Lua false is nil');
    await assert.rejects(c.call('INCR', 'greeting'), (e: unknown) => {
      assert.ok(e instanceof ReplyError);
      assert.match(e.message, /^ERR value is not an integer/);
      assert.equal(fromRedisError(e).reason, 'rejected');
      return true;
    });
    assert.equal(c.status, 'ready', 'an error reply leaves the connection as it was');
  });

  test('many commands written at once are answered in order', async () => {
    const c = await client(server.url);
    const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => c.call('INCR', 'counter')));
    assert.deepEqual(replies, Array.from({ length: 500 }, (_, i) => i + 1));
  });

  test('a command that times out fails typed; its late reply is dropped and the connection goes on', async () => {
    const c = await client({ host: '127.0.0.1', port: server.port, commandTimeoutMs: 100 });
    await server.command('CLIENT', 'PAUSE', '1000', 'WRITE');
    try {
      await assert.rejects(c.call('SET', 'late', '1'), (e: unknown) => fromRedisError(e).reason === 'timeout');
    } finally {
      await server.command('CLIENT', 'UNPAUSE');
    }
    assert.equal(await c.call('GET', 'late'), '1', 'the next reply is the next command\'s');
  });

  describe('with a password', () => {
    before(async () => {
      await server.command('CONFIG', 'SET', 'requirepass', 's3cret');
    });
    after(async () => {
      const c = await client(`redis://:s3cret@127.0.0.1:${server.port}`);
      await c.call('CONFIG', 'SET', 'requirepass', '');
    });

    test('AUTH and SELECT from the URL before the client is ready', async () => {
      const c = await client(`redis://default:s3cret@127.0.0.1:${server.port}/3`);
      assert.equal(await c.call('SET', 'in-db-3', 'x'), 'OK');
      assert.match(await (await client(`redis://:s3cret@127.0.0.1:${server.port}`)).call('INFO', 'keyspace') as string, /db3:keys=1/);
    });

    test('a wrong password is never ready: the error is reported and commands fail at once', async () => {
      const errors: Error[] = [];
      const c = createRedisClient({ host: '127.0.0.1', port: server.port, password: 'wrong' }, (e) => errors.push(e));
      clients.push(c);
      await waitFor(() => errors.length > 0, 5_000, 'an AUTH error');
      assert.match(errors[0]!.message, /WRONGPASS|invalid password/);
      assert.notEqual(c.status, 'ready');
      await assert.rejects(c.call('PING'), (e: unknown) => fromRedisError(e).reason === 'unavailable');
    });
  });
});

describe('resp client reading replies cut anywhere', () => {
  let fake: net.Server;
  let port = 0;
  // Three replies, sent one byte at a time whatever the client asked.
  const REPLIES = Buffer.from('+PONG\r\n*3\r\n$5\r\nhé!!\r\n:-7\r\n*0\r\n$-1\r\n');
  before(async () => {
    fake = net.createServer((socket) => {
      let asked = 0;
      socket.on('data', (chunk) => {
        asked += (chunk.toString().match(/^\*/gm) ?? []).length;
        if (asked < 3) return;
        let i = 0;
        const next = () => {
          if (i >= REPLIES.length || socket.destroyed) return;
          socket.write(REPLIES.subarray(i, ++i), () => setImmediate(next));
        };
        next();
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    port = (fake.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  test('each reply is whole, in order, the bytes decoded as UTF-8', async () => {
    const c = createRedisClient({ host: '127.0.0.1', port });
    try {
      await whenReady(c);
      const replies = await Promise.all([c.call('PING'), c.call('X'), c.call('Y')]);
      assert.deepEqual(replies, ['PONG', ['hé!!', -7, []], null]);
    } finally {
      c.disconnect();
    }
  });
});

test('a Redis that refuses the connection: retried with backoff, commands fail at once, nothing thrown without an error listener', async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
  const c = new RespClient({ host: '127.0.0.1', port: closed, connectTimeoutMs: 500, commandTimeoutMs: 500 });
  try {
    let closes = 0;
    c.on('close', () => closes++);
    await waitFor(() => closes >= 2, 5_000, 'two refused connection attempts');
    assert.equal(c.status, 'reconnecting');
    await assert.rejects(c.call('PING'), (e: unknown) => fromRedisError(e).reason === 'unavailable');
  } finally {
    c.disconnect();
  }
  assert.equal(c.status, 'end');
});
