import { z } from 'zod';
import { regexProblem } from '../paths.js';
import { definePlugin } from './definition.js';
import { HEADER_VALUE, notServed } from './native-common.js';

/** The methods Kong's cors plugin accepts, in the order of its default Access-Control-Allow-Methods. */
export const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

/** Kong treats an origin made only of these characters as a literal, anything else as a regex. */
export const LITERAL_ORIGIN = /^[A-Za-z0-9.:/-]+$/;

/**
 * Kong's regex origin as Frontdesk matches it: Kong anchors it at both ends (dropping a
 * leading "^", adding "$"); Envoy matches whole values, so both anchors go.
 */
export function originRegexBody(origin: string): string {
  let re = origin.startsWith('^') ? origin.slice(1) : origin;
  if (re.endsWith('$') && !re.endsWith('\\$')) re = re.slice(0, -1);
  return re;
}

/**
 * Kong 3.x `cors` plugin config (kong/plugins/cors/schema.lua), with Kong's defaults. Origins
 * are "*", literals, or regexes (RE2 here, PCRE in Kong). preflight_continue is refused:
 * Envoy's CORS filter answers every preflight it recognises itself.
 */
export const corsConfigSchema = z.strictObject({
  origins: z.array(z.string().min(1)).optional(),
  headers: z.array(z.string().min(1).regex(HEADER_VALUE, 'must not hold control characters')).optional(),
  exposed_headers: z.array(z.string().min(1).regex(HEADER_VALUE, 'must not hold control characters')).optional(),
  methods: z.array(z.enum(CORS_METHODS)).default([...CORS_METHODS]),
  max_age: z.number().optional(),
  credentials: z.boolean().default(false),
  private_network: z.boolean().default(false),
  preflight_continue: z.boolean().default(false),
  allow_origin_absent: z.boolean().default(true),
}).superRefine((c, ctx) => {
  (c.origins ?? []).forEach((o, i) => {
    if (o === '*' || LITERAL_ORIGIN.test(o)) return;
    const problem = regexProblem(originRegexBody(o));
    if (problem) ctx.addIssue({ code: 'custom', path: ['origins', i], message: `'${o}' is not a valid regex (RE2): ${problem}` });
  });
  if (c.preflight_continue) {
    ctx.addIssue({ code: 'custom', path: ['preflight_continue'], message: notServed('passing preflight requests to the upstream', 'leave preflight_continue at false (Envoy answers preflights as Kong does by default)') });
  }
});

export type CorsConfig = z.output<typeof corsConfigSchema>;

/**
 * One of Kong's origins as the IR carries it: `*`, a literal (Kong compares it normalised), or
 * a regex, anchors removed (`body`); Kong matches a regex without ":" against the origin's host.
 */
export type CorsOrigin = { kind: 'any' } | { kind: 'literal'; value: string } | { kind: 'regex'; body: string; hostOnly: boolean };

/** What the IR carries: Kong's config with its origins classified. */
export interface CorsFeature extends Omit<CorsConfig, 'origins'> {
  origins: CorsOrigin[];
}

/** How Kong reads one entry of `origins`. */
export function corsOrigin(origin: string): CorsOrigin {
  if (origin === '*') return { kind: 'any' };
  if (LITERAL_ORIGIN.test(origin)) return { kind: 'literal', value: origin };
  return { kind: 'regex', body: originRegexBody(origin), hostOnly: !origin.includes(':') };
}

export const corsPlugin = definePlugin({
  name: 'cors',
  config: corsConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['origins', 'headers', 'exposed_headers', 'methods', 'max_age', 'credentials', 'private_network', 'allow_origin_absent', 'preflight_continue'] },
  enforcers: () => ['envoy'],
  feature: (c): CorsFeature => ({ ...c, origins: (c.origins ?? []).map(corsOrigin) }),
});
