import { z } from 'zod';
import { definePlugin } from './definition.js';
import { notServed } from './native-common.js';

const SESSION_HEADERS = ['id', 'audience', 'subject', 'timeout', 'idling-timeout', 'rolling-timeout', 'absolute-timeout'] as const;
const seconds = (d: number) => z.number().min(0).default(d);
/** Kong's `set`: each value once, in the order written. */
const set = <T extends string>(values: readonly [T, ...T[]], d: T[] = []) => z.array(z.enum(values)).default(d).transform((v) => [...new Set(v)]);

/**
 * Kong 3.x `session` plugin config (kong/plugins/session/schema.lua), with Kong's defaults, on
 * cookie storage. Served by the authz companion, which seals each session into its cookie.
 * Where Kong differs by design: `secret` is required (Kong generates a random one when none is
 * given, which in DB-less mode changes at every reload and differs between nodes, logging every
 * user out); `storage: kong` (sessions in Kong's database) is refused by name. `stale_ttl`, `hash_subject` and `store_metadata` concern
 * server-side storage only and have no effect on cookie storage, as in Kong.
 */
export const sessionConfigSchema = z.strictObject({
  secret: z.string().min(32, 'must be at least 32 characters: it is the key sessions are sealed with').optional(),
  storage: z.enum(['cookie', 'kong']).default('cookie'),
  audience: z.string().min(1).default('default'),
  idling_timeout: seconds(900),
  rolling_timeout: seconds(3600),
  absolute_timeout: seconds(86400),
  stale_ttl: seconds(10),
  cookie_name: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a cookie name (a token: letters, digits and !#$%&\'*+-.^_`|~)').default('session'),
  cookie_path: z.string().regex(/^\/[^;\s]*$/, 'must be a path starting with / (no ; or spaces)').default('/'),
  cookie_domain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name').optional(),
  cookie_same_site: z.enum(['Strict', 'Lax', 'None', 'Default']).default('Strict'),
  cookie_http_only: z.boolean().default(true),
  cookie_secure: z.boolean().default(true),
  remember: z.boolean().default(false),
  remember_cookie_name: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a cookie name (a token: letters, digits and !#$%&\'*+-.^_`|~)').default('remember'),
  remember_rolling_timeout: seconds(604800),
  remember_absolute_timeout: seconds(2592000),
  response_headers: set(SESSION_HEADERS),
  request_headers: set(SESSION_HEADERS),
  logout_methods: set(['GET', 'POST', 'DELETE'], ['POST', 'DELETE']),
  logout_query_arg: z.string().default('session_logout'),
  logout_post_arg: z.string().default('session_logout'),
  read_body_for_logout: z.boolean().default(false),
  hash_subject: z.boolean().default(false),
  store_metadata: z.boolean().default(false),
  bind: set(['ip', 'scheme', 'user-agent']),
}).superRefine((c, ctx) => {
  const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (c.secret === undefined) fail('secret', 'required here: write a random string of 32 characters or more, the same on every gateway (Kong generates one per node and per reload, which logs users out)');
  if (c.storage === 'kong') fail('storage', notServed('sessions kept in Kong\'s database', 'use storage: cookie (the session sealed in its cookie)'));
  if (c.remember_cookie_name === c.cookie_name) fail('remember_cookie_name', 'must differ from cookie_name: the persistent cookie is a second one');
});

export type SessionConfig = z.output<typeof sessionConfigSchema>;

/** What the IR carries: the config without the fields cookie storage does not read. */
export type SessionFeature = Omit<SessionConfig, 'storage' | 'stale_ttl' | 'hash_subject' | 'store_metadata'>;

export const sessionPlugin = definePlugin({
  name: 'session',
  config: sessionConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: [
      'secret', 'audience', 'idling_timeout', 'rolling_timeout', 'absolute_timeout', 'cookie_name', 'cookie_path', 'cookie_domain', 'cookie_same_site',
      'cookie_http_only', 'cookie_secure', 'response_headers', 'request_headers', 'logout_methods', 'logout_query_arg', 'logout_post_arg', 'read_body_for_logout', 'bind',
      // Server-side storage only: no effect on cookie storage, as in Kong.
      'stale_ttl', 'hash_subject', 'store_metadata',
      'remember', 'remember_cookie_name', 'remember_rolling_timeout', 'remember_absolute_timeout',
    ],
    refused: ['storage'],
  },
  enforcers: () => ['authz'],
  feature: (c): SessionFeature => {
    const { storage: _s, stale_ttl: _t, hash_subject: _h, store_metadata: _m, ...rest } = c;
    return rest;
  },
});
