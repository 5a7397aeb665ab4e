import { createRequire } from 'node:module';
import type { Cluster as ClusterClient, ClusterNode, Redis as RedisClient, RedisOptions } from 'ioredis';

// By require, not import: Node's ESM loader, taking a CommonJS package in, leaves the process
// ~7 MiB larger than require does for the same package (ioredis: +19.3 against +12.1 MiB of
// RSS on Node 20, docs/ratelimit.md), and the ratelimit companion is held to 60 MiB. Required
// at the first client, so a companion that never connects to a Redis never loads it.
let ioredis: typeof import('ioredis') | undefined;
const ioredisModule = () => (ioredis ??= createRequire(import.meta.url)('ioredis') as typeof import('ioredis'));

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
 * Client options for rate limiting: fail fast, recover on its own. While Redis is away a
 * decision must fail at once (so fault_tolerant can apply) rather than wait in an offline
 * queue, and must never be replayed later (a late replay would consume a unit for a request
 * already answered). Reconnection is retried forever with a capped backoff.
 */
const FAIL_FAST: RedisOptions = {
  // A standalone client carries one command per RedisStore batch (the store gathers the
  // decisions itself, redis.ts): ioredis's own pipelining would only add a pipeline object per
  // command. The Cluster client below turns it on: there each decision is its own command.
  enableAutoPipelining: false,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1_000),
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
export function createRedisClient(target: string | RedisConnection, onError: RedisErrorListener = ignore, o: { autoPipelining?: boolean } = {}): RedisClient {
  // autoPipelining: the commands of one event-loop turn in one socket write, for a caller that
  // sends a command or a pipeline per request rather than batching them itself.
  const options = { ...FAIL_FAST, ...(o.autoPipelining ? { enableAutoPipelining: true } : {}) };
  const client =
    typeof target === 'string'
      ? new (ioredisModule().Redis)(target, { ...options, connectTimeout: 2_000, commandTimeout: 2_000 })
      : new (ioredisModule().Redis)({ ...options, ...connectionOptions(target), host: target.host, port: target.port });
  client.on('error', onError);
  return client;
}

/** A Redis Cluster client for a RedisStore; `nodes` are any of the cluster's masters. */
export function createRedisClusterClient(
  nodes: ClusterNode[],
  connection: Omit<RedisConnection, 'host' | 'port'> = {},
  onError: RedisErrorListener = ignore,
): ClusterClient {
  const { enableOfflineQueue: _queue, retryStrategy: _retry, enableAutoPipelining: _pipe, ...perNode } = FAIL_FAST;
  const cluster = new (ioredisModule().Cluster)(nodes, {
    // The decisions of one event-loop turn go out in one write per node.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: (attempt: number) => Math.min(50 * attempt, 1_000),
    redisOptions: { ...perNode, ...connectionOptions(connection) },
  });
  cluster.on('error', onError);
  return cluster;
}

const ignore: RedisErrorListener = () => undefined;

/** Resolves once the client is ready for commands; rejects after `timeoutMs`. */
export function whenReady(client: RedisClient | ClusterClient, timeoutMs = 5_000): Promise<void> {
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
