import { z } from 'zod';
import { definePlugin } from './definition.js';
import { redisInput } from './rate-limiting.js';

/** Let's Encrypt's directories: Kong refuses them without `tos_accepted` (its schema's entity check). */
const LETS_ENCRYPT = new Set(['acme-v02.api.letsencrypt.org', 'acme-staging-v02.api.letsencrypt.org']);

const url = z.string().refine((u) => { try { return ['http:', 'https:'].includes(new URL(u).protocol); } catch { return false; } }, { message: 'must be an http or https URL' });

/** Kong's `typedefs.host`: a name or an address, with at most one leading or trailing `*` label (kept lower case, as Kong's matcher sees hosts). */
const host = z.string().min(1).regex(/^(?:\*\.)?[A-Za-z0-9_.:[\]-]+(?:\.\*)?$/, 'must be a host name, an IP address, or a wildcard like *.example.com').transform((h) => h.toLowerCase());

/** Kong 3.x's storage_config.redis (kong/tools/redis/schema.lua) with acme's extra_options, and the older spellings Kong still takes. */
const redisStorage = redisInput.extend({
  extra_options: z.strictObject({
    namespace: z.string().default(''),
    scan_count: z.number().default(10),
  }).optional(),
  // Kong's shorthands (deprecated since 3.6, still read): auth → password, ssl_server_name → server_name, namespace, scan_count.
  auth: z.string().optional(),
  ssl_server_name: z.string().min(1).optional(),
  namespace: z.string().optional(),
  scan_count: z.number().optional(),
});

/** The storages of Kong's schema that Frontdesk does not run (their records load, as a decK dump writes them, and do nothing). */
const unservedStorage = z.record(z.string(), z.unknown());

/**
 * Kong 3.x `acme` plugin config (kong/plugins/acme/schema.lua), with Kong's defaults: api_uri
 * Let's Encrypt's production directory, cert_type rsa, rsa_key_size 4096, renew_threshold_days
 * 14, fail_backoff_minutes 5, storage shm. Kong's entity checks: Let's Encrypt's terms must be
 * accepted, redis storage needs a host, "kong" storage cannot be used without a database.
 */
export const acmeConfigSchema = z.strictObject({
  account_email: z.string().regex(/@/, 'must be an email address'),
  account_key: z.strictObject({ key_id: z.string(), key_set: z.string().optional() }).optional(),
  api_uri: url.default('https://acme-v02.api.letsencrypt.org/directory'),
  tos_accepted: z.boolean().default(false),
  eab_kid: z.string().min(1).optional(),
  eab_hmac_key: z.string().min(1).optional(),
  cert_type: z.enum(['rsa', 'ecc']).default('rsa'),
  rsa_key_size: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).default(4096),
  renew_threshold_days: z.number().min(0).default(14),
  domains: z.array(host).default([]),
  allow_any_domain: z.boolean().default(false),
  fail_backoff_minutes: z.number().min(0).default(5),
  storage: z.enum(['kong', 'shm', 'redis', 'consul', 'vault']).default('shm'),
  storage_config: z.strictObject({
    shm: z.strictObject({ shm_name: z.string().default('kong') }).optional(),
    kong: z.strictObject({}).optional(),
    redis: redisStorage.optional(),
    consul: unservedStorage.optional(),
    vault: unservedStorage.optional(),
  }).default({}),
  preferred_chain: z.string().min(1).optional(),
  enable_ipv4_common_name: z.boolean().default(true),
}).superRefine((c, ctx) => {
  const fail = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  let apiHost = '';
  try { apiHost = new URL(c.api_uri).hostname; } catch { /* reported by the url check */ }
  if (LETS_ENCRYPT.has(apiHost) && !c.tos_accepted) fail(['tos_accepted'], 'terms of service must be accepted, see https://letsencrypt.org/repository/');
  if ((c.eab_kid === undefined) !== (c.eab_hmac_key === undefined)) fail([c.eab_kid === undefined ? 'eab_kid' : 'eab_hmac_key'], 'eab_kid and eab_hmac_key go together: set both or neither');
  if (c.storage === 'kong') fail(['storage'], '"kong" storage can\'t be used with dbless mode (Frontdesk has no database): use "shm" or "redis"');
  if (c.storage === 'consul' || c.storage === 'vault') fail(['storage'], `"${c.storage}" storage is not served by Frontdesk: use "redis" (shared by every control plane replica) or "shm" (this control plane's memory)`);
  if (c.storage === 'redis' && c.storage_config.redis?.host === undefined) fail(['storage_config', 'redis', 'host'], 'is required when storage is "redis"');
  if (c.account_key) fail(['account_key'], 'Kong\'s keys and key sets are not served: leave it out, and the account key is made and kept in the storage');
});

export type AcmeConfig = z.output<typeof acmeConfigSchema>;

/** Where issued certificates and the account key are kept. */
export type AcmeStorage =
  | { kind: 'shm' }
  | { kind: 'redis'; namespace: string; redis: { host: string; port: number; database: number; username?: string; password?: string; ssl: boolean; sslVerify: boolean; serverName?: string; timeoutMs: number } };

/** The acme plugin as the control plane's ACME manager and the challenge routes read it. */
export interface AcmeFeature {
  accountEmail: string;
  directoryUrl: string;
  eab?: { kid: string; hmacKey: string };
  certType: 'rsa' | 'ecc';
  rsaKeySize: 2048 | 3072 | 4096;
  renewThresholdDays: number;
  failBackoffMinutes: number;
  /** Kong's domain matcher: any host, the exact names, and the `*`-prefixed patterns as the suffixes they stand for (`*.example.com` → `.example.com`). */
  domains: { any: boolean; exact: string[]; suffixes: string[] };
  storage: AcmeStorage;
  preferredChain?: string;
}

/** The feature of a validated config. */
export function acmeFeature(c: AcmeConfig): AcmeFeature {
  const exact = [...new Set(c.domains.filter((d) => !d.startsWith('*')))].sort();
  const suffixes = [...new Set(c.domains.filter((d) => d.startsWith('*')).map((d) => d.slice(1)))].sort();
  const r = c.storage_config.redis;
  const storage: AcmeStorage = c.storage === 'redis' && r?.host !== undefined
    ? {
      kind: 'redis',
      namespace: r.extra_options?.namespace ?? r.namespace ?? '',
      redis: {
        host: r.host, port: r.port ?? 6379, database: r.database ?? 0,
        ...(r.username !== undefined ? { username: r.username } : {}),
        ...((r.password ?? r.auth) !== undefined ? { password: r.password ?? r.auth } : {}),
        ssl: r.ssl ?? false, sslVerify: r.ssl_verify ?? false,
        ...((r.server_name ?? r.ssl_server_name) !== undefined ? { serverName: r.server_name ?? r.ssl_server_name } : {}),
        timeoutMs: r.read_timeout ?? r.timeout ?? 2000,
      },
    }
    : { kind: 'shm' };
  return {
    accountEmail: c.account_email,
    directoryUrl: c.api_uri,
    ...(c.eab_kid !== undefined && c.eab_hmac_key !== undefined ? { eab: { kid: c.eab_kid, hmacKey: c.eab_hmac_key } } : {}),
    certType: c.cert_type,
    rsaKeySize: c.rsa_key_size,
    renewThresholdDays: c.renew_threshold_days,
    failBackoffMinutes: c.fail_backoff_minutes,
    domains: { any: c.allow_any_domain, exact: c.allow_any_domain ? [] : exact, suffixes: c.allow_any_domain ? [] : suffixes },
    storage,
    ...(c.preferred_chain !== undefined ? { preferredChain: c.preferred_chain } : {}),
  };
}

/**
 * Whether Kong's acme plugin takes `host` (handler.lua's check_domains): any host with
 * allow_any_domain, else a name in `domains`, or one ending in what a `*` entry stands for
 * (Kong's pattern is that suffix anchored at the end only: `*.example.com` takes
 * `a.b.example.com`, not `example.com`).
 */
export function acmeTakes(d: AcmeFeature['domains'], host: string): boolean {
  const h = host.toLowerCase();
  return d.any || d.exact.includes(h) || d.suffixes.some((s) => h.endsWith(s));
}

/** Served by Envoy (the challenge answers and the certificates) from what the control plane's ACME client obtains. */
export const acmePlugin = definePlugin({
  name: 'acme',
  config: acmeConfigSchema,
  scopes: ['global'],
  fields: {
    applied: [
      'account_email', 'api_uri', 'tos_accepted', 'eab_kid', 'eab_hmac_key', 'cert_type', 'rsa_key_size', 'renew_threshold_days', 'domains', 'allow_any_domain',
      'fail_backoff_minutes', 'storage', 'storage_config.shm.shm_name', 'storage_config.kong', 'preferred_chain',
      ...['host', 'port', 'timeout', 'connect_timeout', 'send_timeout', 'read_timeout', 'username', 'password', 'database', 'ssl', 'ssl_verify', 'server_name',
        'extra_options.namespace', 'auth', 'ssl_server_name', 'namespace'].map((f) => `storage_config.redis.${f}`),
    ],
    refused: ['account_key.key_id', 'account_key.key_set'],
    warned: {
      enable_ipv4_common_name: { default: true, why: 'Frontdesk orders certificates for names only (an IP address in domains is not ordered)' },
      'storage_config.redis.extra_options.scan_count': { default: 10, why: 'Frontdesk lists no keys with SCAN' },
      'storage_config.redis.scan_count': { when: (v) => v !== undefined && v !== 10, why: 'Frontdesk lists no keys with SCAN' },
      // A decK dump writes every storage's record; only the one `storage` names is read.
      'storage_config.consul': { when: () => false, why: 'consul storage is not served' },
      'storage_config.vault': { when: () => false, why: 'vault storage is not served' },
    },
  },
  enforcers: () => ['envoy'],
  feature: acmeFeature,
});
