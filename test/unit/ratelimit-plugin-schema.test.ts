/**
 * The rate-limiting plugin's config schema: Kong 3.x fields and defaults, both spellings of
 * the Redis settings, Kong's entity checks, and the `algorithm` extension.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RATE_LIMIT_ALGORITHMS, RATE_LIMIT_PERIODS, rateLimiting } from '../../src/model/plugins/rate-limiting.js';
import type { RateLimitingConfig } from '../../src/model/plugins/rate-limiting.js';
import { ALGORITHM_NAMES, UNITS } from '../../src/ratelimit/algorithms/index.js';

function parse(config: unknown): RateLimitingConfig {
  const r = rateLimiting.config.safeParse(config);
  if (!r.success) assert.fail(JSON.stringify(r.error.issues));
  return r.data;
}

function issues(config: unknown): Array<{ path: string; message: string }> {
  const r = rateLimiting.config.safeParse(config);
  assert.equal(r.success, false, 'expected the config to be refused');
  return r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('rate-limiting config', () => {
  test('applies Kong\'s defaults and Frontdesk\'s default algorithm', () => {
    assert.deepEqual(parse({ minute: 5 }), {
      minute: 5,
      limit_by: 'consumer',
      policy: 'local',
      fault_tolerant: true,
      hide_client_headers: false,
      error_code: 429,
      error_message: 'API rate limit exceeded',
      sync_rate: -1,
      algorithm: 'token-bucket',
      redis: {
        port: 6379, timeout: 2000, connect_timeout: 2000, send_timeout: 2000, read_timeout: 2000,
        database: 0, ssl: false, ssl_verify: false,
      },
    });
  });

  test('loads the deep-dive examples as written (older flat redis_* fields)', () => {
    const a = parse({ minute: 100, hour: 5000, policy: 'redis', redis_host: 'redis', redis_port: 6379, limit_by: 'credential', hide_client_headers: false });
    assert.equal(a.redis.host, 'redis');
    assert.equal(a.redis.port, 6379);
    assert.equal(a.limit_by, 'credential');
    assert.ok(!('redis_host' in a) && !('redis_port' in a), 'the flat fields are folded into redis');
    const b = parse({ minute: 60, policy: 'redis', redis_host: 'redis' });
    assert.equal(b.redis.host, 'redis');
  });

  test('reads Kong 3.6+\'s nested redis record; its timeouts default to redis.timeout', () => {
    const c = parse({
      second: 5, policy: 'redis',
      redis: { host: 'r1', port: 6380, username: 'u', password: 'p', database: 2, timeout: 500, read_timeout: 900, ssl: true, ssl_verify: true, server_name: 'r1.internal' },
    });
    assert.deepEqual(c.redis, {
      host: 'r1', port: 6380, username: 'u', password: 'p', database: 2, timeout: 500,
      connect_timeout: 500, send_timeout: 500, read_timeout: 900, ssl: true, ssl_verify: true, server_name: 'r1.internal',
    });
  });

  test('accepts a deck dump of Kong 3.6+, which writes both spellings with the same values', () => {
    const c = parse({ minute: 5, policy: 'redis', redis: { host: 'r', port: 6379, timeout: 2000, database: 0 }, redis_host: 'r', redis_port: 6379, redis_timeout: 2000, redis_database: 0 });
    assert.equal(c.redis.host, 'r');
  });

  test('refuses the two spellings disagreeing', () => {
    assert.deepEqual(issues({ minute: 5, policy: 'redis', redis: { host: 'a' }, redis_host: 'b' }), [
      { path: 'redis_host', message: '"b" disagrees with redis.host "a"; set only redis.host (redis_host is its older spelling)' },
    ]);
  });

  test('needs at least one limit', () => {
    assert.deepEqual(issues({ limit_by: 'ip' }), [{ path: '', message: 'set at least one limit: second, minute, hour, day, month or year' }]);
  });

  test('limits must be positive numbers', () => {
    assert.equal(issues({ minute: 0 })[0]?.path, 'minute');
    assert.equal(issues({ minute: -3 })[0]?.path, 'minute');
    assert.equal(parse({ second: 0.5, minute: 1.5 }).second, 0.5, 'Kong allows fractions');
  });

  test('a longer period cannot have a lower limit than a shorter one (Kong\'s rule)', () => {
    assert.deepEqual(issues({ second: 10, minute: 5, hour: 100 }), [
      { path: 'minute', message: 'the limit for minute (5) cannot be lower than the limit for second (10)' },
    ]);
    assert.ok(parse({ second: 10, minute: 10, day: 10 }));
  });

  test('limit_by header needs header_name; limit_by path needs path', () => {
    assert.deepEqual(issues({ minute: 5, limit_by: 'header' }), [{ path: 'header_name', message: 'is required when limit_by is "header"' }]);
    assert.deepEqual(issues({ minute: 5, limit_by: 'path' }), [{ path: 'path', message: 'is required when limit_by is "path"' }]);
    assert.equal(parse({ minute: 5, limit_by: 'header', header_name: 'X-Tenant' }).header_name, 'X-Tenant');
    assert.equal(parse({ minute: 5, limit_by: 'path', path: '/orders' }).path, '/orders');
    assert.equal(issues({ minute: 5, limit_by: 'header', header_name: 'X Tenant' })[0]?.path, 'header_name');
    assert.equal(issues({ minute: 5, limit_by: 'path', path: 'orders' })[0]?.path, 'path');
  });

  test('policy redis needs a Redis host, in either spelling', () => {
    assert.deepEqual(issues({ minute: 5, policy: 'redis' }), [
      { path: 'redis.host', message: 'is required when policy is "redis" (set redis.host, or the older redis_host)' },
    ]);
  });

  test('sync_rate follows Kong: only with redis, at least 0.02, or -1', () => {
    assert.equal(issues({ minute: 5, sync_rate: 1 })[0]?.path, 'sync_rate');
    assert.match(issues({ minute: 5, policy: 'redis', redis_host: 'r', sync_rate: 0.01 })[0]?.message ?? '', /0\.02/);
    assert.equal(parse({ minute: 5, policy: 'redis', redis_host: 'r', sync_rate: 0.5 }).sync_rate, 0.5);
  });

  test('unknown keys, wrong enums and impossible status codes are refused', () => {
    const r = rateLimiting.config.safeParse({ minute: 5, limit_by: 'user', algoritm: 'fixed-window', error_code: 1000, redis: { hots: 'x' } });
    assert.equal(r.success, false);
    const codes = r.error!.issues.map((i) => `${i.code}@${i.path.join('.')}`).sort();
    assert.deepEqual(codes, ['custom@error_code', 'invalid_value@limit_by', 'unrecognized_keys@', 'unrecognized_keys@redis']);
  });

  test('the algorithm extension takes each of the five algorithms', () => {
    for (const algorithm of RATE_LIMIT_ALGORITHMS) assert.equal(parse({ hour: 1, algorithm }).algorithm, algorithm);
    assert.equal(issues({ hour: 1, algorithm: 'gcra' })[0]?.path, 'algorithm');
  });

  test('is declared for every scope Kong allows, and agrees with the ratelimit service\'s names', () => {
    assert.equal(rateLimiting.name, 'rate-limiting');
    assert.deepEqual([...rateLimiting.scopes].sort(), ['consumer', 'global', 'route', 'service']);
    assert.deepEqual([...RATE_LIMIT_ALGORITHMS], [...ALGORITHM_NAMES]);
    assert.deepEqual([...RATE_LIMIT_PERIODS], [...UNITS]);
  });
});
