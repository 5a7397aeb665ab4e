import { z } from 'zod';
import { definePlugin } from './definition.js';
import { HEADER_VALUE, notServed } from './native-common.js';

/** Kong's default messages by status (kong/plugins/request-termination/handler.lua DEFAULT_RESPONSE). */
export const TERMINATION_DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
};

const present = (v: string | undefined) => v !== undefined && v.length > 0;

/** Envoy's limit on a route's direct_response body (RouteConfiguration.max_direct_response_body_size_bytes, default). */
export const MAX_TERMINATION_BODY_BYTES = 4096;

/**
 * Kong 3.x `request-termination` plugin config (kong/plugins/request-termination/schema.lua),
 * with Kong's defaults and its custom validator. `echo` and `trigger` are Kong's debugging
 * aids and are refused; Envoy answers with a status from 200 to 599 only.
 */
export const requestTerminationConfigSchema = z.strictObject({
  status_code: z.number().int().min(100, 'must be an HTTP status (100-599)').max(599, 'must be an HTTP status (100-599)').default(503),
  message: z.string().optional(),
  content_type: z.string().regex(HEADER_VALUE, 'must not hold control characters').optional(),
  body: z.string().optional(),
  echo: z.boolean().default(false),
  trigger: z.string().optional(),
}).superRefine((c, ctx) => {
  const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (present(c.message) && (present(c.content_type) || present(c.body))) fail('message', 'message cannot be used with content_type or body');
  if (present(c.content_type) && !present(c.body)) fail('content_type', 'content_type requires a body');
  if (c.echo && (present(c.content_type) || present(c.body))) fail('echo', 'echo cannot be used with content_type and body');
  if (c.echo) fail('echo', notServed('echoing the request back', 'leave echo at false'));
  if (c.trigger !== undefined) fail('trigger', notServed('terminating only requests that carry a trigger header or query argument', 'remove trigger (every request on the route is terminated)'));
  if (c.status_code < 200) fail('status_code', 'Envoy answers with a status from 200 to 599');
  const size = Buffer.byteLength(terminationResponse(c).body);
  if (size > MAX_TERMINATION_BODY_BYTES) {
    fail(c.body !== undefined ? 'body' : 'message', `the answer is ${size} bytes; Envoy answers directly with at most ${MAX_TERMINATION_BODY_BYTES}`);
  }
});

export type RequestTerminationConfig = z.output<typeof requestTerminationConfigSchema>;

/** What the IR carries: the answer Kong sends, its status, its body ("" for none) and its content type. */
export interface RequestTerminationFeature {
  status: number;
  body: string;
  contentType?: string;
}

/** What Kong sends: the status, the body ("" for none) and its content type. */
export function terminationResponse(c: RequestTerminationConfig): RequestTerminationFeature {
  if (c.body !== undefined) return { status: c.status_code, body: c.body, ...(present(c.content_type) ? { contentType: c.content_type } : {}) };
  const message = c.message ?? TERMINATION_DEFAULT_MESSAGES[c.status_code];
  return message === undefined
    ? { status: c.status_code, body: '' }
    : { status: c.status_code, body: JSON.stringify({ message }), contentType: 'application/json; charset=utf-8' };
}

export const requestTerminationPlugin = definePlugin({
  name: 'request-termination',
  config: requestTerminationConfigSchema,
  scopes: ['global', 'service', 'route', 'consumer'],
  fields: { applied: ['status_code', 'message', 'content_type', 'body', 'echo', 'trigger'] },
  enforcers: () => ['envoy'],
  feature: terminationResponse,
});
