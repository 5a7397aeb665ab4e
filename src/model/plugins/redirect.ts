import { z } from 'zod';
import { definePlugin } from './definition.js';
import { HEADER_VALUE } from './native-common.js';

/**
 * Kong's typedefs.url, as the redirect plugin's `location` uses it: a URL with a scheme and a
 * host (any scheme: `myapp://host/x` too), and a value a response header can carry.
 */
const location = z.string().superRefine((v, ctx) => {
  if (!HEADER_VALUE.test(v)) { ctx.addIssue({ code: 'custom', message: 'must not hold control characters (it is sent as the Location header)' }); return; }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a URL: write it with its scheme and host, as https://example.com/path` });
    return;
  }
  if (url.host === '') ctx.addIssue({ code: 'custom', message: `'${v}' has no host: write it with its scheme and host, as https://example.com/path` });
});

/**
 * Kong 3.9's `redirect` plugin config (kong/plugins/redirect/schema.lua): the status (Kong's
 * 100-599, default 301), the URL and whether the request's path and query replace the URL's.
 */
export const redirectConfigSchema = z.strictObject({
  status_code: z.number().int().min(100, 'must be an HTTP status (100-599)').max(599, 'must be an HTTP status (100-599)').default(301)
    .refine((s) => s >= 200, 'Envoy answers with a status from 200 to 599'),
  location,
  keep_incoming_path: z.boolean().default(false),
});

export type RedirectConfig = z.output<typeof redirectConfigSchema>;

/**
 * What the IR carries: the status and the Location Kong sends. With keep_incoming_path Kong
 * sets the URL's path to the request's and its query to the request's (none when the request
 * has none), keeping its scheme, credentials, host, port and fragment (kong/plugins/redirect/
 * handler.lua through ada, the WHATWG URL parser, which Node's URL is too): `before` is the URL
 * up to its path, `after` its fragment ("" for none), and the request's path and query go
 * between them.
 */
export type RedirectFeature =
  | { status: number; location: string }
  | { status: number; around: { before: string; after: string } };

/** The parts of a URL around its path and query, as the WHATWG URL parser writes them. */
export function aroundPath(location: string): { before: string; after: string } {
  const url = new URL(location);
  const after = url.hash;
  url.hash = '';
  url.search = '';
  url.pathname = '/';
  const href = url.href;
  return { before: href.endsWith('/') ? href.slice(0, -1) : href, after };
}

export const redirectPlugin = definePlugin({
  name: 'redirect',
  config: redirectConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['status_code', 'location', 'keep_incoming_path'] },
  enforcers: () => ['envoy'],
  feature: (c): RedirectFeature => (c.keep_incoming_path ? { status: c.status_code, around: aroundPath(c.location) } : { status: c.status_code, location: c.location }),
});
