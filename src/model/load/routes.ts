import { closest, diag } from '../../errors.js';
import { routeSchema } from '../entities.js';
import type { Origin, Route } from '../types.js';
import { omit, type Child, type Found } from './flat-config.js';
import { routeHostProblem } from './addresses.js';
import { sniProblem } from '../hostnames.js';
import { kongId } from '../../kong-ids.js';
import { placeKey, refName, type References } from './references.js';
import { memoPlace, notImplemented, parseWith, type Reporter } from './reporter.js';
import { routePaths } from './route-paths.js';
import type { LoadedServices } from './services.js';
import type { ModelMemo, RouteStep } from './model-memo.js';

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
  const steps = models?.routeSteps;
  routes.forEach((found, idx) => {
    const known = steps?.get(found);
    if (known && replayRoute(rep, refs, out, known, found, idx, services, legacy)) return;
    const mark = rep.diagnostics.length;
    const step = loadRoute(rep, refs, out, found, idx, services, legacy, models);
    if (step && steps && rep.diagnostics.length === mark) steps.set(found, step);
  });
  return out;
}

/** One route the last load took without a word, again: true when done, false when its service now resolves otherwise (load it anew). */
function replayRoute(rep: Reporter, refs: References, out: LoadedRoutes, step: RouteStep, { value, origin, source }: Found<Child>, idx: number, services: LoadedServices, legacy: ReadonlyMap<string, string>): boolean {
  if ((step.idx !== undefined && step.idx !== idx) || step.legacy !== legacy.has(origin.file)) return false;
  const link = linkService(rep, refs, services, origin, step.serviceRef, value._parent);
  if (link && (link.service !== step.service || link.off !== step.serviceOff)) return false;
  if (source) rep.memo?.known(routeSchema, source, step.place);
  refs.claim('route', step.name, origin, 'name');
  for (const alias of step.aliases) refs.route.set(alias, step.name);
  if (!link) { quiet(out.off, ...step.aliases); return true; } // its service is gone: reported there, as loadRoute would
  if (step.off) quiet(out.off, ...step.aliases);
  if (step.route) out.routes.push(step.route);
  return true;
}

/** One route through its schema and checks; what it did, for a replay (undefined when it was refused or its service was not found). */
function loadRoute(rep: Reporter, refs: References, out: LoadedRoutes, { value, origin, source }: Found<Child>, idx: number, services: LoadedServices, legacy: ReadonlyMap<string, string>, models?: ModelMemo): RouteStep | undefined {
  const parent = value._parent;
  // Refused or switched off: plugins that name this route go quietly (its own error, if any, is reported).
  const r = parseWith(rep, routeSchema, () => omit(value, ['_parent']), origin, { source });
  if (!r) { quiet(out.off, value.name, value.id, typeof value.name === 'string' ? kongId('routes', value.name) : undefined, placeKey(origin)); return undefined; }
  const serviceRef = parent ?? refName(r.service);
  const name = r.name ?? r.id ?? `${serviceRef ?? 'route'}.${idx}`;
  // Kong gives a route without a name a random id; here it comes from where the route is written.
  const id = r.id ?? kongId('routes', r.name ?? placeKey(origin).slice(1));
  const aliases = [name, id, placeKey(origin)];
  refs.claim('route', name, origin, 'name');
  for (const alias of aliases) refs.route.set(alias, name);
  const link = linkService(rep, refs, services, origin, serviceRef, parent);
  if (!link) { quiet(out.off, ...aliases); return undefined; }
  const off = link.off || !r.enabled;
  const step: RouteStep = { name, aliases, place: memoPlace(origin), ...(r.name ?? r.id ? {} : { idx }), serviceRef, service: link.service, serviceOff: link.off, legacy: legacy.has(origin.file), off };
  if (off) quiet(out.off, ...aliases);
  if (r.snis?.length) {
    // Kong's route schema: snis only on a route that can be reached over TLS.
    if (!r.protocols.some((p) => TLS_PROTOCOLS.has(p))) {
      rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'snis'], "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'", 'add https (or grpcs) to protocols, or remove snis'));
      return refuse(out, aliases);
    }
    const bad = r.snis.flatMap((n, i) => (sniProblem(n) ? [{ n, i, problem: sniProblem(n)! }] : []));
    for (const { n, i, problem } of bad) rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, 'snis', i], `"${n}" is not an SNI: ${problem}`, 'an SNI is a host name without a port (one * as the leftmost or rightmost label)'));
    if (bad.length) return refuse(out, aliases);
  }
  const stream = r.protocols.filter((p) => STREAM_PROTOCOLS.has(p));
  if (stream.length) {
    if (!checkStreamRoute(rep, origin, r, stream.length === r.protocols.length)) return refuse(out, aliases);
    if (off) return step;
    step.route = made(models, r, ['stream', id, name, link.service, origin], () => Object.assign(omit(r, NOT_IN_MODEL), { id, name, service: link.service, origin }));
    out.routes.push(step.route);
    return step;
  }
  for (const field of ['sources', 'destinations'] as const) {
    if (r[field]?.length) {
      rep.at(origin, diag('FD_INVALID_VALUE', [...origin.path, field], `'${field}' can only be set when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'`, `remove ${field}, or make it a stream route`));
      return refuse(out, aliases);
    }
  }
  if (!r.paths?.length && !r.hosts?.length && !r.methods?.length && !r.headers && !r.snis?.length) {
    rep.at(origin, diag('FD_ROUTE_NO_MATCH', origin.path));
    return refuse(out, aliases);
  }
  const badHosts = (r.hosts ?? []).flatMap((h, i) => { const problem = routeHostProblem(h); return problem ? [{ h, i, problem }] : []; });
  for (const { h, i, problem } of badHosts) rep.at(origin, diag('FD_BAD_HOST', [...origin.path, 'hosts', i], h, problem));
  const paths = routePaths(rep, origin, r, legacy.has(origin.file));
  if (!paths || badHosts.length) return refuse(out, aliases);
  if (off) return step;
  step.route = made(models, r, ['http', id, name, link.service, r.paths ? paths : undefined, origin], () => Object.assign(omit(r, NOT_IN_MODEL), { id, name, service: link.service, paths: r.paths ? paths : undefined, origin }));
  out.routes.push(step.route);
  return step;
}

/** The model route of a route unchanged since the last load is the object made then. */
function made<T>(models: ModelMemo | undefined, r: object, parts: unknown[], make: () => T): T {
  return models ? models.made(r, parts, make) : make();
}

/** A route its checks refused (reported): its names go quietly. */
function refuse(out: LoadedRoutes, aliases: readonly string[]): undefined {
  quiet(out.off, ...aliases);
  return undefined;
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
