import { diag, type Diagnostic, type YamlPath } from '../errors.js';
import type { Json } from '../json.js';
import type { GatewayModel, Origin } from '../model/types.js';
import { parseYamlSource, type SourceText, type YamlSource } from '../model/yaml-source.js';
import type { Translation } from '../resources/translate.js';
import { TYPE } from '../resources/type-urls.js';
import { messageType } from '../xds/proto-registry.js';
import { validateMessage, validateResource, type Violation } from '../xds/validate/pgv.js';

/**
 * The checks of the objects seen before (by identity: translate with a memo hands back the
 * same object for an unchanged entity). A RouteConfiguration is checked route by route, so a
 * one-route edit checks one route and the configuration around the routes.
 */
export class CheckCache {
  private readonly known = new WeakMap<object, Violation[]>();

  violations(typeUrl: string, resource: Json): Violation[] {
    if (resource === null || typeof resource !== 'object') return validateResource(typeUrl, resource);
    if (typeUrl === TYPE.route) return this.routeConfiguration(resource as RouteConfigurationJson);
    return this.cached(resource, () => validateResource(typeUrl, resource));
  }

  private cached(o: object, make: () => Violation[]): Violation[] {
    let v = this.known.get(o);
    if (!v) this.known.set(o, (v = make()));
    return v;
  }

  /**
   * The routes one by one; when none has a violation, the rest of the configuration with its
   * routes left out (the checks of a virtual host do not look into its routes). When a route has
   * one, the whole resource is checked again, so the violations and their order are exactly a
   * full check's.
   */
  private routeConfiguration(rc: RouteConfigurationJson): Violation[] {
    const route = messageType('envoy.config.route.v3.Route');
    let clean = true;
    for (const vh of rc.virtual_hosts ?? []) {
      for (const r of vh.routes ?? []) if (this.cached(r, () => validateMessage(route, r as Json)).length) clean = false;
    }
    if (!clean) return validateResource(TYPE.route, rc as unknown as Json);
    const shell = { ...rc, virtual_hosts: (rc.virtual_hosts ?? []).map(({ routes: _routes, ...vh }) => vh) };
    return validateResource(TYPE.route, shell as unknown as Json);
  }
}

type RouteConfigurationJson = { virtual_hosts?: ({ routes?: object[] } & { [k: string]: Json })[] } & { [k: string]: Json };

/**
 * The compile step after translate: every Envoy resource checked against what Envoy enforces
 * (xds/validate), so that nothing Envoy would NACK is ever pushed. A failure becomes a
 * diagnostic at the YAML entity that produced the resource: the resource's name leads back
 * to its route (and path), service, certificate or listener.
 */
export function checkResources(translation: Translation, model: GatewayModel, texts: SourceText[], cache?: CheckCache): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<Json>();
  const reported = new Set<string>();
  const sources = new Map<string, YamlSource | undefined>();
  const locate = (o: Origin) => {
    if (!sources.has(o.file)) {
      const t = texts.find((x) => x.file === o.file);
      sources.set(o.file, t ? parseYamlSource(t).source : undefined);
    }
    return sources.get(o.file)?.locate(o.path);
  };
  for (const types of translation.fleets.values()) {
    for (const [typeUrl, resources] of types) {
      for (const [name, resource] of resources) {
        if (seen.has(resource)) continue; // shared by several fleets: the same object
        seen.add(resource);
        for (const v of cache ? cache.violations(typeUrl, resource) : validateResource(typeUrl, resource)) {
          const origin = originOf(model, typeUrl, resource, v) ?? fallbackOrigin(model, texts);
          const pos = origin ? locate(origin) : undefined;
          const at = `${origin?.file}:${pos?.line}:${pos?.col}`;
          if (pos && reported.has(at)) continue; // one entity, one diagnostic: the first thing Envoy would refuse
          reported.add(at);
          out.push({
            ...(v.neverMatches
              ? diag('FD_ROUTE_NEVER_MATCHES', origin?.path ?? [], name, v.field, v.reason)
              : diag('FD_ENVOY_REJECTS', origin?.path ?? [], kindOf(typeUrl), name, v.field, v.reason)),
            ...(origin ? { file: origin.file } : {}),
            ...(pos ? { line: pos.line, col: pos.col } : {}),
          });
        }
      }
    }
  }
  return out;
}

function kindOf(typeUrl: string): string {
  switch (typeUrl) {
    case TYPE.route: return 'route configuration';
    case TYPE.cluster: return 'cluster';
    case TYPE.endpoint: return 'endpoints';
    case TYPE.listener: return 'listener';
    case TYPE.secret: return 'secret';
    default: return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  }
}

const stripPrefix = (name: string, prefix: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : undefined);

/** The YAML entity (and, where it is known, the field) a failing resource came from. */
function originOf(model: GatewayModel, typeUrl: string, resource: Json, v: Violation): Origin | undefined {
  const name = (resource as { name?: unknown }).name;
  if (typeof name !== 'string') return undefined;
  if (typeUrl === TYPE.route) {
    const m = /^virtual_hosts\[(\d+)\]\.routes\[(\d+)\](?:\.(.*))?$/.exec(v.field);
    if (m) {
      const vhs = (resource as { virtual_hosts?: { routes?: { name?: string }[] }[] }).virtual_hosts;
      // Kong route names hold no ':'; Frontdesk's extra Envoy routes for one are `<id>:exact`, `<id>:port`.
      const routeId = vhs?.[Number(m[1])]?.routes?.[Number(m[2])]?.name?.replace(/:[a-z]+$/, '');
      const o = routeId === undefined ? undefined : routeOrigin(model, routeId, m[3] ?? '');
      if (o) return o;
    }
    return listenerOrigin(model, stripPrefix(name, 'listener:'));
  }
  if (typeUrl === TYPE.cluster || typeUrl === TYPE.endpoint) {
    const svc = model.services.find((s) => s.name === stripPrefix(name, 'service:'));
    // Endpoints, load balancing and health checks come from the service's upstream, when it has one.
    const upstream = svc?.upstream === undefined ? undefined : model.upstreams.find((u) => u.name === svc.upstream);
    if (upstream && (typeUrl === TYPE.endpoint || /^(load_assignment|health_checks|outlier_detection|lb_policy|ring_hash_lb_config|common_lb_config)/.test(v.field))) {
      return { file: upstream.origin.file, path: v.field.startsWith('health_checks') ? [...upstream.origin.path, 'healthchecks'] : upstream.origin.path };
    }
    return svc?.origin;
  }
  if (typeUrl === TYPE.secret) {
    const key = stripPrefix(name, 'certificate:');
    const c = model.certificates.find((x) => x.key === key);
    if (!c) return undefined;
    return { file: c.origin.file, path: [...c.origin.path, v.field.startsWith('private_key') || v.field.includes('.private_key') ? 'key' : 'cert'] };
  }
  if (typeUrl === TYPE.listener) return listenerOrigin(model, stripPrefix(name, 'listener:'));
  return undefined;
}

/** An IR route id is `<route name>` or `<route name>#<path index>`; a failure in the match points at that path. */
function routeOrigin(model: GatewayModel, id: string, field: string): Origin | undefined {
  const hash = id.lastIndexOf('#');
  const route = model.routes.find((r) => r.name === id) ?? (hash < 0 ? undefined : model.routes.find((r) => r.name === id.slice(0, hash)));
  if (!route) return undefined;
  const svc = model.services.find((x) => x.name === route.service);
  // The upstream path rewrite comes from the service's path; hashing and the Host header from its upstream.
  if (svc && /^route\.(regex_rewrite|prefix_rewrite)/.test(field)) return { file: svc.origin.file, path: [...svc.origin.path, svc.path !== undefined ? 'path' : 'url'] };
  const upstream = svc?.upstream === undefined ? undefined : model.upstreams.find((u) => u.name === svc.upstream);
  if (upstream && /^route\.(hash_policy|host_rewrite)/.test(field)) return upstream.origin;
  const index = route.name === id ? 0 : Number(id.slice(hash + 1));
  // The match and X-Forwarded-Prefix (the stripped prefix) come from the route's path.
  const inPath = /^(match\.(prefix|path|path_separated_prefix|safe_regex)|request_headers_to_add)/.test(field) && (route.paths?.length ?? 0) > index;
  const path: YamlPath = inPath ? [...route.origin.path, 'paths', index] : route.origin.path;
  return { file: route.origin.file, path };
}

function listenerOrigin(model: GatewayModel, name: string | undefined): Origin | undefined {
  return model.listeners.find((l) => l.name === name)?.origin;
}

/** A resource no entity of the file names (the default listener): the top of the first file. */
function fallbackOrigin(_model: GatewayModel, texts: SourceText[]): Origin | undefined {
  const first = texts[0];
  return first ? { file: first.file, path: [] } : undefined;
}
