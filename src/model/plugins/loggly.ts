import { z } from 'zod';
import { definePlugin } from './definition.js';
import { customFieldsByLua, kongHost, kongPort, refuseLua, SYSLOG_SEVERITIES, type StreamLogFeature } from './stream-log-common.js';

/**
 * Kong 3.x `loggly` plugin config (kong/plugins/loggly/schema.lua), with Kong's defaults:
 * `host` logs-01.loggly.com, `port` 514, `key` (the Loggly customer token, required), `tags`
 * (["kong"]), `log_level` and the three status-class severities (each "info"), `timeout`
 * (10000 ms). As Kong's handler, the log companion sends each entry as one syslog datagram
 * over UDP, the token and tags as its structured data, the entry as JSON, and only when the
 * status class's severity is at least as severe as `log_level`. `custom_fields_by_lua` is
 * refused by name.
 */
const severity = z.enum(SYSLOG_SEVERITIES).default('info');

export const logglyConfigSchema = z.strictObject({
  host: kongHost.default('logs-01.loggly.com'),
  port: kongPort.default(514),
  key: z.string().min(1, 'the Loggly customer token must not be empty'),
  tags: z.array(z.string()).default(['kong']),
  log_level: severity,
  successful_severity: severity,
  client_errors_severity: severity,
  server_errors_severity: severity,
  timeout: z.number().min(0).default(10000),
  custom_fields_by_lua: customFieldsByLua,
}).superRefine(refuseLua);

export type LogglyConfig = z.output<typeof logglyConfigSchema>;

export const logglyPlugin = definePlugin({
  name: 'loggly',
  config: logglyConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: ['host', 'port', 'key', 'tags', 'log_level', 'successful_severity', 'client_errors_severity', 'server_errors_severity', 'timeout'],
    refused: ['custom_fields_by_lua'],
  },
  enforcers: () => ['envoy'],
  feature: (c): StreamLogFeature => ({
    kind: 'loggly', host: c.host, port: c.port, timeoutMs: c.timeout, key: c.key,
    // Kong's tags are a set: each once, in the order written.
    tags: [...new Set(c.tags)],
    logLevel: c.log_level, successful: c.successful_severity, clientErrors: c.client_errors_severity, serverErrors: c.server_errors_severity,
  }),
});
