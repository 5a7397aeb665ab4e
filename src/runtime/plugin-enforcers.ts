import type { IrRoute } from '../ir/types.js';
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
    return written ? pluginEnforcers(name as PluginName, written.config) : [];
  };
}
