import { closest, diag } from '../../errors.js';
import { pluginEntrySchema } from '../entities.js';
import { ENFORCED_PLUGINS, KONG_PLUGINS_NOT_SERVED, knownPluginNames, pluginDefinition } from '../plugins/index.js';
import { KONG_PLUGIN_NOTES } from '../plugins/kong-plugins.js';
import type { Origin, Plugin } from '../types.js';
import { issuesToDiagnostics, stripNulls } from '../zod-diagnostics.js';
import { omit, type Found, type ScopedPlugin } from './flat-config.js';
import { kongPluginId } from '../../kong-ids.js';
import { refName, type References } from './references.js';
import { notImplemented, parseWith, type Reporter } from './reporter.js';
import type { LoadedRoutes } from './routes.js';
import type { LoadedServices } from './services.js';

/**
 * Plugins through the registry, then scoped: the service, route and consumer each names (by
 * nesting, name or id) resolved, the scope one its definition allows, and one instance per
 * plugin name and scope. A plugin on something switched off goes quietly, as does a disabled one.
 */
export function scopePlugins(rep: Reporter, refs: References, plugins: readonly Found<ScopedPlugin>[], services: LoadedServices, routes: LoadedRoutes): Plugin[] {
  const scoped: Plugin[] = [];
  const seen = new Set<string>();
  const loaded: Loaded = { services, routes, serviceNames: new Set(services.services.map((s) => s.name)), routeNames: new Set(routes.routes.map((r) => r.name)) };
  for (const { value, origin } of plugins) {
    const { _scope, _parentId } = value;
    const raw = omit(value, ['_scope', '_parentId']);
    const read = readPlugin(rep, raw, origin);
    if (!read) continue;
    const { entry: p, def, config } = read;
    if (p.consumer_group !== undefined) {
      notImplemented(rep, origin, 'consumer_group', p.consumer_group, false, 'consumer groups are not served; scope the plugin to consumers');
      continue;
    }
    const want = { service: _scope.service ?? refName(p.service), route: _scope.route ?? refName(p.route), consumer: _scope.consumer ?? refName(p.consumer) };
    const scope = resolveScope(rep, refs, loaded, want, origin);
    if (!scope || !p.enabled) continue;
    const kind = scope.route ? 'route' : scope.service ? 'service' : scope.consumer ? 'consumer' : 'global';
    if (def && !def.scopes.includes(kind)) { rep.at(origin, diag('FD_PLUGIN_SCOPE', origin.path, p.name, kind)); continue; }
    const scopeKey = `${p.name}|${p.instance_name ?? ''}|${scope.service ?? ''}|${scope.route ?? ''}|${scope.consumer ?? ''}`;
    if (seen.has(scopeKey)) { rep.at(origin, diag('FD_PLUGIN_DUPLICATE', origin.path, p.name, describeScope(scope))); continue; }
    seen.add(scopeKey);
    scoped.push({ name: p.name, id: p.id ?? pluginId(raw, _scope, _parentId), instance_name: p.instance_name, config, protocols: p.protocols, scope, origin });
  }
  return scoped;
}

/** A plugin entry: a name the registry serves or knows, its config through the definition's schema (Kong's defaults applied). */
function readPlugin(rep: Reporter, raw: unknown, origin: Origin) {
  const entry = parseWith(rep, pluginEntrySchema, raw, origin);
  if (!entry) return undefined;
  const def = pluginDefinition(entry.name);
  if (!def) {
    if (KONG_PLUGINS_NOT_SERVED.includes(entry.name)) { rep.at(origin, diag('FD_PLUGIN_NOT_IMPLEMENTED', [...origin.path, 'name'], entry.name, KONG_PLUGIN_NOTES[entry.name])); return undefined; }
    const known = knownPluginNames();
    if (!known.includes(entry.name)) { rep.at(origin, diag('FD_UNKNOWN_PLUGIN', [...origin.path, 'name'], entry.name, closest(entry.name, known))); return undefined; }
  }
  let config: unknown = stripNulls(entry.config);
  if (def) {
    const res = rep.memo ? rep.memo.parse(def.config, config, `${origin.file}\0${origin.path.join('.')}`) : def.config.safeParse(config);
    if (!res.success) { rep.report(origin.file, issuesToDiagnostics(def.config, res.error.issues, [...origin.path, 'config'], config)); return undefined; }
    config = res.data;
    for (const d of def.differences?.(config) ?? []) rep.at(origin, diag('FD_PLUGIN_DIFFERS', [...origin.path, 'config', ...d.path], entry.name, d.message));
  }
  if (entry.enabled && !ENFORCED_PLUGINS.has(entry.name)) rep.at(origin, diag('FD_PLUGIN_PENDING', [...origin.path, 'name'], entry.name));
  return { entry, def, config };
}

type Wanted = { [K in keyof Plugin['scope']]: string | undefined };
interface Loaded { services: LoadedServices; routes: LoadedRoutes; serviceNames: Set<string>; routeNames: Set<string> }

/** The scope's names resolved to keys; undefined when one names nothing loaded (reported unless what it names was switched off or refused). */
function resolveScope(rep: Reporter, refs: References, loaded: Loaded, want: Wanted, origin: Origin): Plugin['scope'] | undefined {
  const { services, routes } = loaded;
  const scope: Plugin['scope'] = {};
  let dangling = false;
  if (want.service !== undefined) {
    scope.service = refs.service.get(want.service);
    if (!scope.service) {
      const quiet = services.disabled.has(want.service) || services.refused.has(want.service) || want.service === '';
      if (!quiet) rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'service'], 'service', want.service, closest(want.service, loaded.serviceNames)));
      dangling = true;
    }
  }
  if (want.route !== undefined) {
    scope.route = refs.route.get(want.route);
    if (!scope.route || !loaded.routeNames.has(scope.route)) {
      if (!want.route.startsWith('\0') && !routes.off.has(want.route)) rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'route'], 'route', want.route, closest(want.route, loaded.routeNames)));
      dangling = true;
    }
  }
  if (want.consumer !== undefined) {
    scope.consumer = refs.consumer.get(want.consumer);
    if (!scope.consumer && (refs.refusedConsumers.has(want.consumer) || want.consumer === '')) dangling = true;
    else if (!scope.consumer) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'consumer'], 'consumer', want.consumer, closest(want.consumer, refs.consumer.keys()))); dangling = true; }
  }
  return dangling ? undefined : scope;
}

/** Kong's id for a plugin written without one (src/kong-ids.ts), nested under the scope's parent when written there. */
function pluginId(raw: Record<string, unknown>, scope: Plugin['scope'], parentId: string | undefined): string {
  const nestedIn = scope.route !== undefined ? 'route' : scope.service !== undefined ? 'service' : scope.consumer !== undefined ? 'consumer' : undefined;
  return kongPluginId(raw, nestedIn, parentId);
}

/** `route a, service b`, or `the global scope`: how messages name a plugin's scope. */
export function describeScope(scope: Plugin['scope']): string {
  const parts = [scope.route && `route ${scope.route}`, scope.service && `service ${scope.service}`, scope.consumer && `consumer ${scope.consumer}`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'the global scope';
}
