import { compileConfig } from '../../src/runtime/compile.js';
import { TYPE } from '../../src/resources/type-urls.js';

/**
 * A listener's RouteConfiguration is named `listener:<name>#<hash of its filter chain>`
 * (resources/listener.ts): tests find it by the listener's name.
 */
export function routeConfigOf<T>(rds: ReadonlyMap<string, T>, listener = 'proxy'): T | undefined {
  for (const [name, rc] of rds) if (name.startsWith(`listener:${listener}#`)) return rc;
  return undefined;
}

/** The name Envoy subscribes to for the route configuration of a plugin-less `proxy` listener. */
export function plainRouteConfigName(): string {
  const r = compileConfig([{ file: 'plain.yaml', text: '_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:9\n    routes:\n      - name: r\n        paths: [/]\n' }]);
  const name = [...(r.translation?.fleets.get('')?.get(TYPE.route)?.keys() ?? [])][0];
  if (!name) throw new Error('no route configuration in a plain config');
  return name;
}
