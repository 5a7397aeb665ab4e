import { z } from 'zod';
import { RATE_LIMIT_PERIODS, type RateLimitingRedis, type RateLimitPeriod } from '../../rate-limits.js';
import { definePlugin } from './definition.js';
import { checkPeriodLimits, checkRedisFields, PERIOD_LIMIT_FIELDS, REDIS_FIELD_PATHS, REDIS_FIELDS, resolveRedis } from './rate-limiting.js';

/** One named quota's limits per period (Kong: at least one, a longer period never lower than a shorter one). */
const periodLimits = z.strictObject(PERIOD_LIMIT_FIELDS)
  .superRefine((l, ctx) => checkPeriodLimits(l, (path, message) => ctx.addIssue({ code: 'custom', path, message }), 'set at least one of second, minute, hour, day, month or year'));

const configInput = z.strictObject({
  header_name: z.string().min(1).default('x-kong-limit'),
  limit_by: z.enum(['consumer', 'credential', 'ip']).default('consumer'),
  // Kong without a database (DB-less, as Frontdesk serves a file) offers local and redis only.
  policy: z.enum(['local', 'redis']).default('local'),
  fault_tolerant: z.boolean().default(true),
  ...REDIS_FIELDS,
  block_on_first_violation: z.boolean().default(false),
  hide_client_headers: z.boolean().default(false),
  limits: z.record(z.string().min(1, 'a limit name must not be empty'), periodLimits)
    .refine((m) => Object.keys(m).length > 0, 'set at least one named limit, e.g. limits: { videos: { minute: 10 } }'),
});

/** One named quota, its limits shortest period first. */
export interface ResponseLimit {
  name: string;
  windows: Array<{ unit: RateLimitPeriod; limit: number }>;
}

/** Kong 3.x response-ratelimiting config as Frontdesk uses it: defaults applied, `redis_*` folded into `redis`, limits in file order. */
export interface ResponseRateLimitingConfig {
  /** The upstream response header that spends the quotas (`name=units, ...`); lower case. */
  header_name: string;
  limit_by: 'consumer' | 'credential' | 'ip';
  policy: 'local' | 'redis';
  fault_tolerant: boolean;
  redis: RateLimitingRedis;
  block_on_first_violation: boolean;
  hide_client_headers: boolean;
  limits: ResponseLimit[];
}

/**
 * Kong 3.x `response-ratelimiting` plugin config (kong/plugins/response-ratelimiting/schema.lua
 * with kong/tools/redis/schema.lua), as Kong validates it without a database.
 */
export const responseRateLimitingConfigSchema = configInput
  .superRefine((c, ctx) => checkRedisFields(c, (path, message) => ctx.addIssue({ code: 'custom', path, message })))
  .transform((c): ResponseRateLimitingConfig => ({
    header_name: c.header_name.toLowerCase(),
    limit_by: c.limit_by,
    policy: c.policy,
    fault_tolerant: c.fault_tolerant,
    redis: resolveRedis(c),
    block_on_first_violation: c.block_on_first_violation,
    hide_client_headers: c.hide_client_headers,
    limits: Object.entries(c.limits).map(([name, l]) => ({
      name, windows: RATE_LIMIT_PERIODS.flatMap((unit) => (l[unit] === undefined ? [] : [{ unit, limit: l[unit] }])),
    })),
  }));

/**
 * The `response-ratelimiting` plugin: quotas the upstream spends by a response header, counted
 * by the transform companion, which sees both the request (to refuse a spent quota and tell the
 * upstream what is left) and the upstream's response headers (to count and answer). Envoy has
 * no filter that counts by a response header. Global, per service, per route, or per consumer.
 */
export const responseRateLimitingPlugin = definePlugin({
  name: 'response-ratelimiting',
  config: responseRateLimitingConfigSchema,
  scopes: ['global', 'service', 'route', 'consumer'],
  fields: {
    applied: ['header_name', 'limit_by', 'policy', 'fault_tolerant', 'block_on_first_violation', 'hide_client_headers', 'limits', ...REDIS_FIELD_PATHS],
  },
  enforcers: () => ['transform'],
  feature: (c: ResponseRateLimitingConfig) => c,
});
