import { z } from 'zod';
import { definePlugin } from './definition.js';
import { headerName, notServed } from './native-common.js';

/** The methods Kong's proxy-cache may cache (kong/plugins/proxy-cache/schema.lua). */
export const CACHE_METHODS = ['HEAD', 'GET', 'POST', 'PATCH', 'PUT'] as const;

/**
 * Kong 3.x `proxy-cache` plugin config (kong/plugins/proxy-cache/schema.lua), with Kong's
 * defaults. `strategy` is required and `memory` is the only one Kong's open-source plugin has;
 * `redis` (proxy-cache-advanced) is refused (docs/plugins.md says why). `memory.dictionary_name`
 * names an nginx shared dict, which Envoy has no use for: accepted, with a warning at load.
 */
export const proxyCacheConfigSchema = z.strictObject({
  response_code: z.array(z.number().int().min(100, 'value should be between 100 and 900').max(900, 'value should be between 100 and 900'))
    .min(1, 'length must be at least 1').default([200, 301, 404]),
  request_method: z.array(z.enum(CACHE_METHODS)).default(['GET', 'HEAD']),
  content_type: z.array(z.string()).default(['text/plain', 'application/json']),
  cache_ttl: z.number().int().gt(0, 'value must be greater than 0').default(300),
  strategy: z.string(),
  cache_control: z.boolean().default(false),
  ignore_uri_case: z.boolean().default(false),
  storage_ttl: z.number().int().min(0).optional(),
  memory: z.strictObject({ dictionary_name: z.string().default('kong_db_cache') }).default({ dictionary_name: 'kong_db_cache' }),
  vary_query_params: z.array(z.string().min(1)).optional(),
  vary_headers: z.array(headerName).optional(),
  response_headers: z.strictObject({
    Age: z.boolean().default(true),
    'X-Cache-Status': z.boolean().default(true),
    'X-Cache-Key': z.boolean().default(true),
  }).default({ Age: true, 'X-Cache-Status': true, 'X-Cache-Key': true }),
}).superRefine((c, ctx) => {
  if (c.strategy === 'redis') {
    ctx.addIssue({ code: 'custom', path: ['strategy'], message: notServed('strategy redis (Kong Enterprise\'s proxy-cache-advanced)', 'use strategy: memory (a cache in each Envoy, as Kong\'s is per node)') });
  } else if (c.strategy !== 'memory') {
    ctx.addIssue({ code: 'custom', path: ['strategy'], message: `expected one of: memory` });
  }
});

export type ProxyCacheConfig = z.output<typeof proxyCacheConfigSchema>;

/** What the IR carries: Kong's rules, names lower-cased and lists sorted as the cache key needs them. */
export interface ProxyCacheFeature {
  methods: string[];
  statuses: number[];
  contentTypes: string[];
  ttlSeconds: number;
  /** How long an entry is kept (Kong's storage_ttl; unset: its freshness lifetime). */
  storageTtlSeconds?: number;
  honourCacheControl: boolean;
  ignoreUriCase: boolean;
  /** Query parameters in the key; undefined: all of them (Kong's default). */
  varyQueryParams?: string[];
  /** Request headers in the key, lower-case; none by default. */
  varyHeaders: string[];
  headers: { age: boolean; status: boolean; key: boolean };
}

export const proxyCachePlugin = definePlugin({
  name: 'proxy-cache',
  config: proxyCacheConfigSchema,
  scopes: ['global', 'service', 'route', 'consumer'],
  fields: {
    applied: ['response_code', 'request_method', 'content_type', 'cache_ttl', 'strategy', 'cache_control', 'ignore_uri_case', 'storage_ttl',
      'vary_query_params', 'vary_headers', 'response_headers.Age', 'response_headers.X-Cache-Status', 'response_headers.X-Cache-Key',
      'memory.dictionary_name'], // meaningless here: its own warning, FD_PLUGIN_DIFFERS, from differences()
  },
  enforcers: () => ['envoy'],
  feature: (c): ProxyCacheFeature => ({
    methods: [...new Set(c.request_method)].sort(),
    statuses: [...new Set(c.response_code)].sort((a, b) => a - b),
    contentTypes: [...new Set(c.content_type)].sort(),
    ttlSeconds: c.cache_ttl,
    ...(c.storage_ttl !== undefined ? { storageTtlSeconds: c.storage_ttl } : {}),
    honourCacheControl: c.cache_control,
    ignoreUriCase: c.ignore_uri_case,
    ...(c.vary_query_params?.length ? { varyQueryParams: [...c.vary_query_params].sort() } : {}),
    varyHeaders: [...new Set((c.vary_headers ?? []).map((h) => h.toLowerCase()))].sort(),
    headers: { age: c.response_headers.Age, status: c.response_headers['X-Cache-Status'], key: c.response_headers['X-Cache-Key'] },
  }),
  differences: (c) => (c.memory.dictionary_name !== 'kong_db_cache'
    ? [{ path: ['memory', 'dictionary_name'], message: `memory.dictionary_name "${c.memory.dictionary_name}" names an nginx shared dict; Envoy keeps the cache in its own memory, so the name has no effect` }]
    : []),
});
