import { z } from 'zod';
import {
  ENVOY_ERROR_STATUS_NAMES, nativeLocalBlockers, RATE_LIMIT_ALGORITHMS, RATE_LIMIT_PERIODS, type RateLimitAlgorithm, type RateLimitingRedis, type RateLimitPeriod,
} from '../../rate-limits.js';
import { definePlugin } from './definition.js';

export { nativeLocalBlockers, RATE_LIMIT_ALGORITHMS, RATE_LIMIT_PERIODS, type RateLimitAlgorithm, type RateLimitingRedis, type RateLimitPeriod } from '../../rate-limits.js';

/** The values of rate-limiting's `enforcer` extension. */
export const RATE_LIMIT_ENFORCERS = ['native', 'companion'] as const;
export type RateLimitEnforcer = (typeof RATE_LIMIT_ENFORCERS)[number];

const limit = z.number().positive();
// Kong's typedefs: port 0-65535; timeouts 0 to 2^31-2 ms; header names are tokens.
const port = z.number().int().min(0).max(65_535);
const timeoutMs = z.number().int().min(0).max(2 ** 31 - 2);
const host = z.string().min(1);

/** Kong 3.6+'s nested `redis` record (kong/tools/redis/schema.lua), as written: nothing defaulted yet (see resolveRedis). */
export const redisInput = z.strictObject({
  host: host.optional(),
  port: port.optional(),
  timeout: timeoutMs.optional(),
  connect_timeout: timeoutMs.optional(),
  send_timeout: timeoutMs.optional(),
  read_timeout: timeoutMs.optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  database: z.number().int().min(0).optional(),
  ssl: z.boolean().optional(),
  ssl_verify: z.boolean().optional(),
  server_name: z.string().min(1).optional(),
});

/** The older flat fields (Kong before 3.6, still accepted by Kong 3.x) and their nested twins. */
export const LEGACY_REDIS_FIELDS = {
  redis_host: 'host',
  redis_port: 'port',
  redis_timeout: 'timeout',
  redis_username: 'username',
  redis_password: 'password',
  redis_database: 'database',
  redis_ssl: 'ssl',
  redis_ssl_verify: 'ssl_verify',
  redis_server_name: 'server_name',
} as const satisfies Record<string, keyof z.input<typeof redisInput>>;

/** A plugin config's Redis fields as Kong 3.x reads them: the nested record and its older flat spellings. */
export const REDIS_FIELDS = {
  redis: redisInput.optional(),
  redis_host: host.optional(),
  redis_port: port.optional(),
  redis_timeout: timeoutMs.optional(),
  redis_username: z.string().optional(),
  redis_password: z.string().optional(),
  redis_database: z.number().int().min(0).optional(),
  redis_ssl: z.boolean().optional(),
  redis_ssl_verify: z.boolean().optional(),
  redis_server_name: z.string().min(1).optional(),
};

/** The Redis fields of a parsed config, before resolveRedis. */
export type RedisFieldsInput = z.output<z.ZodObject<typeof REDIS_FIELDS>>;

/** The config field paths of REDIS_FIELDS, for a plugin's field audit. */
export const REDIS_FIELD_PATHS: readonly string[] = [
  ...['host', 'port', 'timeout', 'connect_timeout', 'send_timeout', 'read_timeout', 'username', 'password', 'database', 'ssl', 'ssl_verify', 'server_name'].map((f) => `redis.${f}`),
  ...Object.keys(LEGACY_REDIS_FIELDS),
];

/**
 * Kong's checks of the Redis fields: a flat field that disagrees with its nested twin, and the
 * host that policy redis requires (`fail` reports at a path of the config).
 */
export function checkRedisFields(c: RedisFieldsInput & { policy: string }, fail: (path: PropertyKey[], message: string) => void): void {
  for (const [flat, nested] of Object.entries(LEGACY_REDIS_FIELDS) as Array<[keyof typeof LEGACY_REDIS_FIELDS, keyof RateLimitingRedis]>) {
    const a = c[flat];
    const b = c.redis?.[nested as keyof z.output<typeof redisInput>];
    if (a !== undefined && b !== undefined && a !== b) {
      fail([flat], `${JSON.stringify(a)} disagrees with redis.${nested} ${JSON.stringify(b)}; set only redis.${nested} (${flat} is its older spelling)`);
    }
  }
  if (c.policy === 'redis' && (c.redis?.host ?? c.redis_host) === undefined) {
    fail(['redis', 'host'], 'is required when policy is "redis" (set redis.host, or the older redis_host)');
  }
}

/** A limit per Kong period, each optional (> 0). */
export const PERIOD_LIMIT_FIELDS = {
  second: limit.optional(),
  minute: limit.optional(),
  hour: limit.optional(),
  day: limit.optional(),
  month: limit.optional(),
  year: limit.optional(),
};

/** Kong's checks of the period limits: at least one, a longer period's limit never lower than a shorter one's. */
export function checkPeriodLimits(c: Partial<Record<RateLimitPeriod, number>>, fail: (path: PropertyKey[], message: string) => void, none: string): void {
  const set = RATE_LIMIT_PERIODS.filter((p) => c[p] !== undefined);
  if (set.length === 0) fail([], none);
  for (const [i, upper] of set.entries()) {
    const lower = set.slice(0, i).find((p) => c[p]! > c[upper]!);
    if (lower) fail([upper], `the limit for ${upper} (${c[upper]}) cannot be lower than the limit for ${lower} (${c[lower]})`);
  }
}

const configInput = z.strictObject({
  ...PERIOD_LIMIT_FIELDS,
  limit_by: z.enum(['consumer', 'credential', 'ip', 'service', 'header', 'path']).default('consumer'),
  header_name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be an HTTP header name (letters, digits, "-" and "_")').optional(),
  path: z.string().startsWith('/', 'must start with "/"').optional(),
  policy: z.enum(['local', 'cluster', 'redis']).default('local'),
  fault_tolerant: z.boolean().default(true),
  hide_client_headers: z.boolean().default(false),
  ...REDIS_FIELDS,
  // Kong: any number > 0; Envoy's ratelimit filter refuses only with a 4xx/5xx status it knows.
  error_code: z.number().int().refine((c) => c in ENVOY_ERROR_STATUS_NAMES, { message: `must be a 4xx or 5xx status Envoy can send: ${Object.keys(ENVOY_ERROR_STATUS_NAMES).join(', ')}` }).default(429),
  error_message: z.string().default('API rate limit exceeded'),
  sync_rate: z.number().default(-1),
  algorithm: z.enum(RATE_LIMIT_ALGORITHMS).default('token-bucket'),
  enforcer: z.enum(RATE_LIMIT_ENFORCERS).optional(),
});



/**
 * Kong 3.x rate-limiting config as Frontdesk uses it: Kong's defaults applied and the older
 * `redis_*` fields folded into `redis` (they are gone from the output).
 */
export interface RateLimitingConfig {
  second?: number;
  minute?: number;
  hour?: number;
  day?: number;
  month?: number;
  year?: number;
  limit_by: 'consumer' | 'credential' | 'ip' | 'service' | 'header' | 'path';
  header_name?: string;
  path?: string;
  policy: 'local' | 'cluster' | 'redis';
  fault_tolerant: boolean;
  hide_client_headers: boolean;
  redis: RateLimitingRedis;
  error_code: number;
  error_message: string;
  /**
   * Kong's counter sync period (-1: synchronous). Frontdesk always decides synchronously,
   * which is exactly what -1 asks for and stricter than any batching period.
   */
  sync_rate: number;
  /** (extension) How each limit is enforced. */
  algorithm: RateLimitAlgorithm;
  /**
   * (extension) Who counts: `native` (Envoy's local_ratelimit, only where it gives exactly
   * Kong's answer: see resources/filters/local-ratelimit.ts) or `companion` (the ratelimit
   * service). Unset: Envoy where it is exact, the companion otherwise.
   */
  enforcer?: RateLimitEnforcer;
}


/**
 * Kong 3.x `rate-limiting` plugin config (kong/plugins/rate-limiting/schema.lua and
 * kong/tools/redis/schema.lua) with Kong's defaults and entity checks, plus Frontdesk's
 * `algorithm` extension.
 */
export const rateLimitingConfigSchema = configInput
  .superRefine((c, ctx) => {
    const fail = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    checkPeriodLimits(c, fail, 'set at least one limit: second, minute, hour, day, month or year');
    if (c.limit_by === 'header' && c.header_name === undefined) fail(['header_name'], 'is required when limit_by is "header"');
    if (c.limit_by === 'path' && c.path === undefined) fail(['path'], 'is required when limit_by is "path"');
    checkRedisFields(c, fail);
    if (c.enforcer === 'native') {
      const why = nativeLocalBlockers(c);
      if (why.length) fail(['enforcer'], `native (Envoy's local_ratelimit) cannot give Kong's answer for this config: ${why.join('; ')}`);
    }
    if (c.sync_rate !== -1) {
      if (c.policy !== 'redis') fail(['sync_rate'], 'can only be used with the redis policy (leave it at -1)');
      else if (c.sync_rate < 0.02) fail(['sync_rate'], 'must be at least 0.02, or -1 for synchronous counting');
    }
  })
  .transform((c): RateLimitingConfig => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c)) if (!(k in LEGACY_REDIS_FIELDS) && k !== 'redis') out[k] = v;
    return { ...(out as Omit<RateLimitingConfig, 'redis'>), redis: resolveRedis(c) };
  });

/** Merges `redis` and the flat `redis_*` fields (checked to agree) and applies Kong's defaults. */
export function resolveRedis(c: RedisFieldsInput): RateLimitingRedis {
  const r = c.redis ?? {};
  const timeout = r.timeout ?? c.redis_timeout ?? 2000;
  const optional = {
    host: r.host ?? c.redis_host,
    username: r.username ?? c.redis_username,
    password: r.password ?? c.redis_password,
    server_name: r.server_name ?? c.redis_server_name,
  };
  return {
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    port: r.port ?? c.redis_port ?? 6379,
    timeout,
    connect_timeout: r.connect_timeout ?? timeout,
    send_timeout: r.send_timeout ?? timeout,
    read_timeout: r.read_timeout ?? timeout,
    database: r.database ?? c.redis_database ?? 0,
    ssl: r.ssl ?? c.redis_ssl ?? false,
    ssl_verify: r.ssl_verify ?? c.redis_ssl_verify ?? false,
  };
}

/** The IR feature: the validated config, and the limits it sets as windows, shortest period first. */
export interface RateLimitingFeature extends RateLimitingConfig {
  windows: Array<{ unit: RateLimitPeriod; limit: number }>;
}

function rateLimitingFeature(c: RateLimitingConfig): RateLimitingFeature {
  return { ...c, windows: RATE_LIMIT_PERIODS.flatMap((unit) => { const limit = c[unit]; return limit === undefined ? [] : [{ unit, limit }]; }) };
}

/** The `rate-limiting` plugin: global, per service, per route, or per consumer. */
export const rateLimiting = definePlugin({
  name: 'rate-limiting',
  config: rateLimitingConfigSchema,
  scopes: ['global', 'service', 'route', 'consumer'],
  fields: {
      applied: ['second', 'minute', 'hour', 'day', 'month', 'year', 'limit_by', 'header_name', 'path', 'policy', 'fault_tolerant', 'hide_client_headers',
        ...REDIS_FIELD_PATHS,
        'error_code', 'error_message', 'algorithm', 'enforcer'],
      warned: { sync_rate: { default: -1, why: 'every decision is counted in Redis at once (synchronously): no counts are batched locally' } },
    },
  enforcers: (c) => (c.enforcer !== 'companion' && nativeLocalBlockers(c).length === 0 ? ['envoy'] : ['ratelimit']),
  feature: rateLimitingFeature,
});
