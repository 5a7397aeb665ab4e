import { authEnforcer, AUTH_PLUGINS, nativeLuaOnSuccess } from '../contracts/authz.js';
import type { GatewayIR, IrRoute } from '../ir/types.js';
import { pluginEnforcers, type PluginName } from '../model/plugins/index.js';
import type { GatewayModel, Plugin } from '../model/types.js';

/**
 * Who enforces a plugin applied to a route: its definition says (`enforcers`), from the config
 * as it was written at the scope the route got it from (route, service or global).
 */
export function enforcersOf(model: GatewayModel | undefined): (plugin: string, scope: string, route: IrRoute) => readonly string[] {
  return (name, scope, r) => {
    const written: Plugin | undefined = (model?.plugins ?? []).find((p) => p.name === name && !p.scope.consumer
      && (scope === 'route' ? p.scope.route === r.routeName : scope === 'service' ? !p.scope.route && p.scope.service === r.service : !p.scope.route && !p.scope.service));
    // The auth plugins of a route share one enforcer, decided with the route's other auth plugins and the credentials.
    if ((AUTH_PLUGINS as readonly string[]).includes(name)) {
      const e = model && authEnforcer(r, model.consumers);
      if (e) return [e.enforcer];
    }
    return written ? pluginEnforcers(name as PluginName, written.config) : [];
  };
}

/**
 * Per route, who serves each of its plugins, as `frontdesk translate` prints it: one line per
 * route, `route <id>: <plugin> <enforcer>, ...`, and why an auth plugin stays on the authz
 * companion when no plugin asked for it.
 */
export function enforcerLines(ir: GatewayIR, model: GatewayModel): string[] {
  const of = enforcersOf(model);
  const lines: string[] = [];
  for (const r of ir.routes) {
    const names = Object.keys(r.plugins).sort();
    if (!names.length) continue;
    const parts = names.map((n) => `${n} ${of(n, r.plugins[n as PluginName]!.scope, r).join('+') || 'none'}`);
    const auth = authEnforcer(r, model.consumers);
    const lua = auth?.enforcer === 'envoy' ? nativeLuaOnSuccess(r) : undefined;
    const how = auth?.enforcer === 'envoy' ? (lua ? ` (auth in Envoy, Lua on every request: ${lua})` : ' (auth in Envoy, accepted without Lua)') : '';
    lines.push(`route ${r.id}: ${parts.join(', ')}${auth?.why ? ` (auth on the companion: ${auth.why})` : how}`);
  }
  return lines;
}
