import type { AuthOutcome, CachedToken, PluginContext } from './context.js';
import { CredentialIndex } from './credentials.js';
import { JwksCache } from './jwks.js';
import { LruCache } from './lru.js';
import { IDENTITY_HEADERS } from '../contracts/authz.js';
import { checkAcl } from './plugins/acl.js';
import { authenticateBasicAuth } from './plugins/basic-auth.js';
import { authenticateHmacAuth } from './plugins/hmac-auth.js';
import { authenticateJwt } from './plugins/jwt.js';
import { authenticateKeyAuth } from './plugins/key-auth.js';
import { LdapBinder } from './ldap-client.js';
import { LdapVerdicts } from './ldap-verdicts.js';
import { authenticateLdapAuth } from './plugins/ldap-auth.js';
import { clearedCookies, isLogout, newSession, openRemembered, openSession, refreshSession, rememberCookie, restoredSession, sessionCookie, sessionHeaders, type SessionData } from './plugins/session.js';
import { RequestView } from './request.js';
import { AuthzInternalError, deny, unexpected } from './responses.js';
import type {
  AclConfig, AuthzAllow, AuthzConsumer, AuthzDecision, AuthzDeny, AuthzEngineOptions, AuthzLogger, AuthzRequest, AuthzSnapshot, RoutePolicy, SessionConfig,
} from './types.js';

export { IDENTITY_HEADERS } from '../contracts/authz.js';

type AuthStep = {
  plugin: 'jwt' | 'key-auth' | 'ldap-auth' | 'basic-auth' | 'hmac-auth';
  anonymous?: string;
  runOnPreflight: boolean;
  run: (req: RequestView, ctx: PluginContext) => AuthOutcome | Promise<AuthOutcome>;
};

interface CompiledPolicy {
  auth: AuthStep[];
  acl?: AclConfig;
  session?: SessionConfig;
}

interface State {
  index: CredentialIndex;
  policies: Map<string, CompiledPolicy>;
}

/**
 * Auth plugins run in Kong's priority order (jwt 1450, key-auth 1250, ldap-auth 1200, basic-auth 1100,
 * hmac-auth 1030), then acl (950), so several plugins on one route combine exactly as in Kong.
 */
function compile(policy: RoutePolicy): CompiledPolicy {
  const { jwt, 'key-auth': keyAuth, 'ldap-auth': ldapAuth, 'basic-auth': basicAuth, 'hmac-auth': hmacAuth, acl } = policy.plugins;
  const auth: AuthStep[] = [];
  // proto3: an empty `anonymous` is none.
  if (jwt) auth.push({ plugin: 'jwt', anonymous: jwt.anonymous || undefined, runOnPreflight: jwt.run_on_preflight === true, run: (r, c) => authenticateJwt(jwt, r, c) });
  if (keyAuth) auth.push({ plugin: 'key-auth', anonymous: keyAuth.anonymous || undefined, runOnPreflight: keyAuth.run_on_preflight === true, run: (r, c) => authenticateKeyAuth(keyAuth, r, c) });
  if (ldapAuth) auth.push({ plugin: 'ldap-auth', anonymous: ldapAuth.anonymous || undefined, runOnPreflight: true, run: (r, c) => authenticateLdapAuth(ldapAuth, r, c) });
  if (basicAuth) auth.push({ plugin: 'basic-auth', anonymous: basicAuth.anonymous || undefined, runOnPreflight: true, run: (r, c) => authenticateBasicAuth(basicAuth, r, c) });
  if (hmacAuth) auth.push({ plugin: 'hmac-auth', anonymous: hmacAuth.anonymous || undefined, runOnPreflight: true, run: (r, c) => authenticateHmacAuth(hmacAuth, r, c) });
  return { auth, ...(acl ? { acl } : {}), ...(policy.plugins.session ? { session: policy.plugins.session } : {}) };
}

/**
 * Kong's jwt, key-auth, ldap-auth, basic-auth, hmac-auth and acl plugins as one decision function
 * over an in-memory snapshot. `update()` swaps in a new snapshot atomically; `check()` answers one
 * request for one route. The only I/O is fetching JWKS documents (the injected fetch) and
 * ldap-auth's binds (the injected bind, by default over node:net / node:tls).
 */
export class AuthzEngine {
  private state?: State;
  private readonly logger: AuthzLogger;
  private readonly now: () => number;
  private readonly tokenCache: LruCache<CachedToken>;
  private readonly jwks: JwksCache;
  private readonly tokenCacheTtlMs: number;
  private readonly maxTokenLength: number;
  private readonly ldap: LdapVerdicts;

  constructor(opts: AuthzEngineOptions) {
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.tokenCache = new LruCache(opts.tokenCacheSize ?? 10_000);
    this.tokenCacheTtlMs = opts.tokenCacheTtlMs ?? 300_000;
    this.maxTokenLength = opts.maxTokenLength ?? 8192;
    const binder = opts.ldap ? undefined : new LdapBinder();
    this.ldap = new LdapVerdicts(opts.ldap ?? ((ep, dn, password) => binder!.bind(ep, dn, password)), opts.ldapCacheSize ?? 10_000, this.now);
    this.jwks = new JwksCache({
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      logger: opts.logger,
      now: this.now,
      timeoutMs: opts.jwksTimeoutMs ?? 2000,
      ttlMs: opts.jwksCacheTtlMs ?? 600_000,
      refreshIntervalMs: opts.jwksRefreshIntervalMs ?? 30_000,
      maxBytes: opts.jwksMaxBytes ?? 512 * 1024,
    });
  }

  /** Whether a snapshot has been loaded; before that every check is refused with 503. */
  get ready(): boolean {
    return this.state !== undefined;
  }

  /** Counters for metrics: routes with a policy, verified tokens currently cached. */
  stats(): { routes: number; tokenCacheEntries: number } {
    return { routes: this.state?.policies.size ?? 0, tokenCacheEntries: this.tokenCache.size };
  }

  /**
   * Replaces consumers, credentials and policies as a whole. Checks already running finish on
   * the snapshot they started with; the verified-token cache is emptied, so a revoked secret
   * stops working at once. JWKS URLs are fetched in the background.
   */
  update(snapshot: AuthzSnapshot): void {
    const index = new CredentialIndex(snapshot, this.logger);
    const policies = new Map<string, CompiledPolicy>();
    for (const p of snapshot.policies) {
      const compiled = compile(p);
      policies.set(p.routeId, compiled);
      for (const { plugin, anonymous } of compiled.auth) {
        if (anonymous !== undefined && !index.consumerByIdOrUsername(anonymous)) {
          this.logger.warn({ routeId: p.routeId, plugin, anonymous }, 'authz: anonymous consumer does not exist; failed authentications will get 500');
        }
      }
    }
    this.state = { index, policies };
    this.tokenCache.clear();
    this.ldap.clear();
    for (const s of snapshot.jwtSecrets ?? []) if (s.jwksUri && !s.jwks) this.jwks.prefetch(s.jwksUri);
  }

  /**
   * The decision for one request on one route. Never throws: a server-side failure is a 500
   * with Kong's `An unexpected error occurred`; a route with no policy (unknown id, or nothing
   * loaded yet) is refused with 503, failing closed.
   */
  async check(routeId: string, req: AuthzRequest): Promise<AuthzDecision> {
    const state = this.state;
    const policy = state?.policies.get(routeId);
    if (!state || !policy) {
      this.logger.warn({ routeId, loaded: state !== undefined }, 'authz: no policy for route; refused');
      return deny(503, { message: 'Service unavailable' });
    }
    try {
      return await this.decide(state, policy, new RequestView(req));
    } catch (e) {
      if (e instanceof AuthzInternalError) this.logger.error({ routeId, reason: e.reason, ...e.detail }, 'authz: internal error');
      else this.logger.error({ routeId, err: (e as Error)?.message }, 'authz: unexpected failure');
      return unexpected();
    }
  }

  private async decide(state: State, policy: CompiledPolicy, req: RequestView): Promise<AuthzDecision> {
    const ctx: PluginContext = {
      index: state.index, now: this.now, logger: this.logger, jwks: this.jwks,
      tokenCache: this.tokenCache, tokenCacheTtlMs: this.tokenCacheTtlMs, maxTokenLength: this.maxTokenLength, ldap: this.ldap,
    };
    let consumer: AuthzConsumer | undefined;
    let credentialId: string | undefined;
    let anonymous = false;
    const strip = { headers: new Set<string>(), query: new Set<string>(), body: new Set<string>() };
    const requestHeaders: Record<string, string> = {};
    const responseHeaders: Record<string, string> = {};
    const cookies: string[] = [];
    const nowS = Math.floor(this.now() / 1000);

    // Kong's session (priority 1900) runs before the auth plugins: a valid session is the
    // consumer it was opened for (access.lua), and a plugin with `anonymous` then stands aside.
    const sessionConf = policy.session;
    let session: SessionData | undefined;
    if (sessionConf) {
      // With remember, a session cookie gone or timed out is restored from the remember cookie.
      const current = openSession(sessionConf, req, nowS);
      const remembered = current ? undefined : openRemembered(sessionConf, req, nowS);
      const open = remembered ? restoredSession(remembered, nowS) : current;
      if (open && isLogout(sessionConf, req)) {
        return { allow: false, status: 200, headers: {}, setCookies: clearedCookies(sessionConf) };
      }
      const owner = open && state.index.consumerByIdOrUsername(open.consumerId);
      if (open && (!owner || owner.id !== open.consumerId)) {
        cookies.push(...clearedCookies(sessionConf));
      } else if (open && owner) {
        const next = remembered ? open : refreshSession(sessionConf, open, nowS);
        session = next ?? open;
        if (next) {
          cookies.push(sessionCookie(sessionConf, next));
          // A restored or renewed session saves its persistent cookie again (a touch does not).
          if (sessionConf.remember && (remembered || next.id !== open.id)) cookies.push(rememberCookie(sessionConf, next, nowS));
        }
        Object.assign(requestHeaders, sessionHeaders(sessionConf, session, nowS, sessionConf.request_headers ?? []));
        Object.assign(responseHeaders, sessionHeaders(sessionConf, session, nowS, sessionConf.response_headers ?? []));
        consumer = owner;
        credentialId = session.credentialId;
        anonymous = credentialId === undefined;
      }
    }

    for (const step of policy.auth) {
      if (!step.runOnPreflight && req.method === 'OPTIONS') continue;
      // Kong's logical OR: a plugin with `anonymous` stands aside once any credential matched.
      if (step.anonymous !== undefined && credentialId !== undefined) continue;
      const out = await step.run(req, ctx);
      for (const h of out.removals.headers) strip.headers.add(h);
      for (const q of out.removals.query) strip.query.add(q);
      for (const b of out.removals.body) strip.body.add(b);
      if (out.ok) {
        consumer = out.consumer;
        credentialId = out.credentialId;
        anonymous = false;
      } else if (step.anonymous !== undefined) {
        const anon = state.index.consumerByIdOrUsername(step.anonymous);
        if (!anon) throw new AuthzInternalError('anonymous consumer not found', { plugin: step.plugin, anonymous: step.anonymous });
        consumer = anon;
        credentialId = undefined;
        anonymous = true;
      } else {
        return withSession(out.deny, responseHeaders, cookies);
      }
    }

    // header_filter.lua: a credential the session does not already hold opens a new session
    // (on whatever answer follows, as Kong's header filter runs on its refusals too).
    if (sessionConf && consumer && credentialId !== undefined && !anonymous
      && !(session && session.consumerId === consumer.id && session.credentialId === credentialId)) {
      const fresh = newSession(sessionConf, consumer, credentialId, nowS, req);
      cookies.length = 0;
      cookies.push(sessionCookie(sessionConf, fresh), ...(sessionConf.remember ? [rememberCookie(sessionConf, fresh, nowS)] : []));
      Object.assign(responseHeaders, sessionHeaders(sessionConf, fresh, nowS, sessionConf.response_headers ?? []));
    }

    let groupsHeader: string | undefined;
    if (policy.acl) {
      const acl = checkAcl(policy.acl, consumer, credentialId !== undefined);
      if ('deny' in acl) return withSession(acl.deny, responseHeaders, cookies);
      groupsHeader = acl.groupsHeader;
    }
    const decision = allow(consumer, credentialId, anonymous, groupsHeader, strip, requestHeaders);
    if (Object.keys(responseHeaders).length) decision.responseHeaders = responseHeaders;
    if (cookies.length) decision.setCookies = cookies;
    return decision;
  }
}

/** A refusal with the session's response headers and cookies added. */
function withSession(d: AuthzDeny, extra: Record<string, string>, cookies: string[]): AuthzDeny {
  if (!Object.keys(extra).length && !cookies.length) return d;
  return { ...d, headers: { ...d.headers, ...extra }, ...(cookies.length ? { setCookies: [...cookies] } : {}) };
}

function allow(
  consumer: AuthzConsumer | undefined, credentialId: string | undefined, anonymous: boolean, groupsHeader: string | undefined,
  strip: { headers: Set<string>; query: Set<string>; body: Set<string> }, extraHeaders: Record<string, string> = {},
): AuthzAllow {
  const headersToSet: Record<string, string> = { ...extraHeaders };
  const metadata: Record<string, string> = {};
  if (consumer) {
    headersToSet['x-consumer-id'] = consumer.id;
    metadata.consumer_id = consumer.id;
    if (consumer.customId !== undefined) {
      headersToSet['x-consumer-custom-id'] = consumer.customId;
      metadata.consumer_custom_id = consumer.customId;
    }
    if (consumer.username !== undefined) {
      headersToSet['x-consumer-username'] = consumer.username;
      metadata.consumer_username = consumer.username;
    }
  }
  if (credentialId !== undefined) {
    headersToSet['x-credential-identifier'] = credentialId;
    metadata.credential_id = credentialId;
  }
  if (anonymous) headersToSet['x-anonymous-consumer'] = 'true';
  if (groupsHeader !== undefined) headersToSet['x-consumer-groups'] = groupsHeader;

  const remove = new Set<string>(strip.headers);
  for (const h of IDENTITY_HEADERS) remove.add(h);
  for (const h of Object.keys(headersToSet)) remove.delete(h);

  const decision: AuthzAllow = { allow: true, anonymous, headersToSet, headersToRemove: [...remove], metadata };
  if (consumer) decision.consumer = { ...consumer, groups: [...consumer.groups] };
  if (credentialId !== undefined) decision.credentialId = credentialId;
  if (strip.query.size) decision.queryParamsToRemove = [...strip.query];
  if (strip.body.size) decision.bodyParamsToRemove = [...strip.body];
  return decision;
}
