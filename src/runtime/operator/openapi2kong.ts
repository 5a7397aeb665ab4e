import { writeFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { stringify } from 'yaml';
import { DNS_NAMESPACE, uuidV5 } from '../../uuid-v5.js';
import { compareText } from '../../text-order.js';

/**
 * OpenAPI 3.0 / 3.1 → a kong.yml, following `deck file openapi2kong` (go-apiops'
 * openapi2kong, the converter decK runs):
 * - names: the document's `x-kong-name` or `info.title`, slugified; a route is
 *   `<doc>_<operationId>`, or `<doc>_<path>_<method>` (a path ending in "/" gets a "~"), or
 *   `<path name>_<x-kong-name>` on the operation; `x-kong-name` on a path names its part;
 * - one service per document (and per path or operation that has its own `servers` or
 *   `x-kong-service-defaults` / `x-kong-upstream-defaults`); several servers, or upstream
 *   defaults, make an upstream `<name>.upstream` with one target per server;
 * - routes: one per path and method, the path as an anchored regex (`~/items/(?<id>[^#?/]+)$`)
 *   with `regex_priority` 200 (100 when it has parameters), `strip_path: false`, and
 *   `x-kong-route-defaults` on top;
 * - plugins: `x-kong-plugin-<name>` on the document, a path or an operation (inherited
 *   downwards, the lower level wins per plugin name); consumer-bound ones at the top level;
 * - tags: `--select-tag` or else the document's `x-kong-tags` (none by default) on every entity;
 * - ids: uuid v5 in the DNS namespace of `<name>.service`, `<name>.route`, `<name>.upstream`
 *   and `<name>.plugin.<plugin>`, so a second run gives the same ids.
 * `$ref`s, `x-kong-*` references to `#/components/x-kong/...` included, are resolved by
 * @apidevtools/swagger-parser, which also validates the document.
 */

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** uuid v5 of `name` in the DNS namespace, as decK generates its ids. */
const uuidV5Dns = (name: string) => uuidV5(DNS_NAMESPACE, name);

/** decK's slug: ASCII-folded, words joined by "-", anything else than [a-zA-Z0-9-] a "-", no "-" at the ends, lower case. */
export function slugify(s: string): string {
  const ascii = s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return ascii.trim().split(/\s+/).join('-').replace(/[^-a-zA-Z0-9]/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '').toLowerCase();
}

function kongName(o: Obj): string | undefined {
  const v = o['x-kong-name'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error("expected 'x-kong-name' to be a string");
  return v;
}

function defaults(o: Obj, key: string): Obj | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new Error(`expected '${key}' to be an object`);
  return structuredClone(v);
}

interface Server { url: string; variables?: Record<string, { default: string }> }

function targets(servers: Server[] | undefined): URL[] {
  if (!servers?.length) return [new URL('https://localhost/')];
  return servers.map((s) => {
    let u = s.url;
    for (const [k, v] of Object.entries(s.variables ?? {})) u = u.replaceAll(`{${k}}`, v.default);
    // A relative server url ("/api") is a path on localhost, as decK reads it.
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `https://localhost${u.startsWith('/') ? '' : '/'}${u}`);
  });
}

function portOf(u: URL): number {
  return u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443;
}

function makeService(name: string, servers: Server[] | undefined, svcDefaults: Obj | undefined, upDefaults: Obj | undefined, tags: string[]): { service: Obj; upstream?: Obj } {
  const service: Obj = { ...(svcDefaults ?? {}) };
  service.id = uuidV5Dns(`${name}.service`);
  service.name = name;
  service.tags = tags;
  service.plugins = [];
  service.routes = [];
  const ts = targets(servers);
  const first = ts[0]!;
  service.protocol ??= first.protocol.replace(/:$/, '');
  service.path ??= first.pathname || '/';
  service.port ??= portOf(first);
  let upstream: Obj | undefined;
  if (service.host === undefined) {
    if (ts.length === 1 && !upDefaults) service.host = first.hostname;
    else {
      upstream = { ...(upDefaults ?? {}) };
      upstream.id = uuidV5Dns(`${name}.upstream`);
      upstream.name = `${name}.upstream`;
      upstream.tags = tags;
      upstream.targets = Array.isArray(upstream.targets)
        ? (upstream.targets as Obj[]).map((t) => ({ ...t, tags }))
        : ts.map((t) => ({ target: `${t.hostname}:${portOf(t)}`, tags }));
      service.host = upstream.name;
    }
  }
  return { service, ...(upstream ? { upstream } : {}) };
}

type Plugins = Map<string, Obj>;

function plugins(o: Obj, inherit: Plugins | undefined, baseName: string, tags: string[]): Plugins {
  const out: Plugins = new Map();
  for (const [name, p] of inherit ?? []) out.set(name, { ...structuredClone(p), id: uuidV5Dns(`${baseName}.plugin.${name}`), tags });
  for (const [k, v] of Object.entries(o)) {
    if (!k.startsWith('x-kong-plugin-')) continue;
    if (!isObject(v)) throw new Error(`expected '${k}' to be an object`);
    const name = k.slice('x-kong-plugin-'.length);
    const p: Obj = { ...structuredClone(v), name, id: uuidV5Dns(`${baseName}.plugin.${name}`), tags };
    delete p.service;
    delete p.route;
    out.set(name, p);
  }
  return new Map([...out].sort(([a], [b]) => compareText(a, b)));
}

/** Plugins bound to a consumer go to the top level, pointing at their service or route by name. */
function attach(list: Plugins, key: 'service' | 'route', owner: string, top: Obj[]): Obj[] {
  const own: Obj[] = [];
  for (const p of list.values()) {
    if (p.consumer !== undefined) top.push({ ...p, [key]: owner });
    else own.push(p);
  }
  return own;
}

/** decK's route path: regex characters escaped, `{param}` a named capture of one segment, anchored. */
function routePath(path: string): { path: string; priority: number } {
  let p = path;
  for (const c of ['(', ')', '.', '+', '?', '*', '[']) p = p.replaceAll(c, `\\${c}`);
  let priority = 200;
  p = p.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    priority = 100;
    return `(?<${name.trim().split(/\s+/).join('_').replace(/[^_a-zA-Z0-9]/g, '_').replace(/_{2,}/g, '_').replace(/^_+|_+$/g, '').toLowerCase()}>[^#?/]+)`;
  });
  return { path: `~${p}$`, priority };
}

/** `tags`: decK's --select-tag; `docName`: its --uuid-base (the base of names and ids). */
export interface O2kOptions { tags?: string[]; docName?: string }

/** Converts an OpenAPI document (a path, or an object) to a kong.yml object. */
export async function openapiToKong(spec: string | Obj, o: O2kOptions): Promise<Obj> {
  const doc = (await SwaggerParser.dereference(structuredClone(spec) as never)) as unknown as Obj;
  const version = String(doc.openapi ?? doc.swagger ?? '');
  if (!/^3\.[01]\./.test(version)) throw new Error(`expected an OpenAPI 3.0 or 3.1 document, got ${doc.swagger ? `Swagger ${version}` : `"${version}"`}`);
  const xtags = doc['x-kong-tags'];
  if (xtags !== undefined && (!Array.isArray(xtags) || xtags.some((t) => typeof t !== 'string'))) throw new Error("expected 'x-kong-tags' to be an array of strings");
  const tags = o.tags ?? (xtags as string[] | undefined) ?? [];
  const info = isObject(doc.info) ? doc.info : {};
  const docName = slugify(o.docName ?? kongName(doc) ?? (typeof info.title === 'string' && info.title ? info.title : uuidV5Dns(JSON.stringify(doc))));
  const services: Obj[] = [];
  const upstreams: Obj[] = [];
  const topPlugins: Obj[] = [];
  const docSvcDefaults = defaults(doc, 'x-kong-service-defaults');
  const docUpDefaults = defaults(doc, 'x-kong-upstream-defaults');
  const docRouteDefaults = defaults(doc, 'x-kong-route-defaults');
  const docServers = doc.servers as Server[] | undefined;
  const docSvc = makeService(docName, docServers, docSvcDefaults, docUpDefaults, tags);
  services.push(docSvc.service);
  if (docSvc.upstream) upstreams.push(docSvc.upstream);
  const docPlugins = plugins(doc, undefined, docName, tags);
  docSvc.service.plugins = attach(docPlugins, 'service', docName, topPlugins);
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const path of Object.keys(paths).sort()) {
    const item = paths[path] as Obj;
    const given = kongName(item);
    let pathName = given !== undefined ? slugify(given) : `${slugify(path)}${path.endsWith('/') ? '~' : ''}`;
    pathName = pathName ? `${docName}_${pathName}` : docName;
    const pathSvcDefaults = defaults(item, 'x-kong-service-defaults');
    const pathUpDefaults = defaults(item, 'x-kong-upstream-defaults');
    const pathRouteDefaults = defaults(item, 'x-kong-route-defaults') ?? docRouteDefaults;
    const ownServers = Array.isArray(item.servers) && item.servers.length > 0;
    const newPathService = ownServers || pathSvcDefaults !== undefined || pathUpDefaults !== undefined;
    let pathService = docSvc.service;
    let pathPlugins: Plugins;
    const pathServers = ownServers ? (item.servers as Server[]) : docServers;
    if (newPathService) {
      const made = makeService(pathName, pathServers, pathSvcDefaults ?? docSvcDefaults, pathUpDefaults ?? docUpDefaults, tags);
      pathService = made.service;
      services.push(pathService);
      if (made.upstream) {
        if (ownServers || pathUpDefaults) upstreams.push(made.upstream);
        else pathService.host = docSvc.service.host;
      }
      pathPlugins = plugins(item, docPlugins, pathName, tags);
      pathService.plugins = attach(pathPlugins, 'service', pathName, topPlugins);
    } else {
      pathPlugins = plugins(item, undefined, pathName, tags);
    }
    for (const method of METHODS.filter((m) => isObject(item[m])).sort()) {
      const op = item[method] as Obj;
      const opGiven = kongName(op);
      const opName = opGiven !== undefined ? `${pathName}_${slugify(opGiven)}`
        : typeof op.operationId === 'string' && op.operationId ? `${docName}_${slugify(op.operationId)}` : `${pathName}_${slugify(method)}`;
      const opSvcDefaults = defaults(op, 'x-kong-service-defaults');
      const opUpDefaults = defaults(op, 'x-kong-upstream-defaults');
      const opRouteDefaults = defaults(op, 'x-kong-route-defaults') ?? pathRouteDefaults;
      const opServers = Array.isArray(op.servers) && op.servers.length > 0;
      const newOpService = opServers || opSvcDefaults !== undefined || opUpDefaults !== undefined;
      let service = pathService;
      let opPlugins: Plugins;
      if (newOpService) {
        const made = makeService(opName, opServers ? (op.servers as Server[]) : pathServers, opSvcDefaults ?? pathSvcDefaults ?? docSvcDefaults, opUpDefaults ?? pathUpDefaults ?? docUpDefaults, tags);
        service = made.service;
        services.push(service);
        if (made.upstream) {
          if (opServers || opUpDefaults) upstreams.push(made.upstream);
          else service.host = pathService.host;
        }
        opPlugins = plugins(op, plugins(item, plugins(doc, undefined, opName, tags), opName, tags), opName, tags);
      } else if (!newPathService) {
        opPlugins = plugins(op, pathPlugins, opName, tags);
      } else {
        opPlugins = plugins(op, undefined, opName, tags);
      }
      const route: Obj = { ...(opRouteDefaults ? structuredClone(opRouteDefaults) : {}) };
      delete route.service;
      const { path: regexPath, priority } = routePath(path);
      route.plugins = attach(opPlugins, 'route', opName, topPlugins);
      route.paths = [regexPath];
      route.id = uuidV5Dns(`${opName}.route`);
      route.name = opName;
      route.methods = [method.toUpperCase()];
      route.tags = tags;
      route.regex_priority = priority;
      route.strip_path ??= false;
      (service.routes as Obj[]).push(route);
    }
  }
  const out: Obj = { _format_version: '3.0', services, upstreams };
  if (topPlugins.length) out.plugins = topPlugins.sort((a, b) => compareText(String(a.name), String(b.name)) || compareText(String(a.id), String(b.id)));
  return out;
}

/** `frontdesk openapi2kong SPEC [--select-tag A,B] [--uuid-base NAME] [--output FILE]`: the kong.yml as YAML. */
export async function runOpenapi2Kong(spec: string, o: O2kOptions & { output?: string }, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    const text = stringify(await openapiToKong(spec, o), { lineWidth: 0 });
    if (o.output) writeFileSync(o.output, text);
    else out.write(text);
    return 0;
  } catch (e) {
    err.write(`${spec}: error: ${(e as Error).message}\n`);
    return 1;
  }
}
