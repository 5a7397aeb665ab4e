import { z } from 'zod';
import { definePlugin } from './definition.js';
import { notServed } from './native-common.js';

/**
 * Kong 3.x `file-log` plugin config (kong/plugins/file-log/schema.lua), with Kong's defaults:
 * `path` (required; Kong refuses `*`, `&`, `%` and backquotes as "not a valid filename"),
 * `reopen` (false). Envoy's file access logger writes the entries; it keeps the file open and
 * reopens it when its admin port is asked to (POST /reopen_logs, what a logrotate postrotate
 * step calls), so `reopen: true` (close and reopen on every request) is refused, as is
 * `custom_fields_by_lua` (Lua code).
 */
export const fileLogConfigSchema = z.strictObject({
  path: z.string().regex(/^[^*&%`]+$/, 'not a valid filename'),
  reopen: z.boolean().default(false),
  custom_fields_by_lua: z.record(z.string(), z.string()).optional(),
}).superRefine((c, ctx) => {
  if (c.reopen) {
    ctx.addIssue({ code: 'custom', path: ['reopen'], message: notServed('reopening the file on every request', "leave reopen at false; Envoy reopens its log files on POST /reopen_logs to its admin port (call it from logrotate's postrotate)") });
  }
  if (c.custom_fields_by_lua && Object.keys(c.custom_fields_by_lua).length) {
    ctx.addIssue({ code: 'custom', path: ['custom_fields_by_lua'], message: notServed('custom_fields_by_lua (Lua code run per request)', 'remove custom_fields_by_lua') });
  }
});

export type FileLogConfig = z.output<typeof fileLogConfigSchema>;

/** What the IR carries: the file the entries go to. */
export interface FileLogFeature {
  path: string;
}

export const fileLogPlugin = definePlugin({
  name: 'file-log',
  config: fileLogConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['path'], refused: ['reopen', 'custom_fields_by_lua'] },
  enforcers: () => ['envoy'],
  feature: (c): FileLogFeature => ({ path: c.path }),
});
