import { closest, diag } from '../../errors.js';
import { routeSchema } from '../entities.js';
import type { Origin, Route } from '../types.js';
import { omit, type Child, type Found } from './flat-config.js';
import { routeHostProblem } from './addresses.js';
import { sniProblem } from '../hostnames.js';
import { kongId } from '../../kong-ids.js';
import { placeKey, refName, type References } from './references.js';
import { notImplemented, parseWith, type Reporter } from './reporter.js';
import { routePaths } from './route-paths.js';
import type { LoadedServices } from './services.js';
import type { ModelMemo } from './model-memo.js';

/** The route protocols Kong reaches over TLS, where the client's SNI is known. */
const TLS_PROTOCOLS = new Set(['https', 'grpcs', 'wss', 'tls', 'tls_passthrough']);

/** Kong's stream route protocols (stream_listen), served on tcp and tls listeners. */
export const STREAM_PROTOCOLS = new Set(['tcp', 'tls', 'tls_passthrough', 'udp']);

/** A stream route as Kong's schema has it: stream protocols only, no HTTP criteria, something to match on. */
function checkStreamRoute(rep: Reporter, origin: Origin, r: ReturnType<typeof routeSchema.parse>, onlyStream: boolean): boolean {
  if (!onlyStream) {
    rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'protocols'], 'a route is either an HTTP route or a stream route: tcp, tls, tls_passthrough and udp do not mix with HTTP protocols', 'split it into two routes'));
    return false;
  }
  if (r.protocols.includes('udp')) {
    rep.at(origin, diag('FD_FIELD_NOT_IMPLEMENTED', [...origin.path, 'protocols'], 'protocols: udp', 'Frontdesk proxies TCP and TLS streams, not UDP'));
    return false;
  }
  for (const field of ['paths', 'hosts', 'methods', 'headers'] as const) {
    if (r[field] !== undefined) {
      rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, field], `'${field}' cannot be set on a stream route (protocols ${r.protocols.join(', ')})`, 'match a stream route on snis, sources or destinations'));
      return false;
    }
  }
  if (r.protocols.includes('tls_passthrough') && !r.snis?.length) {
    rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'snis'], "'snis' is required when 'protocols' is 'tls_passthrough'", 'name the server names the route passes through'));
    return false;
  }
  if (!r.snis?.length && !r.sources?.length && !r.destinations?.length) {
    rep.at(origin, diag('FD_INVALID_VALUE', origin.path, "must set one of 'sources', 'destinations', 'snis' when 'protocols' is 'tcp', 'tls' or 'udp'", 'give the route destinations (the listener port), sources or snis'));
    return false;
  }
  return true;
}

/** Fields a route's schema reads that the model's route does not hold. */
const NOT_IN_MODEL = ['service', 'enabled', 'created_at', 'updated_at'] as const;

export interface LoadedRoutes {
  routes: Route[];
  /** Names, ids and places of routes switched off, or of a service switched off or refused: plugins on them go quietly. */
  off: Set<string>;
}

/** Routes: named (or given `<service>.<index>`), their service resolved, paths converted and checked. */
export function loadRoutes(rep: Reporter, refs: References, routes: readonly Found<Child>[], services: LoadedServices, legacy: ReadonlyMap<string, string>, models?: ModelMemo): LoadedRoutes {
  const out: LoadedRoutes = { routes: [], off: new Set() };
  routes.forEach(({ value, origin, source }, idx) => {
    const parent = value._parent;
    // Refused or switched off: plugins that name this route go quietly (its own error, if any, is reported).
    const r = parseWith(rep, routeSchema, () => omit(value, ['_parent']), origin, { source });
    if (!r) { quiet(out.off, value.name, value.id, typeof value.name === 'string' ? kongId('routes', value.name) : undefined, placeKey(origin)); return; }
    const serviceRef = parent ?? refName(r.service);
    const name = r.name ?? r.id ?? `${serviceRef ?? 'route'}.${idx}`;
    // Kong gives a route without a name a random id; here it comes from where the route is written.
    const id = r.id ?? kongId('routes', r.name ?? placeKey(origin).slice(1));
    refs.claim('route', name, origin, 'name');
    for (const alias of [name, id, placeKey(origin)]) refs.route.set(alias, name);
    const link = linkService(rep, refs, services, origin, serviceRef, parent);
    if (!link) { quiet(out.off, name, id, placeKey(origin)); return; }
    const off = link.off || !r.enabled;
    if (off) quiet(out.off, name, id, placeKey(origin));
    if (r.snis?.length) {
      // Kong's route schema: snis only on a route that can be reached over TLS.
      if (!r.protocols.some((p) => TLS_PROTOCOLS.has(p))) {
        rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'snis'], "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'", 'add https (or grpcs) to protocols, or remove snis'));
        quiet(out.off, name, id, placeKey(origin)); return;
      }
      const bad = r.snis.flatMap((n, i) => (sniProblem(n) ? [{ n, i, problem: sniProblem(n)! }] : []));
      for (const { n, i, problem } of bad) rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'snis', i], `"${n}" is not an SNI: ${problem}`, 'an SNI is a host name without a port (one * as the leftmost or rightmost label)'));
      if (bad.length) { quiet(out.off, name, id, placeKey(origin)); return; }
    }
    const stream = r.protocols.filter((p) => STREAM_PROTOCOLS.has(p));
    if (stream.length) {
      if (!checkStreamRoute(rep, origin, r, stream.length === r.protocols.length)) { quiet(out.off, name, id, placeKey(origin)); return; }
      if (off) return;
      out.routes.push(made(models, r, ['stream', id, name, link.service, origin], () => Object.assign(omit(r, NOT_IN_MODEL), { id, name, service: link.service, origin })));
      return;
    }
    for (const field of ['sources', 'destinations'] as const) {
      if (r[field]?.length) {
        rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, field], `'${field}' can only be set when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'`, `remove ${field}, or make it a stream route`));
        quiet(out.off, name, id, placeKey(origin)); return;
      }
    }
    if (!r.paths?.length && !r.hosts?.length && !r.methods?.length && !r.headers && !r.snis?.length) {
      rep.at(origin, diag('FD_ROUTE_NO_MATCH', origin.path));
      quiet(out.off, name, id, placeKey(origin));
      return;
    }
    const badHosts = (r.hosts ?? []).flatMap((h, i) => { const problem = routeHostProblem(h); return problem ? [{ h, i, problem }] : []; });
    for (const { h, i, problem } of badHosts) rep.at(origin, diag('FD_BAD_HOST', [...origin.path, 'hosts', i], h, problem));
    const paths = routePaths(rep, origin, r, legacy.has(origin.file));
    if (!paths || badHosts.length) quiet(out.off, name, id, placeKey(origin));
    if (badHosts.length) return;
    if (!paths || off) return;
    out.routes.push(made(models, r, ['http', id, name, link.service, r.paths ? paths : undefined, origin], () => Object.assign(omit(r, NOT_IN_MODEL), { id, name, service: link.service, paths: r.paths ? paths : undefined, origin })));
  });
  return out;
}

/** The model route of a route unchanged since the last load is the object made then. */
function made<T>(models: ModelMemo | undefined, r: object, parts: unknown[], make: () => T): T {
  return models ? models.made(r, parts, make) : make();
}

/** Marks a route's names, ids and places as off (not a closure per route: this runs for every route of every load). */
function quiet(off: Set<string>, ...keys: unknown[]): void {
  for (const k of keys) if (typeof k === 'string') off.add(k);
}

/** The route's service by name or id; `off` when that service is switched off or refused; undefined (reported) when there is none. */
function linkService(rep: Reporter, refs: References, services: LoadedServices, origin: Origin, serviceRef: string | undefined, parent: string | undefined): { service?: string; off: boolean } | undefined {
  if (serviceRef === undefined || serviceRef === '') return { off: parent === '' }; // nested in a service with neither name nor id: already reported
  const service = refs.service.get(serviceRef);
  if (service) return { service, off: false };
  if (services.disabled.has(serviceRef) || services.refused.has(serviceRef)) return { off: true };
  rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, ...(parent === undefined ? ['service'] : [])], 'service', serviceRef, closest(serviceRef, [...refs.service.keys(), ...services.refused])));
  return undefined;
}
