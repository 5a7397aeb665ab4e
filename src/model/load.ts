import type { z } from 'zod';
import { closest, diag, type Diagnostic, type YamlPath } from '../errors.js';
import {
  aclSchema, basicauthCredentialSchema, caCertificateSchema, certificateSchema, consumerSchema, jwtSecretSchema,
  keyauthCredentialSchema, listenerSchema, pluginEntrySchema, routeSchema, serviceSchema, SERVICE_PROTOCOLS,
  targetSchema, topLevelSchema, upstreamSchema,
} from './entities.js';
import { checkAuthz } from './checks/authz.js';
import { checkRateLimiting } from './checks/ratelimit.js';
import { ENFORCED_PLUGINS, KONG_PLUGINS_NOT_SERVED, knownPluginNames, pluginDefinition } from './plugins/index.js';
import { convertLegacyPath, regexProblem } from './paths.js';
import type {
  CaCertificate, Certificate, Consumer, GatewayModel, Listener, Origin, Plugin, Route, Service, ServiceProtocol, Upstream,
} from './types.js';
import { issuesToDiagnostics, stripNulls } from './zod-diagnostics.js';
import { parseYamlSource, type SourceText, type YamlSource } from './yaml-source.js';

export interface LoadResult {
  /** Present only when there is no error (warnings allowed). */
  model?: GatewayModel;
  diagnostics: Diagnostic[];
}

type Ref = string | { id?: string; name?: string } | undefined;
type Raw = Record<string, unknown>;

interface Found<T> { value: T; origin: Origin }

/** Collects diagnostics per file and turns YAML paths into line:col at the end. */
class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly sources = new Map<string, YamlSource>();
  addSource(s: YamlSource): void { this.sources.set(s.file, s); }
  report(file: string, ds: Diagnostic[]): void { for (const d of ds) this.diagnostics.push({ ...d, file }); }
  at(origin: Origin, d: Diagnostic): void { this.diagnostics.push({ ...d, file: origin.file }); }
  finish(): Diagnostic[] {
    for (const d of this.diagnostics) {
      if (d.line !== undefined || !d.file) continue;
      const src = this.sources.get(d.file);
      if (!src) continue;
      const key = d.code === 'FD_UNKNOWN_KEY';
      const pos = src.locate(d.path, key);
      d.line = pos.line;
      d.col = pos.col;
    }
    return this.diagnostics.sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  }
  get hasErrors(): boolean { return this.diagnostics.some((d) => d.severity === 'error'); }
  /** `file:line:col` of an entity, for messages that point at another place. */
  where(origin: Origin): string {
    const pos = this.sources.get(origin.file)?.locate(origin.path);
    return pos ? `${origin.file}:${pos.line}:${pos.col}` : `${origin.file}:${origin.path.join('.')}`;
  }
}

function parseWith<S extends z.ZodType>(rep: Reporter, schema: S, raw: unknown, origin: Origin): z.infer<S> | undefined {
  const input = stripNulls(raw);
  const res = schema.safeParse(input);
  if (res.success) return res.data;
  rep.report(origin.file, issuesToDiagnostics(schema, res.error.issues, origin.path, input));
  return undefined;
}

/** A field Frontdesk does not implement: refused unless it holds Kong's default. */
function notImplemented(rep: Reporter, origin: Origin, field: string, value: unknown, isDefault: boolean, why: string): boolean {
  if (value === undefined || isDefault) return false;
  rep.at(origin, diag('FD_FIELD_NOT_IMPLEMENTED', [...origin.path, field], `${field}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`, why));
  return true;
}

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Splits nested children off an entity: returns the entity's own fields and the children lists. */
function detach(raw: unknown, keys: readonly string[]): { own: unknown; children: Record<string, unknown[]> } {
  const children: Record<string, unknown[]> = {};
  if (!isObject(raw)) return { own: raw, children };
  const own: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    if (keys.includes(k)) children[k] = Array.isArray(v) ? v : v == null ? [] : [v];
    else own[k] = v;
  }
  return { own, children };
}

function refName(ref: Ref): string | undefined {
  if (ref === undefined) return undefined;
  return typeof ref === 'string' ? ref : (ref.name ?? ref.id);
}

const DEFAULT_PORTS: Record<string, number> = { https: 443, grpcs: 443, wss: 443, tls: 443 };

/** Loads one or more YAML texts (a folder's files are merged) into a validated model. */
export function loadConfig(texts: SourceText[]): LoadResult {
  const rep = new Reporter();
  const services: Found<Raw>[] = [];
  const routes: Found<Raw & { _parent?: string }>[] = [];
  const upstreams: Found<Raw>[] = [];
  const targets: Found<Raw & { _parent?: string }>[] = [];
  const consumers: Found<Raw>[] = [];
  const creds: Record<'jwt_secrets' | 'keyauth_credentials' | 'basicauth_credentials' | 'acls', Found<Raw & { _parent?: string }>[]> = {
    jwt_secrets: [], keyauth_credentials: [], basicauth_credentials: [], acls: [],
  };
  const plugins: Found<Raw & { _scope: Plugin['scope'] }>[] = [];
  const certificates: Found<Raw & { _snis: string[] }>[] = [];
  const caCertificates: Found<Raw>[] = [];
  const listeners: Found<Raw>[] = [];
  const topSnis: Found<Raw>[] = [];
  const legacy = new Map<string, string>(); // file -> old format version

  if (texts.length === 0) return { diagnostics: [diag('FD_CONFIG_EMPTY', [])] };

  for (const text of texts) {
    const parsed = parseYamlSource(text);
    rep.report(text.file, parsed.diagnostics);
    if (!parsed.source) continue;
    rep.addSource(parsed.source);
    const data = parsed.source.data;
    const file = text.file;
    if (data === null || data === undefined) { rep.at({ file, path: [] }, diag('FD_CONFIG_EMPTY', [])); continue; }
    if (!isObject(data)) { rep.at({ file, path: [] }, diag('FD_CONFIG_NOT_MAPPING', [])); continue; }
    if (data._format_version === undefined) { rep.at({ file, path: [] }, diag('FD_FORMAT_MISSING', [])); continue; }
    const top = parseWith(rep, topLevelSchema, data, { file, path: [] });
    if (!top) continue;
    const fv = String(top._format_version);
    if (fv === '1.1' || fv === '2.1') legacy.set(file, fv);
    else if (fv !== '3.0') { rep.at({ file, path: ['_format_version'] }, diag('FD_FORMAT_VERSION', ['_format_version'], JSON.stringify(top._format_version))); continue; }

    const pushPlugins = (list: unknown[], base: YamlPath, scope: Plugin['scope']) =>
      list.forEach((p, i) => plugins.push({ value: { ...(isObject(p) ? p : { _bad: p }), _scope: scope }, origin: { file, path: [...base, i] } }));
    const pushRoute = (r: unknown, path: YamlPath, parent?: string) => {
      const { own, children } = detach(r, ['plugins']);
      const routeKey = isObject(own) ? ((own.name ?? own.id) as string | undefined) : undefined;
      routes.push({ value: { ...(isObject(own) ? own : { _bad: own }), _parent: parent }, origin: { file, path } });
      pushPlugins(children.plugins ?? [], [...path, 'plugins'], { route: routeKey ?? `\0${file}:${path.join('.')}` });
    };

    top.services.forEach((s, i) => {
      const path = ['services', i];
      const { own, children } = detach(s, ['routes', 'plugins']);
      services.push({ value: isObject(own) ? own : { _bad: own }, origin: { file, path } });
      const key = isObject(own) ? ((own.name ?? own.id) as string | undefined) : undefined;
      (children.routes ?? []).forEach((r, j) => pushRoute(r, [...path, 'routes', j], key ?? ''));
      pushPlugins(children.plugins ?? [], [...path, 'plugins'], { service: key ?? '' });
    });
    top.routes.forEach((r, i) => pushRoute(r, ['routes', i]));
    top.upstreams.forEach((u, i) => {
      const path = ['upstreams', i];
      const { own, children } = detach(u, ['targets']);
      upstreams.push({ value: isObject(own) ? own : { _bad: own }, origin: { file, path } });
      const key = isObject(own) ? ((own.name ?? own.id) as string | undefined) : undefined;
      (children.targets ?? []).forEach((t, j) => targets.push({ value: { ...(isObject(t) ? t : { _bad: t }), _parent: key ?? '' }, origin: { file, path: [...path, 'targets', j] } }));
    });
    top.targets.forEach((t, i) => targets.push({ value: isObject(t) ? t : { _bad: t }, origin: { file, path: ['targets', i] } }));
    top.consumers.forEach((c, i) => {
      const path = ['consumers', i];
      const { own, children } = detach(c, ['plugins', 'jwt_secrets', 'keyauth_credentials', 'basicauth_credentials', 'acls']);
      consumers.push({ value: isObject(own) ? own : { _bad: own }, origin: { file, path } });
      const key = isObject(own) ? ((own.id ?? own.username ?? own.custom_id) as string | undefined) : undefined;
      for (const kind of Object.keys(creds) as (keyof typeof creds)[]) {
        (children[kind] ?? []).forEach((x, j) => creds[kind].push({ value: { ...(isObject(x) ? x : { _bad: x }), _parent: key ?? '' }, origin: { file, path: [...path, kind, j] } }));
      }
      pushPlugins(children.plugins ?? [], [...path, 'plugins'], { consumer: key ?? '' });
    });
    for (const kind of Object.keys(creds) as (keyof typeof creds)[]) {
      top[kind].forEach((x, i) => creds[kind].push({ value: isObject(x) ? x : { _bad: x }, origin: { file, path: [kind, i] } }));
    }
    pushPlugins(top.plugins, ['plugins'], {});
    top.certificates.forEach((c, i) => {
      certificates.push({ value: { ...(isObject(c) ? c : { _bad: c }), _snis: [] }, origin: { file, path: ['certificates', i] } });
    });
    top.snis.forEach((s, i) => topSnis.push({ value: isObject(s) ? s : { _bad: s }, origin: { file, path: ['snis', i] } }));
    top.ca_certificates.forEach((c, i) => caCertificates.push({ value: isObject(c) ? c : { _bad: c }, origin: { file, path: ['ca_certificates', i] } }));
    top.listeners.forEach((l, i) => listeners.push({ value: isObject(l) ? l : { _bad: l }, origin: { file, path: ['listeners', i] } }));
  }

  for (const [file, from] of legacy) {
    const n = routes.filter((r) => r.origin.file === file).reduce((acc, r) => acc + (Array.isArray(r.value.paths) ? r.value.paths.filter((p) => typeof p === 'string' && convertLegacyPath(p) !== p).length : 0), 0);
    if (n > 0) rep.at({ file, path: ['_format_version'] }, diag('FD_FORMAT_CONVERTED', ['_format_version'], from, n));
  }

  // ---- entities -------------------------------------------------------------------------
  const names = new Map<string, Map<string, Origin>>();
  const claim = (kind: string, name: string | undefined, origin: Origin, field: string) => {
    if (name === undefined) return;
    let m = names.get(kind);
    if (!m) names.set(kind, (m = new Map()));
    const first = m.get(name);
    if (first) rep.at(origin, diag('FD_DUPLICATE_NAME', [...origin.path, field], kind, name, rep.where(first)));
    else m.set(name, origin);
  };
  const aliases = (kind: string) => new Map<string, string>();
  const serviceAlias = aliases('service'); // id or name -> name
  const routeAlias = aliases('route');
  const consumerAlias = aliases('consumer');
  const upstreamAlias = aliases('upstream');
  const certAlias = aliases('certificate');

  const parsedUpstreams: Upstream[] = [];
  for (const { value, origin } of upstreams) {
    const u = parseWith(rep, upstreamSchema, value, origin);
    if (!u) continue;
    claim('upstream', u.name, origin, 'name');
    upstreamAlias.set(u.name, u.name);
    if (u.id) upstreamAlias.set(u.id, u.name);
    if (u.algorithm === 'latency') rep.at(origin, diag('FD_FIELD_NOT_IMPLEMENTED', [...origin.path, 'algorithm'], 'algorithm: latency', 'Envoy has no latency-based balancer; use least-connections'));
    notImplemented(rep, origin, 'use_srv_name', u.use_srv_name, u.use_srv_name === false, 'targets are resolved as A/AAAA records');
    notImplemented(rep, origin, 'client_certificate', u.client_certificate, false, 'upstream mutual TLS is not served yet');
    for (const f of ['hash_on', 'hash_fallback'] as const) {
      if (u[f] === 'uri_capture') notImplemented(rep, origin, f, u[f], false, 'Envoy cannot hash on a regex capture; hash on header, cookie, query_arg, path, ip or consumer');
    }
    const { created_at: _c, updated_at: _u, tags: _t, use_srv_name: _s, client_certificate: _cc, ...rest } = u;
    parsedUpstreams.push({ ...rest, targets: [], origin });
  }
  const upstreamByName = new Map(parsedUpstreams.map((u) => [u.name, u]));
  for (const { value, origin } of targets) {
    const parent = value._parent as string | undefined;
    const { _parent, ...raw } = value;
    const t = parseWith(rep, targetSchema, raw, origin);
    if (!t) continue;
    const upName = parent ?? refName(t.upstream as Ref);
    if (upName === undefined) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'upstream')); continue; }
    const up = upstreamByName.get(upstreamAlias.get(upName) ?? upName);
    if (!up) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'upstream'], 'upstream', upName, closest(upName, upstreamByName.keys()))); continue; }
    const hp = splitHostPort(t.target, 8000);
    if (!hp) { rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'target'], `target "${t.target}" is not host:port`, 'write it as host:port, e.g. 10.0.0.5:8080')); continue; }
    if (up.targets.some((x) => x.host === hp.host && x.port === hp.port)) {
      rep.at(origin, diag('FD_DUPLICATE_NAME', [...origin.path, 'target'], 'target', t.target, rep.where(up.targets.find((x) => x.host === hp.host && x.port === hp.port)!.origin)));
      continue;
    }
    up.targets.push({ target: t.target, host: hp.host, port: hp.port, weight: t.weight, origin });
  }

  const parsedServices: Service[] = [];
  /** Services refused or switched off: references to them are not "unknown", and what hangs off them goes too. */
  const invalidServices = new Set<string>();
  const disabledServices = new Set<string>();
  const caKeys = new Set(caCertificates.map(({ value }, i) => String(value.id ?? `ca-${i}`)));
  for (const { value, origin } of services) {
    const s = parseWith(rep, serviceSchema, value, origin);
    if (!s) {
      for (const k of [value.name, value.id]) if (typeof k === 'string') invalidServices.add(k);
      continue;
    }
    const name = s.name ?? s.id;
    if (!name) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'name')); continue; }
    claim('service', name, origin, 'name');
    if (!s.enabled) { disabledServices.add(name); if (s.id) disabledServices.add(s.id); continue; }
    serviceAlias.set(name, name);
    if (s.id) serviceAlias.set(s.id, name);
    let bad = notImplemented(rep, origin, 'client_certificate', s.client_certificate, false, 'upstream mutual TLS is not served yet');
    (s.ca_certificates ?? []).forEach((ref, i) => {
      if (!caKeys.has(ref)) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'ca_certificates', i], 'CA certificate', ref, closest(ref, caKeys))); bad = true; }
    });
    if (bad) { invalidServices.add(name); continue; }
    let protocol = s.protocol as ServiceProtocol | undefined;
    let host = s.host;
    let port = s.port;
    let path = s.path;
    if (s.url !== undefined) {
      const u = parseServiceUrl(s.url);
      if (!u) { rep.at(origin, diag('FD_BAD_URL', [...origin.path, 'url'], s.url)); continue; }
      const clash = (s.host !== undefined && s.host !== u.host) || (s.protocol !== undefined && s.protocol !== u.protocol)
        || (s.port !== undefined && s.port !== u.port) || (s.path !== undefined && s.path !== u.path);
      if (clash) { rep.at(origin, diag('FD_URL_AND_PARTS', [...origin.path, 'url'])); continue; }
      ({ protocol, host, port, path } = u);
    }
    if (!host) { rep.at(origin, diag('FD_SERVICE_NO_HOST', origin.path)); continue; }
    protocol ??= 'http';
    port ??= DEFAULT_PORTS[protocol] ?? 80;
    if (!['http', 'https', 'grpc', 'grpcs', 'ws', 'wss'].includes(protocol)) {
      rep.at(origin, diag('FD_FIELD_NOT_IMPLEMENTED', [...origin.path, s.url !== undefined ? 'url' : 'protocol'], `protocol: ${protocol}`, 'Frontdesk proxies HTTP, HTTPS, gRPC and WebSocket services'));
      continue;
    }
    const upstream = upstreamAlias.get(host);
    if (s.connect_timeout === 60000 || s.read_timeout === 60000 || s.write_timeout === 60000) {
      rep.at(origin, diag('FD_TRAP_DEFAULT_TIMEOUT', origin.path, name));
    }
    parsedServices.push({
      name, id: s.id, protocol, host, port, path, upstream, retries: s.retries, connect_timeout: s.connect_timeout,
      read_timeout: s.read_timeout, write_timeout: s.write_timeout, tls_verify: s.tls_verify,
      tls_verify_depth: s.tls_verify_depth, ca_certificates: s.ca_certificates, tags: s.tags, origin,
    });
  }

  const parsedRoutes: Route[] = [];
  const offRoutes = new Set<string>(); // disabled, or of a disabled or refused service
  routes.forEach(({ value, origin }, idx) => {
    const parent = value._parent;
    const { _parent, ...raw } = value;
    const r = parseWith(rep, routeSchema, raw, origin);
    if (!r) return;
    const serviceRef = parent ?? refName(r.service as Ref);
    const name = r.name ?? r.id ?? `${serviceRef ?? 'route'}.${idx}`;
    claim('route', name, origin, 'name');
    routeAlias.set(name, name);
    if (r.id) routeAlias.set(r.id, name);
    routeAlias.set(`\0${origin.file}:${origin.path.join('.')}`, name);
    let service: string | undefined;
    let off = !r.enabled;
    if (serviceRef !== undefined && serviceRef !== '') {
      service = serviceAlias.get(serviceRef);
      if (!service && (disabledServices.has(serviceRef) || invalidServices.has(serviceRef))) off = true;
      else if (!service) {
        rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, ...(parent === undefined ? ['service'] : [])], 'service', serviceRef, closest(serviceRef, [...serviceAlias.keys(), ...invalidServices])));
        return;
      }
    } else if (parent === '') off = true; // nested in a service that has neither name nor id: already reported
    if (off) { offRoutes.add(name); if (r.id) offRoutes.add(r.id); offRoutes.add(`\0${origin.file}:${origin.path.join('.')}`); }
    if (notImplemented(rep, origin, 'path_handling', r.path_handling, r.path_handling === 'v0', 'Frontdesk joins paths as path_handling v0 does')) return;
    if (notImplemented(rep, origin, 'snis', r.snis, !r.snis?.length, 'routing by TLS SNI is not served yet; match on hosts instead')) return;
    if (!r.paths?.length && !r.hosts?.length && !r.methods?.length && !r.headers && !r.snis?.length) {
      rep.at(origin, diag('FD_ROUTE_NO_MATCH', origin.path));
      return;
    }
    const isLegacy = legacy.has(origin.file);
    let bad = false;
    const paths = (r.paths ?? []).map((p, i) => {
      const converted = isLegacy ? convertLegacyPath(p) : p;
      if (!converted.startsWith('/') && !converted.startsWith('~')) {
        rep.at(origin, diag('FD_ROUTE_PATH_SLASH', [...origin.path, 'paths', i], p));
        bad = true;
      } else if (converted.startsWith('~')) {
        const problem = regexProblem(converted.slice(1));
        if (problem) { rep.at(origin, diag('FD_BAD_REGEX', [...origin.path, 'paths', i], converted.slice(1), problem)); bad = true; }
      }
      return converted;
    });
    for (const [h, values] of Object.entries(r.headers ?? {})) {
      values.forEach((v, i) => {
        if (v.startsWith('~*')) {
          const problem = regexProblem(v.slice(2));
          if (problem) { rep.at(origin, diag('FD_BAD_REGEX', [...origin.path, 'headers', h, i], v.slice(2), problem)); bad = true; }
        }
      });
    }
    const unknownMethod = (r.methods ?? []).find((m) => !/^[A-Z]+$/.test(m));
    if (unknownMethod) bad = true;
    if (bad || off) return;
    const { service: _s, enabled: _e, created_at: _c, updated_at: _u, ...rest } = r;
    parsedRoutes.push({ ...rest, name, service, paths: r.paths ? paths : undefined, origin });
  });

  const parsedConsumers: Consumer[] = [];
  for (const { value, origin } of consumers) {
    const c = parseWith(rep, consumerSchema, value, origin);
    if (!c) continue;
    if (!c.username && !c.custom_id) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'username')); continue; }
    const key = c.id ?? c.username ?? c.custom_id!;
    if (c.username) claim('consumer username', c.username, origin, 'username');
    if (c.custom_id) claim('consumer custom_id', c.custom_id, origin, 'custom_id');
    for (const k of [c.id, c.username, c.custom_id]) if (k) consumerAlias.set(k, key);
    parsedConsumers.push({
      key, id: c.id, username: c.username, custom_id: c.custom_id, tags: c.tags, origin,
      jwt_secrets: [], keyauth_credentials: [], basicauth_credentials: [], acls: [],
    });
  }
  const consumerByKey = new Map(parsedConsumers.map((c) => [c.key, c]));
  const credSchemas = { jwt_secrets: jwtSecretSchema, keyauth_credentials: keyauthCredentialSchema, basicauth_credentials: basicauthCredentialSchema, acls: aclSchema } as const;
  for (const kind of Object.keys(creds) as (keyof typeof creds)[]) {
    for (const { value, origin } of creds[kind]) {
      const parent = value._parent;
      const { _parent, ...raw } = value;
      const cred = parseWith(rep, credSchemas[kind] as z.ZodType, raw, origin) as (Raw & { consumer?: Ref }) | undefined;
      if (!cred) continue;
      const ref = parent ?? refName(cred.consumer);
      if (ref === undefined) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'consumer')); continue; }
      const consumer = consumerByKey.get(consumerAlias.get(ref) ?? '');
      if (!consumer) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'consumer'], 'consumer', ref, closest(ref, consumerAlias.keys()))); continue; }
      const { consumer: _c, created_at: _ca, tags: _t, ...rest } = cred;
      (consumer[kind] as unknown[]).push({ ...rest, origin });
    }
  }

  const parsedCerts: Certificate[] = [];
  for (const { value, origin } of certificates) {
    const { _snis, ...raw } = value;
    const c = parseWith(rep, certificateSchema, raw, origin);
    if (!c) continue;
    const snis = c.snis.map((s) => (typeof s === 'string' ? s : s.name));
    const key = c.id ?? snis[0];
    if (!key) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'id')); continue; }
    claim('certificate', key, origin, 'id');
    certAlias.set(key, key);
    for (const s of snis) certAlias.set(s, key);
    parsedCerts.push({ key, cert: c.cert, key_pem: c.key, snis, origin });
  }
  for (const { value, origin } of topSnis) {
    const name = value.name;
    const cref = refName(value.certificate as Ref);
    if (typeof name !== 'string') { rep.at(origin, diag('FD_REQUIRED', origin.path, 'name')); continue; }
    const cert = parsedCerts.find((c) => c.key === certAlias.get(cref ?? ''));
    if (!cert) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'certificate'], 'certificate', cref ?? '', closest(cref ?? '', certAlias.keys()))); continue; }
    cert.snis.push(name);
  }
  const sniOwner = new Map<string, Origin>();
  for (const c of parsedCerts) for (const s of c.snis) {
    if (sniOwner.has(s)) rep.at(c.origin, diag('FD_DUPLICATE_NAME', [...c.origin.path, 'snis'], 'sni', s, rep.where(sniOwner.get(s)!)));
    sniOwner.set(s, c.origin);
  }

  const parsedCas: CaCertificate[] = [];
  caCertificates.forEach(({ value, origin }, i) => {
    const c = parseWith(rep, caCertificateSchema, value, origin);
    if (c) parsedCas.push({ key: c.id ?? `ca-${i}`, cert: c.cert, origin });
  });

  const parsedListeners: Listener[] = [];
  const ports = new Map<string, string>();
  for (const { value, origin } of listeners) {
    const l = parseWith(rep, listenerSchema, value, origin);
    if (!l) continue;
    claim('listener', l.name, origin, 'name');
    const addr = `${l.fleet ?? ''}|${l.address}:${l.port}`;
    if (ports.has(addr)) { rep.at(origin, diag('FD_LISTENER_PORT_CLASH', [...origin.path, 'port'], l.port, ports.get(addr)!)); continue; }
    ports.set(addr, l.name);
    (l.certificates ?? []).forEach((ref, i) => {
      if (!certAlias.has(ref)) rep.at(origin, diag('FD_UNKNOWN_CERTIFICATE', [...origin.path, 'certificates', i], ref));
    });
    if (l.protocol === 'https' && !l.certificates?.length && parsedCerts.length === 0) {
      rep.at(origin, diag('FD_REQUIRED', [...origin.path, 'certificates'], 'certificates'));
    }
    parsedListeners.push({ ...l, certificates: l.certificates?.map((r) => certAlias.get(r) ?? r), origin });
  }
  const listenerNames = new Set(parsedListeners.map((l) => l.name));
  for (const r of parsedRoutes) {
    (r.listeners ?? []).forEach((l, i) => {
      if (!listenerNames.has(l)) rep.at(r.origin, diag('FD_DANGLING_REF', [...r.origin.path, 'listeners', i], 'listener', l, closest(l, listenerNames)));
    });
  }

  // ---- plugins --------------------------------------------------------------------------
  const parsedPlugins: Plugin[] = [];
  const routeNames = new Set(parsedRoutes.map((r) => r.name));
  const serviceNames = new Set(parsedServices.map((s) => s.name));
  const seen = new Map<string, Origin>();
  const known = knownPluginNames();
  for (const { value, origin } of plugins) {
    const { _scope, ...raw } = value;
    const p = parseWith(rep, pluginEntrySchema, raw, origin);
    if (!p) continue;
    const def = pluginDefinition(p.name);
    if (!def) {
      if (KONG_PLUGINS_NOT_SERVED.includes(p.name)) { rep.at(origin, diag('FD_PLUGIN_NOT_IMPLEMENTED', [...origin.path, 'name'], p.name)); continue; }
      if (!known.includes(p.name)) { rep.at(origin, diag('FD_UNKNOWN_PLUGIN', [...origin.path, 'name'], p.name, closest(p.name, known))); continue; }
    }
    let config: unknown = stripNulls(p.config);
    if (def) {
      const res = def.config.safeParse(config);
      if (!res.success) { rep.report(origin.file, issuesToDiagnostics(def.config, res.error.issues, [...origin.path, 'config'])); continue; }
      config = res.data;
    }
    if (p.enabled && !ENFORCED_PLUGINS.has(p.name)) rep.at(origin, diag('FD_PLUGIN_PENDING', [...origin.path, 'name'], p.name));
    const scope: Plugin['scope'] = {};
    const want = { service: _scope.service ?? refName(p.service as Ref), route: _scope.route ?? refName(p.route as Ref), consumer: _scope.consumer ?? refName(p.consumer as Ref) };
    let dangling = false;
    if (p.consumer_group !== undefined) {
      notImplemented(rep, origin, 'consumer_group', p.consumer_group, false, 'consumer groups are not served; scope the plugin to consumers');
      continue;
    }
    if (want.service !== undefined) {
      scope.service = serviceAlias.get(want.service);
      if (!scope.service) {
        if (!disabledServices.has(want.service) && !invalidServices.has(want.service) && want.service !== '') rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'service'], 'service', want.service, closest(want.service, serviceNames)));
        dangling = true;
      }
    }
    if (want.route !== undefined) {
      scope.route = routeAlias.get(want.route);
      if (!scope.route || !routeNames.has(scope.route)) {
        if (!want.route.startsWith('\0') && !offRoutes.has(want.route)) rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'route'], 'route', want.route, closest(want.route, routeNames)));
        dangling = true;
      }
    }
    if (want.consumer !== undefined) {
      scope.consumer = consumerAlias.get(want.consumer);
      if (!scope.consumer) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'consumer'], 'consumer', want.consumer, closest(want.consumer, consumerAlias.keys()))); dangling = true; }
    }
    if (dangling || !p.enabled) continue;
    if (def) {
      const kind = scope.route ? 'route' : scope.service ? 'service' : scope.consumer ? 'consumer' : 'global';
      if (!def.scopes.includes(kind)) { rep.at(origin, diag('FD_PLUGIN_SCOPE', origin.path, p.name, kind)); continue; }
    }
    const scopeKey = `${p.name}|${p.instance_name ?? ''}|${scope.service ?? ''}|${scope.route ?? ''}|${scope.consumer ?? ''}`;
    if (seen.has(scopeKey)) {
      rep.at(origin, diag('FD_PLUGIN_DUPLICATE', origin.path, p.name, describeScope(scope)));
      continue;
    }
    seen.set(scopeKey, origin);
    parsedPlugins.push({ name: p.name, id: p.id, instance_name: p.instance_name, config, protocols: p.protocols, scope, origin });
  }

  for (const r of parsedRoutes) {
    const names = `${r.name} ${(r.paths ?? []).join(' ')}`;
    if (!/upload|file/i.test(names) || (r.methods ?? ['POST']).every((m) => m === 'GET' || m === 'HEAD')) continue;
    const limited = parsedPlugins.some((p) => p.name === 'request-size-limiting' && !p.scope.consumer
      && (p.scope.route === r.name || (!p.scope.route && p.scope.service === r.service) || (!p.scope.route && !p.scope.service)));
    if (!limited) rep.at(r.origin, diag('FD_TRAP_NO_SIZE_LIMIT', r.origin.path, r.name));
  }

  for (const f of checkAuthz(parsedConsumers, parsedPlugins, parsedRoutes, parsedServices)) rep.at(f.origin, f.diagnostic);
  for (const f of checkRateLimiting(parsedPlugins)) rep.at(f.origin, f.diagnostic);
  const diagnostics = rep.finish();
  if (rep.hasErrors) return { diagnostics };
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const model: GatewayModel = {
    services: parsedServices.sort(byName),
    routes: parsedRoutes.sort(byName),
    upstreams: parsedUpstreams.sort(byName),
    consumers: parsedConsumers.sort(byKey),
    plugins: parsedPlugins.sort((a, b) => byName(a, b) || describeScope(a.scope).localeCompare(describeScope(b.scope))),
    certificates: parsedCerts.sort(byKey),
    caCertificates: parsedCas.sort(byKey),
    listeners: parsedListeners.sort(byName),
  };
  return { model, diagnostics };
}

function describeScope(scope: Plugin['scope']): string {
  const parts = [scope.route && `route ${scope.route}`, scope.service && `service ${scope.service}`, scope.consumer && `consumer ${scope.consumer}`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'the global scope';
}

/** `http://host:8080/path` → its parts, with Kong's defaults; undefined when it is not a URL. */
export function parseServiceUrl(url: string): { protocol: ServiceProtocol; host: string; port: number; path?: string } | undefined {
  const m = /^([a-z_]+):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?(\/[^?#]*)?$/i.exec(url.trim());
  if (!m) return undefined;
  const protocol = m[1]!.toLowerCase() as ServiceProtocol;
  if (!(SERVICE_PROTOCOLS as readonly string[]).includes(protocol)) return undefined;
  const port = m[3] ? Number(m[3]) : (DEFAULT_PORTS[protocol] ?? 80);
  if (port > 65535) return undefined;
  return { protocol, host: m[2]!.replace(/^\[|\]$/g, ''), port, path: m[4] };
}

/** `host:port`, `[v6]:port` or `host` → parts; undefined when malformed. */
export function splitHostPort(s: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
