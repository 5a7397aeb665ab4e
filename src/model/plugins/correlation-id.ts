import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';
import { headerName, notServed } from './native-common.js';

/**
 * Kong 3.x `correlation-id` plugin config (kong/plugins/correlation-id/schema.lua), with Kong's
 * defaults. `uuid` gives a random UUID per request, `uuid#counter` Kong's "<worker uuid>#<n>"
 * (a Lua script with one state per Envoy worker); `tracker` (server address, port, pid,
 * connection serial, request count, time) is refused: Envoy has no such values.
 */
export const correlationIdConfigSchema = z.strictObject({
  header_name: headerName.default('Kong-Request-ID'),
  generator: z.enum(['uuid', 'uuid#counter', 'tracker']).default('uuid#counter'),
  echo_downstream: z.boolean().default(false),
}).superRefine((c, ctx) => {
  if (c.generator === 'tracker') {
    ctx.addIssue({ code: 'custom', path: ['generator'], message: notServed('the "tracker" generator (nginx connection serials and worker pids)', 'use "uuid" or "uuid#counter"') });
  }
});

export type CorrelationIdConfig = z.output<typeof correlationIdConfigSchema>;

export const correlationIdPlugin = definePlugin({
  name: 'correlation-id',
  config: correlationIdConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
      applied: ['header_name', 'echo_downstream', 'generator'],
    },
  enforcers: () => ['envoy'],
  feature: asIs,
});
