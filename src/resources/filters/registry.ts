import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';
import type { JsonObject } from '../builders.js';

/** Where the companion services listen, and how Envoy treats them; plain data, no I/O. */
export interface TranslateSettings {
  authz: { host: string; port: number; timeoutMs: number; failOpen: boolean };
  ratelimit: { host: string; port: number; timeoutMs: number; failOpen: boolean };
  transform: { host: string; port: number; timeoutMs: number };
  /** The fleet a listener with no `fleet` belongs to (every node). */
  defaultFleet: string;
}

export const DEFAULT_SETTINGS: TranslateSettings = {
  authz: { host: '127.0.0.1', port: 18001, timeoutMs: 1000, failOpen: false },
  ratelimit: { host: '127.0.0.1', port: 18002, timeoutMs: 500, failOpen: false },
  transform: { host: '127.0.0.1', port: 18003, timeoutMs: 2000 },
  defaultFleet: '',
};

export interface FilterContext {
  ir: GatewayIR;
  settings: TranslateSettings;
}

/** A companion resource: our own message type, sent over the same ADS server. */
export interface CompanionResource {
  typeUrl: string;
  name: string;
  body: JsonObject;
}

/**
 * One HTTP filter, in the manner of a registry entry: a filter file implements the hooks it
 * needs and is listed in filters/index.ts. Adding a plugin adds a file; other filters stay as
 * they are.
 */
export interface HttpFilter {
  /** Envoy's filter name, e.g. envoy.filters.http.ext_authz. */
  name: string;
  /** Position in the chain; lower runs first. The router is always last. */
  order: number;
  /** The filter for a listener's HTTP connection manager, or undefined when no route there needs it. */
  httpFilter(listener: IrListener, ctx: FilterContext): JsonObject | undefined;
  /** typed_per_filter_config for one route (keyed by `name`), if any. */
  perRoute?(route: IrRoute, ctx: FilterContext): JsonObject | undefined;
  /** Changes to one Envoy route (rate_limits actions, headers to add, ...). */
  patchRoute?(route: IrRoute, envoyRoute: JsonObject, ctx: FilterContext): void;
  /** Clusters the filter itself needs (e.g. the authz service). */
  clusters?(ctx: FilterContext): JsonObject[];
  /** Companion resources built from the same IR. */
  companions?(ctx: FilterContext): CompanionResource[];
}
