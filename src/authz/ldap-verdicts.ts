/**
 * ldap-auth's verdicts and the binds behind them: the plugin (plugins/ldap-auth.ts) asks whether
 * a username and password are accepted, and this answers from its cache or by binding.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { userDn, type LdapEndpoint } from './ldap-client.js';
import { LruCache } from './lru.js';
import type { LdapAuthConfig, LdapBind } from './types.js';

/** nginx's lua_socket timeouts when a plugin's timeout is 0 (tcpsock:settimeout(0) keeps the default). */
const NGINX_SOCKET_TIMEOUT_MS = 60_000;

/** The server a plugin config names, and how to reach it. */
function endpointOf(conf: LdapAuthConfig): LdapEndpoint {
  return {
    host: conf.ldap_host ?? '', port: Number(conf.ldap_port), ldaps: conf.ldaps === true, startTls: conf.start_tls === true, verify: conf.verify_ldap_host === true,
    timeoutMs: Number(conf.timeout) > 0 ? Number(conf.timeout) : NGINX_SOCKET_TIMEOUT_MS, keepaliveMs: Math.max(0, Number(conf.keepalive)),
  };
}

/**
 * Bind verdicts, kept as Kong's ldap-auth keeps them in its cache: by server, base_dn,
 * attribute, cache_ttl, username and password, an accepted and a refused password alike, for
 * cache_ttl seconds (0: until the configuration changes). Keys are HMACs under a key of this
 * process, so no password is held in clear; one bind at a time per key (concurrent requests with
 * the same credential wait for the first one's answer, as Kong's cache lock has them wait).
 * A bind that could not be decided is not kept.
 */
export class LdapVerdicts {
  private readonly key = randomBytes(32);
  private readonly verdicts: LruCache<boolean>;
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly bind: LdapBind, maxEntries: number, private readonly now: () => number) {
    this.verdicts = new LruCache(maxEntries);
  }

  /** Forgets every verdict (a new configuration). */
  clear(): void {
    this.verdicts.clear();
  }

  async check(conf: LdapAuthConfig, username: string, password: string): Promise<boolean> {
    const ep = endpointOf(conf);
    const key = createHmac('sha256', this.key)
      .update(JSON.stringify([ep.host.toLowerCase(), ep.port, ep.ldaps, ep.startTls, ep.verify, conf.base_dn, conf.attribute, Number(conf.cache_ttl), username]))
      .update('\0').update(password).digest('base64');
    const known = this.verdicts.get(key, this.now());
    if (known !== undefined) return known;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.bind(ep, userDn(conf.attribute ?? '', username, conf.base_dn ?? ''), password).then((ok) => {
        const ttl = Number(conf.cache_ttl);
        this.verdicts.set(key, ok, ttl > 0 ? this.now() + ttl * 1000 : Number.POSITIVE_INFINITY);
        return ok;
      }).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}

