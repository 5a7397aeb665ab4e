/** The rate-limit stores: the Store contract, the in-memory default and the Redis store. */
export type { Store } from './store.js';
export { MemoryStore } from './memory.js';
export type { MemoryStoreOptions } from './memory.js';
export { RedisStore } from './redis.js';
export type { RedisStoreOptions } from './redis.js';
export { createRedisClient, createRedisClusterClient, whenReady } from '../../redis-client.js';
export type { RedisConnection, RedisErrorListener } from '../../redis-client.js';
export { RateLimitStoreError } from './errors.js';
export type { StoreFailure } from './errors.js';
export { DEFAULT_KEY_PREFIX, windowKey } from './redis-keys.js';
