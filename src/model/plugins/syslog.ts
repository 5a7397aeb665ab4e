import { z } from 'zod';
import { definePlugin } from './definition.js';
import { customFieldsByLua, refuseLua, SYSLOG_FACILITIES, SYSLOG_SEVERITIES, type StreamLogFeature } from './stream-log-common.js';

/**
 * Kong 3.x `syslog` plugin config (kong/plugins/syslog/schema.lua), with Kong's defaults:
 * `log_level`, `successful_severity`, `client_errors_severity`, `server_errors_severity` (each
 * "info"), `syslog_facility` ("USER"). As Kong's, an entry is sent with the severity of its
 * status class (2xx/3xx successful, 4xx client errors, 5xx server errors), and only when that
 * severity is at least as severe as `log_level`. Kong writes to the host's syslog; the log
 * companion sends RFC 5424 messages (APP-NAME "kong", the entry as JSON) to its syslog address
 * (`--syslog HOST:PORT`, UDP, default 127.0.0.1:514). `custom_fields_by_lua` is refused by name.
 */
const severity = z.enum(SYSLOG_SEVERITIES).default('info');
const facilities = Object.keys(SYSLOG_FACILITIES) as [string, ...string[]];

export const syslogConfigSchema = z.strictObject({
  log_level: severity,
  successful_severity: severity,
  client_errors_severity: severity,
  server_errors_severity: severity,
  syslog_facility: z.enum(facilities).default('USER'),
  custom_fields_by_lua: customFieldsByLua,
}).superRefine(refuseLua);

export type SyslogConfig = z.output<typeof syslogConfigSchema>;

export const syslogPlugin = definePlugin({
  name: 'syslog',
  config: syslogConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['log_level', 'successful_severity', 'client_errors_severity', 'server_errors_severity', 'syslog_facility'], refused: ['custom_fields_by_lua'] },
  enforcers: () => ['envoy'],
  feature: (c): StreamLogFeature => ({
    kind: 'syslog', facility: c.syslog_facility, logLevel: c.log_level, successful: c.successful_severity, clientErrors: c.client_errors_severity, serverErrors: c.server_errors_severity,
  }),
});
