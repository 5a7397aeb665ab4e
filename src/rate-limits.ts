/**
 * The rate-limiting vocabulary that the plugin's schema (model), the Envoy filters (resources)
 * and the ratelimit service all use: Kong's periods, the `algorithm` extension, and what
 * Envoy's ratelimit filter can express. Plain data, no imports.
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
