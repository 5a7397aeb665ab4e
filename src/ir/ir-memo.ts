import type { Certificate, GatewayModel, Plugin, Route, Service, Upstream } from '../model/types.js';
import type { Backend, IrCertificate, IrRoute, IrStreamRoute, RoutePlugins } from './types.js';

/** The inputs a route's IR reads beyond the route, its service and its upstream: every plugin (scopes are merged over all of them) and the consumers' keys (consumer-scoped plugins are kept per key). */
interface Scope { plugins: readonly Plugin[]; consumers: readonly string[] }

interface RouteEntry { scope: Scope; service?: Service; upstream?: Upstream; ir: IrRoute[] }
interface BackendEntry { upstream?: Upstream; ca: GatewayModel['caCertificates']; backend: Backend }

/**
 * What one IR build keeps for the next (a compile cache holds one): the IR objects made for
 * each model object, found by the model object's identity (the model memo hands out the same
 * object for an entity whose content did not change). An IR route is reused when its model
 * route, service and upstream are the same objects and the plugins are the same objects (the
 * consumers the same keys) as when it was built; a backend when its service, upstream and the CA certificates
 * are. The IR built through the memo is then the same as one built without it, and its
 * unchanged parts are the same objects as last time, so translation finds them by identity.
 * Pure: a cache in memory, no I/O.
 */
export class IrMemo {
  private scope?: Scope;
  private routes = new WeakMap<Route, RouteEntry>();
  private streams = new WeakMap<Route, IrStreamRoute>();
  private backends = new WeakMap<Service, BackendEntry>();
  private certificates = new WeakMap<Certificate, IrCertificate>();
  private global?: { scope: Scope; plugins: RoutePlugins };
  /** The last build's routes in their order (a one-route edit sorts one route into them). */
  private lastOrder: IrRoute[] = [];
  /** Routes reused and built by the last build (a figure for tests and benchmarks). */
  reused = 0;
  built = 0;

  /** Starts a build of `model`: what was built under other plugins or consumers is not reused. */
  begin(model: GatewayModel): void {
    const s = this.scope;
    const keys = model.consumers.map((c) => c.key);
    if (!s || !sameItems(s.plugins, model.plugins) || !sameItems(s.consumers, keys)) this.scope = { plugins: model.plugins, consumers: keys };
    this.reused = this.built = 0;
  }

  /** The IR routes of `r` (one per path) from the last builds, or those `make` builds (then kept). */
  route(r: Route, service: Service | undefined, upstream: Upstream | undefined, make: () => IrRoute[]): IrRoute[] {
    const scope = this.scope!;
    const e = this.routes.get(r);
    if (e && e.scope === scope && e.service === service && e.upstream === upstream) { this.reused += e.ir.length; return e.ir; }
    const ir = make();
    this.built += ir.length;
    this.routes.set(r, { scope, service, upstream, ir });
    return ir;
  }

  stream(r: Route, make: () => IrStreamRoute): IrStreamRoute {
    let ir = this.streams.get(r);
    if (!ir) this.streams.set(r, (ir = make()));
    return ir;
  }

  backend(s: Service, upstream: Upstream | undefined, ca: GatewayModel['caCertificates'], make: () => Backend): Backend {
    const e = this.backends.get(s);
    if (e && e.upstream === upstream && sameItems(e.ca, ca)) return e.backend;
    const backend = make();
    this.backends.set(s, { upstream, ca, backend });
    return backend;
  }

  certificate(c: Certificate, make: () => IrCertificate): IrCertificate {
    let ir = this.certificates.get(c);
    if (!ir) this.certificates.set(c, (ir = make()));
    return ir;
  }

  globalPlugins(make: () => RoutePlugins): RoutePlugins {
    const scope = this.scope!;
    if (this.global?.scope !== scope) this.global = { scope, plugins: make() };
    return this.global.plugins;
  }

  /**
   * `routes` sorted with `compare`, a total order (so the result does not depend on the order
   * given): the routes the last build had are put in its order first, so that the sort only
   * places the new ones (the engine's sort finds the sorted run).
   */
  sort(routes: IrRoute[], compare: (a: IrRoute, b: IrRoute) => number): IrRoute[] {
    const now = new Set(routes);
    const ordered = this.lastOrder.filter((r) => now.delete(r));
    for (const r of now) ordered.push(r);
    ordered.sort(compare);
    this.lastOrder = ordered;
    return ordered;
  }
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
