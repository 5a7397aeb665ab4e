import type { JsonObject } from '../../src/json.js';
import type { Translation } from '../../src/resources/translate.js';
import { TYPE } from '../../src/resources/type-urls.js';

/** The policy names Envoy sends the companions for one Kong route, read from its Envoy routes. */
export interface RoutePolicyIds {
  /** ext_authz context extension `route`. */
  authz?: string;
  /** rate-limit descriptor entry fd_route. */
  ratelimit?: string;
  /** ext_proc gRPC metadata x-frontdesk-route. */
  transform?: string;
}

type Obj = Record<string, any>;

/**
 * The Kong route an Envoy route was made from, by its name: `<route>`, `<route>#<path index>`,
 * with `:exact` or `:port` for the route's second Envoy route (Kong's route names have
 * neither `#` nor `:`); undefined for Kong's 404.
 */
export function kongRouteOf(envoyRouteName: string): string | undefined {
  return envoyRouteName === 'no-route' ? undefined : envoyRouteName.replace(/[#:].*$/, '');
}

/**
 * Kong route name → the policy names its Envoy routes carry (every fleet, every listener), as
 * Envoy would send them per request: what a test asks a companion with.
 */
export function policyIdsOf(t: Translation): Map<string, RoutePolicyIds> {
  const out = new Map<string, RoutePolicyIds>();
  for (const types of t.fleets.values()) {
    for (const rc of types.get(TYPE.route)?.values() ?? []) {
      for (const vh of (rc as Obj).virtual_hosts ?? []) {
        for (const r of vh.routes ?? []) {
          const name = kongRouteOf(r.name as string);
          if (!name) continue;
          const ids = out.get(name) ?? {};
          for (const cfg of Object.values((r.typed_per_filter_config ?? {}) as Record<string, JsonObject>) as Obj[]) {
            const authz = cfg.check_settings?.context_extensions?.route;
            if (authz) ids.authz = authz;
            const md = (cfg.overrides?.grpc_initial_metadata ?? []) as Array<{ key: string; value: string }>;
            const transform = md.find((m) => m.key === 'x-frontdesk-route')?.value;
            if (transform) ids.transform = transform;
          }
          for (const rl of (r.route?.rate_limits ?? []) as Obj[]) {
            const key = (rl.actions as Obj[]).find((a) => a.generic_key?.descriptor_key === 'fd_route');
            if (key) ids.ratelimit = key.generic_key.descriptor_value;
          }
          out.set(name, ids);
        }
      }
    }
  }
  return out;
}

/** The one policy name of `kind` a Kong route carries; throws when it has none. */
export function policyIdOf(t: Translation, route: string, kind: keyof RoutePolicyIds): string {
  const id = policyIdsOf(t).get(route)?.[kind];
  if (!id) throw new Error(`route ${route} carries no ${kind} policy`);
  return id;
}
