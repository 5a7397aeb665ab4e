import { createRequire } from 'node:module';
import type pinoModule from 'pino';

// By require, not import: the companions' memory (see redis-client.ts).
const pino = createRequire(import.meta.url)('pino') as typeof pinoModule;

/** The small logging interface every module takes; pino's logger satisfies it. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Fields that may hold a secret wherever they appear in a log object: they are replaced by
 * "[redacted]" before a line is written.
 */
export const REDACT_PATHS = [
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'headers["proxy-authorization"]', '*.headers["proxy-authorization"]', 'headers.cookie', '*.headers.cookie',
  'password', '*.password', 'secret', '*.secret', 'key', '*.key', 'token', '*.token', 'apikey', '*.apikey',
  'redis.password', '*.redis.password', 'config.password', 'config.redis.password', 'credentials', '*.credentials',
];

/** The process logger: JSON lines on stderr (or the given stream), secrets redacted. */
export function createLogger(level = process.env.FRONTDESK_LOG_LEVEL ?? 'info', stream?: pinoModule.DestinationStream): Logger {
  return pino({ level, base: { name: 'frontdesk' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream ?? stderrSink());
}

/** pino's synchronous stderr destination: one write per line, nothing lost at exit. */
export function stderrSink(): pinoModule.DestinationStream {
  return pino.destination({ dest: 2, sync: true });
}

/** A logger that drops everything, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
