import { z } from 'zod';
import { definePlugin } from './definition.js';
import { customFieldsByLua, kongHost, kongPort, refuseLua, type StreamLogFeature } from './stream-log-common.js';

/**
 * Kong 3.x `udp-log` plugin config (kong/plugins/udp-log/schema.lua), with Kong's defaults:
 * `host` and `port` (required), `timeout` (10000 ms). The log companion sends each entry as one
 * JSON datagram, as Kong's. `custom_fields_by_lua` is refused by name.
 */
export const udpLogConfigSchema = z.strictObject({
  host: kongHost,
  port: kongPort,
  timeout: z.number().min(0).default(10000),
  custom_fields_by_lua: customFieldsByLua,
}).superRefine(refuseLua);

export type UdpLogConfig = z.output<typeof udpLogConfigSchema>;

export const udpLogPlugin = definePlugin({
  name: 'udp-log',
  config: udpLogConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['host', 'port', 'timeout'], refused: ['custom_fields_by_lua'] },
  enforcers: () => ['envoy'],
  feature: (c): StreamLogFeature => ({ kind: 'udp', host: c.host, port: c.port, timeoutMs: c.timeout }),
});
