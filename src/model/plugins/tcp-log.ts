import { z } from 'zod';
import { definePlugin } from './definition.js';
import { customFieldsByLua, kongHost, kongPort, refuseLua, type StreamLogFeature } from './stream-log-common.js';

/**
 * Kong 3.x `tcp-log` plugin config (kong/plugins/tcp-log/schema.lua), with Kong's defaults:
 * `host` and `port` (required), `timeout` (10000 ms), `keepalive` (60000 ms), `tls` (false),
 * `tls_sni`. The log companion sends each entry as one JSON line (Kong's `cjson.encode(entry) ..
 * "\n"`) over a kept-alive connection, TLS when asked (as Kong's, the sink's certificate is not
 * verified). `custom_fields_by_lua` is refused by name.
 */
export const tcpLogConfigSchema = z.strictObject({
  host: kongHost,
  port: kongPort,
  timeout: z.number().min(0).default(10000),
  keepalive: z.number().min(0).default(60000),
  tls: z.boolean().default(false),
  tls_sni: z.string().min(1).optional(),
  custom_fields_by_lua: customFieldsByLua,
}).superRefine(refuseLua);

export type TcpLogConfig = z.output<typeof tcpLogConfigSchema>;

export const tcpLogPlugin = definePlugin({
  name: 'tcp-log',
  config: tcpLogConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['host', 'port', 'timeout', 'keepalive', 'tls', 'tls_sni'], refused: ['custom_fields_by_lua'] },
  enforcers: () => ['envoy'],
  feature: (c): StreamLogFeature => ({
    kind: 'tcp', host: c.host, port: c.port, timeoutMs: c.timeout, keepaliveMs: c.keepalive, tls: c.tls, ...(c.tls_sni ? { tlsSni: c.tls_sni } : {}),
  }),
});
