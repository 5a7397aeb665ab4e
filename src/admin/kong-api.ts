import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { parse as parseYaml, stringify } from 'yaml';
import type { Diagnostic } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AdminAuth } from './admin-auth.js';
import { acmeParams, serveAcme, type AcmeAdmin } from './acme-api.js';
import { kongConfigError } from './declarative-errors.js';
import { API_COLLECTIONS, CHILD_COLLECTIONS, fromApiBody, PARENT_FIELD, toApiEntity } from './kong-entities.js';
import { cloneState, entityName, toDeclarative, uuid5, type Entity, type EntityKind, type FlatState } from './kong-state.js';

/** The Kong version whose Admin API and declarative format this subset follows. */
export const KONG_COMPAT_VERSION = '3.9.0';
/** Largest body POST /config and entity writes accept. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface ApplyResult {
  result: 'applied' | 'unchanged' | 'rejected';
  version?: string;
  diagnostics: Diagnostic[];
}

/** What the Kong Admin API needs from the control plane. */
export interface KongApiBackend {
  /** The config being served, flat, with ids. */
  flat(): FlatState;
  /** When it was applied (Unix seconds), for created_at. */
  appliedAtSeconds(): number;
  /** Applies a whole document posted to /config (YAML or JSON text), as a file edit would. */
  applyText(text: string, label: string): ApplyResult;
  /** Applies the result of entity writes. */
  applyFlat(st: FlatState, label: string): ApplyResult;
  /** The running config as declarative YAML (GET /config). */
  configYaml(): string;
  nodeId: string;
  adminListen: string;
  proxyListen: string;
  pluginsAvailable(): string[];
  status(): { server: Record<string, unknown>; database: { reachable: boolean }; configuration_hash: string | null };
  /** The acme plugin's certificates (Kong's /acme endpoints). */
  acme?: AcmeAdmin;
}

type Send = (status: number, body: unknown) => void;

const ENTITY_SEGMENTS = Object.keys(API_COLLECTIONS);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Kong's Admin API, the DB-less subset decK and Kong tooling use: GET / and /status, POST
 * and GET /config, the entity collections read-only in Kong's paginated shape, and the
 * entity writes decK's `gateway sync` makes. Entity writes are staged on a copy of the
 * running config and applied together once they stop arriving (`settleMs` quiet, at most
 * `maxDelayMs` after the first), as one config edit: the whole result goes through the same
 * load, validation and translation as a file, and a refused result changes nothing.
 */
export class KongAdminApi {
  private staged?: FlatState;
  private quietTimer?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;
  /** The outcome of the last staged apply (for tests and the log). */
  lastStagedOutcome?: ApplyResult;
  stagedApplies = 0;

  constructor(private readonly backend: KongApiBackend, private readonly auth: AdminAuth, private readonly log: Logger,
    private readonly settleMs = 150, private readonly maxDelayMs = 2000) {}

  /** Handles the request when it is a Kong Admin API path; returns false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const send: Send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', server: `frontdesk (kong/${KONG_COMPAT_VERSION})` });
      res.end(status === 204 || status === 304 ? undefined : JSON.stringify(body));
    };
    if (parts.length === 0) {
      if (method !== 'GET' && method !== 'HEAD') return false;
      send(200, this.root());
      return true;
    }
    if (parts[0] === 'config' && parts.length === 1) {
      const denied = this.auth.check(req);
      if (denied) { send(denied.status, { message: denied.message }); return true; }
      if (method === 'GET') { send(200, { config: this.backend.configYaml() }); return true; }
      if (method === 'POST') { this.guard(this.postConfig(req, send, url), send); return true; }
      send(405, { message: 'Method not allowed' });
      return true;
    }
    if (parts[0] === 'schemas') {
      // decK reads plugin schemas to fill in defaults; a config record with no fields adds none
      // (Frontdesk applies Kong's defaults itself when it loads the config).
      if (parts[1] === 'plugins' && parts[2] && this.backend.pluginsAvailable().includes(parts[2])) send(200, { fields: [{ config: { type: 'record', fields: [] } }] });
      else send(404, { message: 'Not found' });
      return true;
    }
    if (parts[0] === 'acme' && this.backend.acme) {
      const params = async () => {
        const raw = method === 'GET' || method === 'HEAD' ? '' : await this.body(req);
        return raw === undefined ? undefined : acmeParams(raw, String(req.headers['content-type'] ?? ''), url);
      };
      this.guard(serveAcme(parts, method, params, this.backend.acme, send, () => this.auth.check(req)), send);
      return true;
    }
    if (!ENTITY_SEGMENTS.includes(parts[0]!)) return false;
    if (method === 'GET' || method === 'HEAD') { this.read(parts, url, send, this.auth.check(req) === undefined); return true; }
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) { send(405, { message: 'Method not allowed' }); return true; }
    const denied = this.auth.check(req);
    if (denied) { send(denied.status, { message: denied.message }); return true; }
    this.guard(this.write(method, parts, req, send), send);
    return true;
  }

  /** A failed body read (the client went away) or a bug answers 500 and is logged, never thrown. */
  private guard(p: Promise<void>, send: Send): void {
    p.catch((e: unknown) => {
      this.log.error({ err: (e as Error).stack ?? String(e) }, 'admin API request failed');
      try { send(500, { message: 'An unexpected error occurred' }); } catch { /* the response is gone */ }
    });
  }

  private root(): Record<string, unknown> {
    const plugins = this.backend.pluginsAvailable();
    const st = this.backend.flat();
    const enabled = [...new Set(st.plugins.filter((p) => p.enabled !== false).map((p) => String(p.name)))].sort();
    return {
      version: KONG_COMPAT_VERSION,
      edition: 'community',
      tagline: 'Welcome to kong',
      lua_version: 'none (Frontdesk: Envoy data plane)',
      hostname: hostname(),
      node_id: this.backend.nodeId,
      configuration: {
        database: 'off', role: 'traditional', admin_listen: [this.backend.adminListen], proxy_listen: [this.backend.proxyListen],
        declarative_config: null, plugins: ['bundled'], loaded_plugins: Object.fromEntries(plugins.map((p) => [p, true])),
      },
      plugins: { available_on_server: Object.fromEntries(plugins.map((p) => [p, { version: KONG_COMPAT_VERSION, priority: 0 }])), enabled_in_cluster: enabled },
      timers: { running: 0, pending: 0 },
      pids: { master: process.pid, workers: [process.pid] },
    };
  }

  private current(): FlatState {
    return this.staged ?? this.backend.flat();
  }

  private find(st: FlatState, kind: EntityKind, key: string): Entity | undefined {
    return st[kind].find((e) => e.id === key) ?? st[kind].find((e) => entityName(kind, e) === key);
  }

  /** `privileged`: the reader may write (the token, or no token on a loopback admin): secrets included. */
  private read(parts: string[], url: URL, send: Send, privileged: boolean): void {
    const st = this.current();
    const created = this.backend.appliedAtSeconds();
    const kind = API_COLLECTIONS[parts[0]!]!;
    const api = (k: EntityKind, e: Entity) => toApiEntity(k, e, created, privileged);
    if (parts.length === 1) return this.page(st[kind].map((e) => api(kind, e)), url, send);
    const parent = this.find(st, kind, parts[1]!);
    if (!parent) return send(404, { message: 'Not found' });
    if (parts.length === 2) return send(200, api(kind, parent));
    const childKind = CHILD_COLLECTIONS[parts[2]!];
    const field = childKind ? PARENT_FIELD[kind]?.[childKind] : undefined;
    if (!childKind || !field) return send(404, { message: 'Not found' });
    const children = st[childKind].filter((c) => isObject(c[field]) && (c[field] as { id?: string }).id === parent.id);
    if (parts.length === 3) return this.page(children.map((c) => api(childKind, c)), url, send);
    const child = children.find((c) => c.id === parts[3] || entityName(childKind, c) === parts[3]);
    if (!child || parts.length > 4) return send(404, { message: 'Not found' });
    return send(200, api(childKind, child));
  }

  /** Kong's pagination: `size` (default 100, at most 1000) and an opaque `offset`. */
  private page(all: Record<string, unknown>[], url: URL, send: Send): void {
    const size = Math.min(1000, Math.max(1, Number(url.searchParams.get('size') ?? 100) || 100));
    const from = Number(Buffer.from(url.searchParams.get('offset') ?? '', 'base64url').toString() || 0) || 0;
    const tags = url.searchParams.get('tags')?.split(',').filter(Boolean);
    const items = tags?.length ? all.filter((e) => Array.isArray(e.tags) && tags.every((t) => (e.tags as string[]).includes(t))) : all;
    const data = items.slice(from, from + size);
    if (from + size >= items.length) return send(200, { data, next: null });
    const offset = Buffer.from(String(from + size)).toString('base64url');
    const next = new URL(url.toString());
    next.searchParams.set('offset', offset);
    return send(200, { data, next: `${next.pathname}${next.search}`, offset });
  }

  private async body(req: IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async postConfig(req: IncomingMessage, send: Send, url: URL): Promise<void> {
    const raw = await this.body(req);
    if (raw === undefined) return send(413, { message: `the config is larger than ${MAX_BODY_BYTES} bytes` });
    const text = extractConfig(raw, String(req.headers['content-type'] ?? ''));
    if (text === undefined) return send(400, { message: 'expected a declarative config in the body (YAML or JSON), or a "config" field holding one' });
    this.cancelStaged('a whole config was posted to /config');
    const out = this.backend.applyText(text, 'POST /config');
    if (out.result === 'rejected') {
      let doc: unknown;
      try { doc = JSON.parse(text); } catch {
        try { doc = parseYaml(text, { strict: false }); } catch { doc = undefined; }
      }
      return send(400, kongConfigError(out.diagnostics, doc));
    }
    const st = this.backend.flat();
    const body: Record<string, unknown> = {};
    if (url.searchParams.get('check_hash') === '1' && out.result === 'unchanged') return send(304, {});
    for (const kind of ['services', 'routes', 'plugins', 'consumers', 'upstreams', 'targets', 'certificates', 'snis'] as const) {
      body[kind] = Object.fromEntries(st[kind].map((e) => [e.id, toApiEntity(kind, e, this.backend.appliedAtSeconds())]));
    }
    send(201, body);
  }

  private async write(method: string, parts: string[], req: IncomingMessage, send: Send): Promise<void> {
    const raw = method === 'DELETE' ? '' : await this.body(req);
    if (raw === undefined) return send(413, { message: `the body is larger than ${MAX_BODY_BYTES} bytes` });
    let body: Record<string, unknown> = {};
    if (raw.trim()) {
      try {
        const parsed = JSON.parse(raw) as unknown;
        if (!isObject(parsed)) return send(400, { code: 2, name: 'schema violation', message: 'the body must be a JSON object' });
        body = parsed;
      } catch { return send(400, { code: 2, name: 'schema violation', message: 'the body is not JSON' }); }
    }
    this.staged ??= cloneState(this.backend.flat());
    const st = this.staged;
    let kind = API_COLLECTIONS[parts[0]!]!;
    let key = parts[1];
    let parentRef: Record<string, unknown> = {};
    if (parts.length >= 3) {
      const parent = this.find(st, kind, parts[1]!);
      const childKind = CHILD_COLLECTIONS[parts[2]!];
      const field = childKind ? PARENT_FIELD[kind]?.[childKind] : undefined;
      if (!parent || !childKind || !field) return send(404, { message: 'Not found' });
      parentRef = { [field]: { id: parent.id } };
      kind = childKind;
      key = parts[3];
    }
    const list = st[kind];
    const existing = key === undefined ? undefined : this.find(st, kind, key);
    let status = 200;
    let stored: Entity;
    if (method === 'DELETE') {
      if (!existing) return send(404, { message: 'Not found' });
      st[kind] = list.filter((e) => e !== existing);
      // Kong deletes on cascade what hangs off the entity.
      for (const [childKind, field] of Object.entries(PARENT_FIELD[kind] ?? {}) as [EntityKind, string][]) {
        st[childKind] = st[childKind].filter((c) => !(isObject(c[field]) && (c[field] as { id?: string }).id === existing.id));
      }
      this.schedule();
      return send(204, undefined);
    }
    if (method === 'POST') {
      if (key !== undefined) return send(405, { message: 'Method not allowed' });
      const id = typeof body.id === 'string' ? body.id : uuid5(`${kind}:${JSON.stringify(body)}:${Date.now()}:${Math.random()}`);
      if (this.find(st, kind, id)) return send(409, { code: 5, name: 'unique constraint violation', message: `UNIQUE violation detected on '{id="${id}"}'` });
      stored = fromApiBody({ ...body, ...parentRef }, id);
      list.push(stored);
      status = 201;
    } else {
      if (key === undefined) return send(405, { message: 'Method not allowed' });
      const base = method === 'PATCH' && existing ? expandUrl(kind, existing) : {};
      stored = fromApiBody({ ...base, ...body, ...parentRef }, existing?.id ?? (isUuid(key) ? key : uuid5(`${kind}:${key}`)));
      if (method === 'PUT' && !existing && !isUuid(key)) stored.name ??= key;
      if (existing) list[list.indexOf(existing)] = stored;
      else { list.push(stored); status = method === 'PUT' ? 200 : 404; }
      if (status === 404) { st[kind] = list.filter((e) => e !== stored); return send(404, { message: 'Not found' }); }
    }
    this.schedule();
    // The writer may read secrets; decK indexes what it wrote by them (a key-auth by its key).
    send(status, toApiEntity(kind, stored, Math.floor(Date.now() / 1000), true));
  }

  private schedule(): void {
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.applyStaged(), this.settleMs);
    this.maxTimer ??= setTimeout(() => this.applyStaged(), this.maxDelayMs);
  }

  private cancelStaged(why: string): void {
    if (!this.staged) return;
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    this.staged = undefined;
    this.log.warn({ why }, 'entity writes not yet applied were dropped');
  }

  /** Applies the staged writes now (they are applied by themselves once writes settle). */
  applyStaged(): ApplyResult | undefined {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    const st = this.staged;
    this.staged = undefined;
    if (!st) return undefined;
    const out = this.backend.applyFlat(st, 'Admin API entity writes');
    this.lastStagedOutcome = out;
    this.stagedApplies++;
    return out;
  }

  /** Drops pending writes and timers (on shutdown). */
  close(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.staged = undefined;
  }

  /** The flat state as declarative YAML text. */
  static yaml(st: FlatState): string {
    return stringify(toDeclarative(st), { lineWidth: 0 });
  }
}

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** A service stored with `url` as its parts, so that a PATCH of host or port does not clash with it. */
function expandUrl(kind: EntityKind, e: Entity): Entity {
  if (kind !== 'services' || typeof e.url !== 'string') return e;
  const api = toApiEntity(kind, e, 0);
  const { url: _u, ...rest } = e;
  return { ...rest, protocol: api.protocol, host: api.host, port: api.port, ...(api.path ? { path: api.path } : {}) } as Entity;
}

/**
 * The declarative config of a POST /config body. Kong takes the config as the body itself
 * (application/json or YAML), or as a `config` field of a JSON or form body.
 */
export function extractConfig(raw: string, contentType: string): string | undefined {
  if (/application\/x-www-form-urlencoded/.test(contentType)) return new URLSearchParams(raw).get('config') ?? undefined;
  const t = raw.trim();
  if (!t) return undefined;
  if (t.startsWith('{')) {
    try {
      const j = JSON.parse(t) as unknown;
      if (isObject(j) && typeof j.config === 'string' && j._format_version === undefined) return j.config;
      if (isObject(j) && isObject(j.config) && j._format_version === undefined) return JSON.stringify(j.config);
    } catch { /* not JSON: the loader reports it as YAML */ }
  }
  return raw;
}
