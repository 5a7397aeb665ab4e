import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { acmeDomainsOf, type AcmeInputs, type AcmeState } from '../ir/acme.js';
import type { Logger } from '../logger.js';
import { acmeTakes, type AcmeFeature } from '../model/plugins/acme.js';
import type { AcmeAdmin } from '../admin/acme-api.js';
import type { AcmeStatus } from '../admin/dashboard-data.js';
import { AcmeClient, generateAccountKey, type AcmeChallengeResponder } from '../acme/client.js';
import { ACME_KEYS, openStore, type AcmeStore } from './acme-storage.js';
import { defaultServerCertificate } from './certs.js';

const DAY_MS = 86_400_000;
/** Kong's renewal timer runs once a day (handler.lua init_worker). */
const CHECK_EVERY_MS = DAY_MS;
/** How long a challenge may take to reach the Envoys before the CA is told to check it anyway. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** Kong keeps a challenge's answer in the storage for an hour (lua-resty-acme's http-01). */
const CHALLENGE_TTL_S = 3600;
/** The lock a replica holds while it orders for a host (Kong: 30 s; orders may take longer). */
const LOCK_TTL_S = 300;
/**
 * Orders a control plane starts in an hour, at most: Frontdesk orders ahead for every name it
 * wants (Kong only as clients arrive), and Let's Encrypt allows an account 300 new orders per
 * three hours; the names beyond wait for the next hour.
 */
const ORDERS_PER_HOUR = 50;
const HOUR_MS = 3_600_000;

/** What the ACME manager needs of the control plane. */
export interface AcmeHost {
  /** Builds the served config again with the manager's state(); resolves when it is applied (or refused). */
  rebuild(): Promise<void>;
  /** Resolves when every connected Envoy holds the config now served (false: none did within the time). */
  delivered(timeoutMs: number): Promise<boolean>;
}

export interface AcmeManagerOptions {
  /** PEM roots trusted for the ACME server besides Node's (a private CA's, a test CA's). */
  ca?: string[];
  now?: () => number;
  /** Told of every order's end (the control plane's frontdesk_acme_orders_total). */
  onOrder?: (result: 'issued' | 'failed') => void;
  /** Orders started in an hour, at most (default ORDERS_PER_HOUR). */
  ordersPerHour?: number;
}

interface Held { cert: string; key: string; notAfter: number }

/** What replicas on one storage tell each other (AcmeStore.publish). */
interface AcmeEvent {
  from: string;
  kind: 'challenge' | 'challenge-removed' | 'certificate' | 'ack';
  token?: string;
  host?: string;
  /** ack: the replica whose challenge this replica's Envoys now hold. */
  to?: string;
}


/**
 * Kong's acme plugin's background work, for the control plane: for every name the config wants
 * (ir/acme.ts acmeDomains), the certificate from the storage, else ordered from the CA over
 * http-01 (the challenge answered by every Envoy's http listener, pushed as a route), and
 * renewed renew_threshold_days before it expires; a failure waits fail_backoff_minutes. The
 * certificates and challenges it holds go into every build (state()), so Envoy serves them.
 */
export class AcmeManager implements AcmeAdmin {
  private feature?: AcmeFeature;
  private inputs?: AcmeInputs;
  /** Names ordered through POST /acme, kept in the storage so a restart serves them too. */
  private readonly requested = new Set<string>();
  private requestedLoaded?: Promise<void>;
  /** The backoffs dropped when the plugin's config changed (a fixed config is tried at once). */
  private backoffsCleared?: Promise<unknown>;
  private featureKey = '';
  private wanted: string[] = [];
  private store?: AcmeStore;
  private storeKey = '';
  private readonly held = new Map<string, Held>();
  private readonly challenges = new Map<string, string>();
  /** Challenges another replica on the storage is answering: this replica's Envoys answer them too (the CA may reach any). */
  private readonly foreign = new Map<string, string>();
  /** This replica, to the others on the storage. */
  private readonly me = randomUUID();
  private subscribed = false;
  /** Challenges waiting for the other replicas' Envoys to hold them: token → the replicas that said so. */
  private readonly acks = new Map<string, { need: number; got: Set<string>; done: () => void }>();
  private readonly errors = new Map<string, { error: string; retryAt: number }>();
  private client?: { key: string; client: AcmeClient; account?: Promise<string> };
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => number;
  /** When the orders of the last hour started (the hourly budget). */
  private readonly orderTimes: number[] = [];
  /** The budget is spent until then. */
  private budgetUntil = 0;

  constructor(private readonly host: AcmeHost, private readonly log: Logger, private readonly opts: AcmeManagerOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** The certificates and challenges to serve now. */
  state(): AcmeState {
    return {
      challenges: [...new Map([...this.foreign, ...this.challenges])].map(([token, keyAuthorization]) => ({ token, keyAuthorization })),
      certificates: [...this.held].map(([domain, h]) => ({ domain, cert: h.cert, key: h.key })),
      ...(this.requested.size ? { requested: [...this.requested].sort() } : {}),
      // The process's default certificate, so that a build on the worker thread serves the same one.
      ...(this.feature ? { defaultCertificate: defaultServerCertificate() } : {}),
    };
  }

  /** After each config applied: what the acme plugin now asks for (undefined: the config has no acme plugin). */
  configApplied(inputs: AcmeInputs | undefined): void {
    if (this.stopped) return;
    const feature = inputs?.feature;
    if (!inputs || !feature) {
      if (this.feature) this.log.info('the acme plugin was removed: its certificates are no longer served');
      this.feature = undefined;
      this.inputs = undefined;
      this.featureKey = '';
      this.wanted = [];
      this.held.clear();
      this.requested.clear();
      this.errors.clear();
      void this.closeStore();
      clearTimeout(this.timer);
      return;
    }
    this.inputs = inputs;
    const wanted = acmeDomainsOf(inputs, [...this.requested]);
    const key = JSON.stringify(feature);
    if (key === this.featureKey && wanted.join(',') === this.wanted.join(',')) return;
    const storeKey = JSON.stringify(feature.storage);
    if (storeKey !== this.storeKey) {
      void this.closeStore();
      this.held.clear();
      this.requested.clear();
      const store = openStore(feature.storage, (err) => this.log.warn({ err: err.message }, 'acme storage: redis connection trouble'));
      this.store = store;
      this.storeKey = storeKey;
      this.requestedLoaded = this.loadRequested(store);
      this.subscribed = false;
      this.foreign.clear();
      if (store.subscribe) {
        store.subscribe((m) => void this.onEvent(store, m)).then(() => { if (store === this.store) this.subscribed = true; })
          .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'acme: not listening to the other replicas on the storage'));
      }
    }
    if (key !== this.featureKey && this.featureKey !== '') {
      // A changed config (another key, CA or account) is not the one that failed: Kong would
      // still wait out fail_backoff_minutes; a fixed config is tried at once instead.
      this.errors.clear();
      const store = this.store!;
      this.backoffsCleared = Promise.all(wanted.map((d) => store.delete(ACME_KEYS.backoff(d)).catch(() => undefined)));
    }
    this.feature = feature;
    this.featureKey = key;
    this.wanted = wanted;
    this.kick();
  }

  /** Runs a pass now (or once more after the one running). */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (e) {
          this.log.error({ err: (e as Error).message }, 'acme: the certificate check failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => { this.running = undefined; this.schedule(); });
  }

  /** The next check: the earliest backoff's end, else Kong's daily renewal check. */
  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped || !this.feature) return;
    const retries = [...this.errors.values(), ...(this.budgetUntil ? [{ retryAt: this.budgetUntil }] : [])].map((e) => e.retryAt - this.now());
    const wait = Math.max(1_000, Math.min(CHECK_EVERY_MS, ...retries));
    this.timer = setTimeout(() => this.kick(), wait);
    this.timer.unref();
  }

  /** The names POST /acme ordered before (the storage's list), wanted again. */
  private async loadRequested(store: AcmeStore): Promise<void> {
    try {
      const list = JSON.parse((await store.get(ACME_KEYS.requested)) ?? '[]') as unknown;
      if (store !== this.store || !Array.isArray(list)) return;
      for (const h of list) if (typeof h === 'string') this.requested.add(h);
      this.wanted = acmeDomainsOf(this.inputs, [...this.requested]);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'acme: the names ordered through the Admin API could not be read from the storage');
    }
  }

  /** One look at every wanted name: from the storage when it holds it, else from the CA. */
  private async pass(): Promise<void> {
    await this.requestedLoaded;
    await this.backoffsCleared;
    const feature = this.feature;
    const store = this.store;
    if (!feature || !store) return;
    let changed = false;
    for (const domain of [...this.held.keys()]) if (!this.wanted.includes(domain)) { this.held.delete(domain); changed = true; }
    for (const domain of this.wanted) {
      if (this.held.has(domain)) continue;
      const stored = await this.loadStored(store, domain);
      if (stored) { this.held.set(domain, stored); changed = true; }
    }
    if (changed) await this.host.rebuild();
    for (const domain of this.wanted) {
      if (this.stopped || JSON.stringify(feature) !== this.featureKey) return;
      const h = this.held.get(domain);
      if (h && h.notAfter - feature.renewThresholdDays * DAY_MS > this.now()) continue;
      await this.update(feature, store, domain).catch(() => undefined);
    }
  }

  /**
   * Kong's update_certificate: unless an earlier failure's backoff still runs or another replica
   * holds the name's lock, orders the certificate; a failure starts the backoff. Rejects with
   * the reason it did not obtain one.
   */
  private async update(feature: AcmeFeature, store: AcmeStore, domain: string): Promise<void> {
    const failed = this.errors.get(domain);
    const backoff = Math.max(failed?.retryAt ?? 0, Number(await store.get(ACME_KEYS.backoff(domain))) * 1000 || 0);
    if (backoff > this.now()) {
      this.errors.set(domain, { error: failed?.error ?? 'an earlier order failed (on another replica)', retryAt: backoff });
      throw new Error(`please try again in ${Math.ceil((backoff - this.now()) / 1000)} seconds for host ${domain} because of previous failure; this is configurable with config.fail_backoff_minutes`);
    }
    const now = this.now();
    while (this.orderTimes.length && this.orderTimes[0]! <= now - HOUR_MS) this.orderTimes.shift();
    const budget = this.opts.ordersPerHour ?? ORDERS_PER_HOUR;
    if (this.orderTimes.length >= budget) {
      this.budgetUntil = this.orderTimes[0]! + HOUR_MS;
      throw new Error(`the hourly order budget (${budget}, under the CA's rate limits) is spent: the next order for ${domain} starts in ${Math.ceil((this.budgetUntil - now) / 1000)} seconds`);
    }
    if (!(await store.add(ACME_KEYS.lock(domain), 'placeholder', LOCK_TTL_S))) {
      this.log.info({ domain }, 'acme: another order for this name is running');
      throw new Error(`an order for ${domain} is already running`);
    }
    this.orderTimes.push(now);
    this.budgetUntil = 0;
    try {
      await this.order(feature, store, domain);
      this.errors.delete(domain);
      this.opts.onOrder?.('issued');
    } catch (e) {
      this.opts.onOrder?.('failed');
      const error = (e as Error).message;
      const retryAt = this.now() + feature.failBackoffMinutes * 60_000;
      this.errors.set(domain, { error, retryAt });
      this.log.error({ domain, err: error, retryAt: new Date(retryAt).toISOString() }, 'acme: could not obtain a certificate; trying again after fail_backoff_minutes');
      if (feature.failBackoffMinutes > 0) await store.set(ACME_KEYS.backoff(domain), String(Math.floor(retryAt / 1000)), feature.failBackoffMinutes * 60).catch(() => undefined);
      throw e;
    } finally {
      await store.delete(ACME_KEYS.lock(domain)).catch(() => undefined);
    }
  }

  private async publish(store: AcmeStore, e: Omit<AcmeEvent, 'from'>): Promise<number> {
    if (!store.publish) return 0;
    try {
      const n = await store.publish(JSON.stringify({ from: this.me, ...e }));
      return this.subscribed ? n - 1 : n;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'acme: the other replicas could not be told');
      return 0;
    }
  }

  /** Another replica's news: a challenge to answer too (and say when this replica's Envoys hold it), one done, a certificate obtained. */
  private async onEvent(store: AcmeStore, raw: string): Promise<void> {
    let e: AcmeEvent;
    try { e = JSON.parse(raw) as AcmeEvent; } catch { return; }
    if (e.from === this.me || store !== this.store || this.stopped) return;
    try {
      if (e.kind === 'ack' && e.to === this.me && e.token) {
        const w = this.acks.get(e.token);
        w?.got.add(e.from);
        if (w && w.got.size >= w.need) w.done();
      } else if (e.kind === 'challenge' && e.token) {
        const keyAuthorization = await store.get(ACME_KEYS.challenge(e.token));
        if (!keyAuthorization) return;
        this.foreign.set(e.token, keyAuthorization);
        await this.host.rebuild();
        if (await this.host.delivered(DELIVERY_TIMEOUT_MS)) await this.publish(store, { kind: 'ack', token: e.token, to: e.from });
      } else if (e.kind === 'challenge-removed' && e.token) {
        if (this.foreign.delete(e.token)) await this.host.rebuild();
      } else if (e.kind === 'certificate' && e.host) {
        if (!this.wanted.includes(e.host)) await this.loadRequested(store);
        if (!this.wanted.includes(e.host)) return;
        const stored = await this.loadStored(store, e.host);
        const mine = this.held.get(e.host);
        if (stored && (!mine || stored.notAfter > mine.notAfter)) {
          this.held.set(e.host, stored);
          this.errors.delete(e.host);
          await this.host.rebuild();
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, event: e.kind }, 'acme: an event from another replica could not be acted on');
    }
  }

  /** Tells the other replicas of a challenge and waits (at most DELIVERY_TIMEOUT_MS) until their Envoys hold it too. */
  private async shareChallenge(store: AcmeStore, token: string, domain: string): Promise<void> {
    if (!store.publish) return;
    let done!: () => void;
    const all = new Promise<void>((r) => { done = r; });
    const wait = { need: Infinity, got: new Set<string>(), done };
    this.acks.set(token, wait);
    try {
      const others = await this.publish(store, { kind: 'challenge', token });
      wait.need = others;
      if (wait.got.size >= others) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), DELIVERY_TIMEOUT_MS); });
      const ok = await Promise.race([all.then(() => true), late]);
      clearTimeout(timer);
      if (!ok) this.log.warn({ domain, replicas: others, answered: wait.got.size }, 'acme: not every replica\'s Envoys took the challenge in time; asking the CA to check anyway');
    } finally {
      this.acks.delete(token);
    }
  }

  configured(): boolean {
    return this.feature !== undefined;
  }

  inDomains(host: string): boolean {
    return this.feature !== undefined && acmeTakes({ ...this.feature.domains, any: false }, host);
  }

  /** POST /acme: the host's certificate ordered now (a name the plugin takes, though the config does not name it, is kept and served too). */
  async create(host: string): Promise<void> {
    const feature = this.feature;
    const store = this.store;
    if (!feature || !store) throw new Error('the acme plugin is not configured');
    if (!acmeTakes(feature.domains, host)) throw new Error(`${host} is not a name the acme plugin takes (config.domains, config.allow_any_domain): its certificate would not be served`);
    await this.requestedLoaded;
    if (!this.wanted.includes(host)) {
      this.requested.add(host);
      await store.set(ACME_KEYS.requested, JSON.stringify([...this.requested].sort()));
      this.wanted = acmeDomainsOf(this.inputs, [...this.requested]);
    }
    if (!this.wanted.includes(host)) throw new Error(`${host} is served by a configured certificate`);
    await this.update(feature, store, host);
  }

  /** PATCH /acme: the renewal check, now. */
  renew(): void {
    this.kick();
  }

  async certificates(): Promise<{ host: string; cert: string }[]> {
    const out: { host: string; cert: string }[] = [];
    for (const host of this.wanted) {
      const cert = await this.certificate(host);
      if (cert) out.push({ host, cert });
    }
    return out;
  }

  async certificate(host: string): Promise<string | undefined> {
    const held = this.held.get(host);
    if (held) return held.cert;
    const text = await this.store?.get(ACME_KEYS.certificate(host));
    try {
      const cert = text ? (JSON.parse(text) as { cert?: unknown }).cert : undefined;
      return typeof cert === 'string' ? cert : undefined;
    } catch {
      return undefined;
    }
  }

  /** A certificate the storage holds for the name (Kong's `{cert, key}`), when it parses and covers the name. */
  private async loadStored(store: AcmeStore, domain: string): Promise<Held | undefined> {
    let text: string | undefined;
    try {
      text = await store.get(ACME_KEYS.certificate(domain));
    } catch (e) {
      this.log.warn({ domain, err: (e as Error).message }, 'acme: the storage could not be read');
      return undefined;
    }
    if (!text) return undefined;
    try {
      const { cert, key } = JSON.parse(text) as { cert?: unknown; key?: unknown };
      if (typeof cert !== 'string' || typeof key !== 'string') return undefined;
      const x = new X509Certificate(cert);
      if (!x.checkHost(domain) || !x.checkPrivateKey(createPrivateKey(key))) return undefined;
      return { cert, key, notAfter: Date.parse(x.validTo) };
    } catch {
      this.log.warn({ domain }, 'acme: the stored certificate does not parse; ordering a new one');
      return undefined;
    }
  }

  private async accountClient(feature: AcmeFeature, store: AcmeStore): Promise<AcmeClient> {
    const name = ACME_KEYS.account(feature.directoryUrl, feature.accountEmail);
    const key = `${name}\n${JSON.stringify(feature.eab ?? null)}`;
    if (this.client?.key !== key) {
      let accountKey: KeyObject;
      const stored = await store.get(name);
      if (stored) {
        accountKey = createPrivateKey((JSON.parse(stored) as { key: string }).key);
      } else {
        accountKey = generateAccountKey();
        await store.set(name, JSON.stringify({ key: accountKey.export({ type: 'pkcs8', format: 'pem' }) }));
      }
      const client = new AcmeClient({ directoryUrl: feature.directoryUrl, accountKey, ...(this.opts.ca ? { ca: this.opts.ca } : {}) });
      this.client = { key, client };
    }
    const c = this.client;
    // termsOfServiceAgreed always, as lua-resty-acme sends it: configuring the plugin agrees (Kong
    // asks for tos_accepted at load for Let's Encrypt's directories, as the loader does).
    c.account ??= c.client.account({ email: feature.accountEmail, termsAgreed: true, ...(feature.eab ? { eab: feature.eab } : {}) })
      .catch((e: unknown) => { c.account = undefined; throw e; });
    await c.account;
    return c.client;
  }

  private async order(feature: AcmeFeature, store: AcmeStore, domain: string): Promise<void> {
    this.log.info({ domain, directory: feature.directoryUrl }, 'acme: ordering a certificate');
    const client = await this.accountClient(feature, store);
    const responder: AcmeChallengeResponder = {
      present: async (token, keyAuthorization) => {
        this.challenges.set(token, keyAuthorization);
        await store.set(ACME_KEYS.challenge(token), keyAuthorization, CHALLENGE_TTL_S).catch(() => undefined);
        await this.host.rebuild();
        if (!(await this.host.delivered(DELIVERY_TIMEOUT_MS))) this.log.warn({ domain }, 'acme: no Envoy took the challenge in time; asking the CA to check anyway');
        await this.shareChallenge(store, token, domain);
      },
      remove: async (token) => {
        this.challenges.delete(token);
        await store.delete(ACME_KEYS.challenge(token)).catch(() => undefined);
        await this.publish(store, { kind: 'challenge-removed', token });
        await this.host.rebuild();
      },
    };
    const issued = await client.order([domain], responder, { certType: feature.certType, rsaKeySize: feature.rsaKeySize, ...(feature.preferredChain ? { preferredChain: feature.preferredChain } : {}) });
    await store.set(ACME_KEYS.certificate(domain), JSON.stringify({ key: issued.key, cert: issued.certificate }));
    await store.set(ACME_KEYS.renewConfig(domain), JSON.stringify({ host: domain, expire_at: Math.floor(issued.notAfter.getTime() / 1000) }));
    await this.publish(store, { kind: 'certificate', host: domain });
    // Kept when the plugin's config changed meanwhile (the next pass finds it in the storage if it is still wanted).
    if (JSON.stringify(feature) !== this.featureKey || !this.wanted.includes(domain)) return;
    this.held.set(domain, { cert: issued.certificate, key: issued.key, notAfter: issued.notAfter.getTime() });
    this.log.info({ domain, notAfter: issued.notAfter.toISOString() }, 'acme: certificate obtained; serving it');
    await this.host.rebuild();
  }

  status(): AcmeStatus | undefined {
    if (!this.feature) return undefined;
    return {
      directory: this.feature.directoryUrl,
      storage: this.feature.storage.kind,
      domains: this.wanted.map((domain) => {
        const h = this.held.get(domain);
        const e = this.errors.get(domain);
        return { domain, ...(h ? { notAfter: new Date(h.notAfter).toISOString() } : {}), ...(e ? { lastError: e.error, retryAt: new Date(e.retryAt).toISOString() } : {}) };
      }),
    };
  }

  /** Each certificate served and its expiry (ms since the epoch), by name. */
  expiries(): [string, number][] {
    return [...this.held].map(([domain, h]) => [domain, h.notAfter]);
  }

  /** Resolves when the pass running now (if any) has ended: tests and shutdown wait on it. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async closeStore(): Promise<void> {
    const s = this.store;
    this.store = undefined;
    this.storeKey = '';
    await s?.close();
  }

  /** Stops at once: an order under way is dropped (its lock expires in the storage). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.closeStore();
  }
}
