import type { GatewayIR } from '../ir/types.js';
import { compareText } from '../text-order.js';

/** The routes and consumers of the applied configuration with their ids, as /status lists them. */
export type EntityIds = { routes: { name: string; id: string }[]; consumers: { username?: string; custom_id?: string; id: string }[] };

/** Each route (once, whatever its paths) and consumer with its id, sorted by name: what /status lists. */
export function entityIds(ir: GatewayIR | undefined): EntityIds {
  const routes = new Map<string, string>();
  for (const r of ir?.routes ?? []) routes.set(r.routeName, r.routeId);
  return {
    routes: [...routes].sort(([a], [b]) => compareText(a, b)).map(([name, id]) => ({ name, id })),
    consumers: (ir?.consumers ?? []).map((c) => ({ ...(c.username ? { username: c.username } : {}), ...(c.custom_id ? { custom_id: c.custom_id } : {}), id: c.id })),
  };
}
