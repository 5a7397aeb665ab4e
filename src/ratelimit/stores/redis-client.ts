import { createRequire } from 'node:module';
import type { Cluster, ClusterNode, RedisOptions } from 'ioredis';
import { RespClient, respOptionsFromUrl, type RespClientOptions } from './resp-client.js';

/**
 * What a RedisStore needs of a client: script runs, its state, and its events. The
 * standalone client (resp-client.ts) and ioredis's Redis and Cluster all fit.
 */
export interface ScriptClient {
  readonly status: string;
  readonly isCluster?: boolean;
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  /** A script run from its keys and arguments as they are, when the client can (resp-client.ts). */
  runScript?(verb: 'EVALSHA' | 'EVAL', shaOrScript: string, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** A Redis connection as Kong's rate-limiting plugin describes it (config.redis.*). */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  database?: number;
  /** TLS when present; `verify` checks the server certificate, `serverName` sets SNI. */
  tls?: { verify: boolean; serverName?: string };
  /** Connect timeout (Kong's redis.connect_timeout, else redis.timeout). Default 2000. */
  connectTimeoutMs?: number;
  /** Per-command timeout (Kong's redis.read_timeout, else redis.timeout). Default 2000. */
  commandTimeoutMs?: number;
}

/**
 * Cluster client options for rate limiting: fail fast, recover on its own. While Redis is away
 * a decision must fail at once (so fault_tolerant can apply) rather than wait in an offline
 * queue, and must never be replayed later (a late replay would consume a unit for a request
 * already answered). Reconnection is retried forever with a capped backoff. The standalone
 * client (resp-client.ts) behaves so by design.
 */
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
};

/**
 * Connection trouble (refused, reset, cluster slots unknown) as the client reports it between
 * decisions; pass the service's logger here. Decisions report their own failures as
 * RateLimitStoreError whatever this does. Default: ignore (ioredis would print to stderr).
 */
export type RedisErrorListener = (err: Error) => void;

/**
 * A standalone Redis client for a RedisStore, from a URL (`redis://[user:pass@]host:port/db`,
 * `rediss://` for TLS; the ratelimit service's `--redis`) or from a plugin's connection.
 */
export function createRedisClient(target: string | RedisConnection, onError: RedisErrorListener = ignore): RespClient {
  const options: RespClientOptions =
    typeof target === 'string'
      ? respOptionsFromUrl(target, { connectTimeoutMs: 2_000, commandTimeoutMs: 2_000 })
      : {
        host: target.host, port: target.port, db: target.database ?? 0,
        ...(target.username !== undefined ? { username: target.username } : {}),
        ...(target.password !== undefined ? { password: target.password } : {}),
        ...(target.tls ? { tls: { rejectUnauthorized: target.tls.verify, ...(target.tls.serverName ? { servername: target.tls.serverName } : {}) } } : {}),
        connectTimeoutMs: target.connectTimeoutMs ?? 2_000,
        commandTimeoutMs: target.commandTimeoutMs ?? 2_000,
      };
  const client = new RespClient(options);
  client.on('error', onError);
  return client;
}

/** ioredis, loaded only when a Cluster client is made (the standalone path never needs it). */
const requireIoredis = () => createRequire(import.meta.url)('ioredis') as typeof import('ioredis');

/** A Redis Cluster client for a RedisStore; `nodes` are any of the cluster's masters. */
export function createRedisClusterClient(
  nodes: ClusterNode[],
  connection: Omit<RedisConnection, 'host' | 'port'> = {},
  onError: RedisErrorListener = ignore,
): Cluster {
  const { enableOfflineQueue: _queue, ...perNode } = FAIL_FAST;
  const client = new (requireIoredis().Cluster)(nodes, {
    // The decisions of one event-loop turn go out in one write per node.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: (attempt: number) => Math.min(50 * attempt, 1_000),
    redisOptions: { ...perNode, ...connectionOptions(connection) },
  });
  client.on('error', onError);
  return client;
}

const ignore: RedisErrorListener = () => undefined;

/** Resolves once the client is ready for commands; rejects after `timeoutMs`. */
export function whenReady(client: ScriptClient, timeoutMs = 5_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    client.once('ready', onReady);
  });
}

function connectionOptions(c: Omit<RedisConnection, 'host' | 'port'>): RedisOptions {
  return {
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    db: c.database ?? 0,
    connectTimeout: c.connectTimeoutMs ?? 2_000,
    commandTimeout: c.commandTimeoutMs ?? 2_000,
    ...(c.tls ? { tls: { rejectUnauthorized: c.tls.verify, ...(c.tls.serverName ? { servername: c.tls.serverName } : {}) } } : {}),
  };
}
