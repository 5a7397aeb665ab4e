import type { Redis as RedisClient } from 'ioredis';
import type { AcmeStorage } from '../model/plugins/acme.js';
import { createRedisClient } from '../redis-client.js';

/**
 * Where the acme plugin keeps its account key, certificates, challenges, locks and backoffs:
 * Kong's storage adapters' operations (lua-resty-acme's storage interface), under Kong's own
 * keys, so a Redis that Kong's acme plugin filled serves Frontdesk as it is, and the other way.
 */
export interface AcmeStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Sets the key only if it is absent; whether it did (a lock between replicas). */
  add(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Replicas on one storage tell each other of challenges and certificates (redis: pub/sub on
   * `<namespace>frontdesk_acme:events`). publish resolves to the number of subscribers that got
   * the message (this one's own subscription included).
   */
  publish?(message: string): Promise<number>;
  subscribe?(onMessage: (message: string) => void): Promise<void>;
}

/** Kong's key names (kong/plugins/acme/client.lua, reserved_words.lua, lua-resty-acme's http-01). */
export const ACME_KEYS = {
  account: (directoryUrl: string, email: string) => `kong_acme:account:${directoryUrl}:${Buffer.from(email).toString('base64')}`,
  certificate: (host: string) => `kong_acme:cert_key:${host}`,
  renewConfig: (host: string) => `kong_acme:renew_config:${host}`,
  backoff: (host: string) => `kong_acme:fail_backoff:${host}`,
  lock: (host: string) => `kong_acme:update_lock:${host}`,
  challenge: (token: string) => `${token}#http-01`,
  /** Frontdesk's own: the names ordered through POST /acme (Kong lists its renew_config keys with SCAN instead). */
  requested: 'frontdesk_acme:requested_hosts',
};

/** storage "shm": this control plane's memory (Kong's shared dict: one node's), gone with the process. */
export class MemoryStore implements AcmeStore {
  private readonly items = new Map<string, { value: string; until: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string): string | undefined {
    const item = this.items.get(key);
    if (item && item.until <= this.now()) this.items.delete(key);
    return this.items.get(key)?.value;
  }

  get(key: string): Promise<string | undefined> { return Promise.resolve(this.live(key)); }

  set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.items.set(key, { value, until: ttlSeconds ? this.now() + ttlSeconds * 1000 : Infinity });
    return Promise.resolve();
  }

  add(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (this.live(key) !== undefined) return Promise.resolve(false);
    this.items.set(key, { value, until: this.now() + ttlSeconds * 1000 });
    return Promise.resolve(true);
  }

  delete(key: string): Promise<void> { this.items.delete(key); return Promise.resolve(); }
  close(): Promise<void> { return Promise.resolve(); }
}

/** storage "redis": shared by every control plane replica (and any Kong node) on it; keys under the namespace. */
export class RedisAcmeStore implements AcmeStore {
  private readonly client: RedisClient;
  private subscriber?: RedisClient;
  constructor(private readonly storage: Extract<AcmeStorage, { kind: 'redis' }>, private readonly onError: (err: Error) => void) {
    const r = storage.redis;
    this.client = createRedisClient({
      host: r.host, port: r.port, database: r.database,
      ...(r.username !== undefined ? { username: r.username } : {}),
      ...(r.password !== undefined ? { password: r.password } : {}),
      ...(r.ssl ? { tls: { verify: r.sslVerify, ...(r.serverName !== undefined ? { serverName: r.serverName } : {}) } } : {}),
      connectTimeoutMs: r.timeoutMs, commandTimeoutMs: r.timeoutMs,
    }, onError);
  }

  private key(k: string): string { return `${this.storage.namespace}${k}`; }

  /** A client fails commands while it is not connected (no offline queue): wait for it, as long as its timeout. */
  private async ready(client = this.client): Promise<RedisClient> {
    if (client.status === 'ready') return client;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { client.off('ready', onReady); reject(new Error(`redis ${this.storage.redis.host}:${this.storage.redis.port} is not reachable`)); }, this.storage.redis.timeoutMs);
      const onReady = () => { clearTimeout(timer); resolve(); };
      client.once('ready', onReady);
    });
    return client;
  }

  private get channel(): string { return this.key('frontdesk_acme:events'); }

  async publish(message: string): Promise<number> { return (await this.ready()).publish(this.channel, message); }

  async subscribe(onMessage: (message: string) => void): Promise<void> {
    // A subscribed connection takes no other command: a second one (ioredis subscribes it again after a reconnect).
    const sub = (this.subscriber ??= this.client.duplicate());
    sub.on('error', this.onError);
    sub.on('message', (channel: string, message: string) => { if (channel === this.channel) onMessage(message); });
    await (await this.ready(sub)).subscribe(this.channel);
  }

  async get(key: string): Promise<string | undefined> { return (await (await this.ready()).get(this.key(key))) ?? undefined; }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    const c = await this.ready();
    if (ttlSeconds) await c.set(this.key(key), value, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
    else await c.set(this.key(key), value);
  }

  async add(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await (await this.ready()).set(this.key(key), value, 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX')) === 'OK';
  }

  async delete(key: string): Promise<void> { await (await this.ready()).del(this.key(key)); }

  async close(): Promise<void> {
    this.client.disconnect();
    this.subscriber?.disconnect();
  }
}

/** The store a storage names. */
export function openStore(storage: AcmeStorage, onError: (err: Error) => void): AcmeStore {
  return storage.kind === 'redis' ? new RedisAcmeStore(storage, onError) : new MemoryStore();
}
