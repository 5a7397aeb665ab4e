/**
 * The rate-limiting vocabulary that the plugin's schema (model), the Envoy filters (resources)
 * and the ratelimit service all use: Kong's periods, the `algorithm` extension, and what
 * Envoy's ratelimit filter and local_ratelimit can express. Plain data and pure functions, no imports.
 */

/** Kong's limit periods, shortest first (the order Kong checks limits against each other). */
export const RATE_LIMIT_PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
export type RateLimitPeriod = (typeof RATE_LIMIT_PERIODS)[number];

/** The `algorithm` extension: how the ratelimit service enforces each limit. */
export const RATE_LIMIT_ALGORITHMS = ['token-bucket', 'fixed-window', 'sliding-window', 'sliding-log', 'leaky-bucket'] as const;
export type RateLimitAlgorithm = (typeof RATE_LIMIT_ALGORITHMS)[number];

/** The Redis a limit uses, both spellings merged, with Kong's defaults (timeouts in ms). */
export interface RateLimitingRedis {
  host?: string;
  port: number;
  /** Kong's redis.timeout (ms); the three below default to it. */
  timeout: number;
  connect_timeout: number;
  send_timeout: number;
  read_timeout: number;
  username?: string;
  password?: string;
  database: number;
  ssl: boolean;
  ssl_verify: boolean;
  server_name?: string;
}

/** The 4xx/5xx statuses Envoy's ratelimit filter can refuse with (envoy.type.v3.StatusCode names). */
export const ENVOY_ERROR_STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'BadRequest', 401: 'Unauthorized', 402: 'PaymentRequired', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  406: 'NotAcceptable', 407: 'ProxyAuthenticationRequired', 408: 'RequestTimeout', 409: 'Conflict', 410: 'Gone', 411: 'LengthRequired',
  412: 'PreconditionFailed', 413: 'PayloadTooLarge', 414: 'URITooLong', 415: 'UnsupportedMediaType', 416: 'RangeNotSatisfiable',
  417: 'ExpectationFailed', 421: 'MisdirectedRequest', 422: 'UnprocessableEntity', 423: 'Locked', 424: 'FailedDependency',
  426: 'UpgradeRequired', 428: 'PreconditionRequired', 429: 'TooManyRequests', 431: 'RequestHeaderFieldsTooLarge',
  500: 'InternalServerError', 501: 'NotImplemented', 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout',
  505: 'HTTPVersionNotSupported', 506: 'VariantAlsoNegotiates', 507: 'InsufficientStorage', 508: 'LoopDetected', 510: 'NotExtended',
  511: 'NetworkAuthenticationRequired',
};

/** Envoy's ratelimit filter supports stages 0 to 10. */
export const MAX_STAGES = 11;

/**
 * Kong's period lengths in seconds (kong/plugins/rate-limiting/expiration.lua): a month is
 * 30 days and a year 365 days, fixed.
 */
export const KONG_PERIOD_SECONDS: Readonly<Record<RateLimitPeriod, number>> = {
  second: 1,
  minute: 60,
  hour: 3_600,
  day: 86_400,
  month: 2_592_000,
  year: 31_536_000,
};

/** The rate-limiting config fields that decide whether Envoy's local_ratelimit can serve it. */
export type NativeLocalInput = Partial<Record<RateLimitPeriod, number>> & {
  policy: 'local' | 'cluster' | 'redis';
  algorithm: RateLimitAlgorithm;
  hide_client_headers: boolean;
  limit_by: string;
  error_code: number;
};

/**
 * Why Envoy's local_ratelimit cannot serve this config exactly as Kong would (empty: it can),
 * from the plugin's config alone; resources/filters/local-ratelimit.ts explains each reason and adds the
 * ones that depend on the routes (consumer overrides, a scope over several listeners).
 */
export function nativeLocalBlockers(c: NativeLocalInput): string[] {
  const windows = RATE_LIMIT_PERIODS.filter((p) => c[p] !== undefined);
  const out: string[] = [];
  if (c.policy !== 'local') out.push(`policy ${c.policy} shares counters between nodes`);
  if (c.algorithm !== 'token-bucket') out.push(`algorithm ${c.algorithm}: local_ratelimit is a token bucket only`);
  if (windows.length > 1) out.push('several windows: a token taken from one bucket is not given back when another refuses');
  if (windows.some((p) => !Number.isInteger(c[p]) || c[p]! > 4_294_967_295)) out.push('a limit that is not a whole number of tokens (0 < n < 2^32)');
  if (!c.hide_client_headers) out.push("Kong's X-RateLimit-*/RateLimit-*/Retry-After headers carry live counts local_ratelimit does not send (hide_client_headers: true avoids them)");
  if (c.limit_by !== 'service') out.push(`limit_by ${c.limit_by} needs a bucket per client (dynamic descriptors, absent from the Envoy API protos Frontdesk loads)`);
  if (c.error_code !== 429) out.push(`error_code ${c.error_code}: one local_ratelimit filter refuses with one status, Kong's default 429`);
  return out;
}

