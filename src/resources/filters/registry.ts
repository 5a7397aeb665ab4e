import type { CompanionResource } from '../../contracts/companion.js';
import { DEFAULT_PORTS } from '../../default-ports.js';
import type { GatewayIR, IrListener, IrRoute } from '../../ir/types.js';
import type { JsonObject } from '../builders.js';
import type { EnvoySds } from '../companion-cluster.js';

/** Where the companion services listen, and how Envoy treats them; plain data, no I/O. */
export interface TranslateSettings {
  authz: { host: string; port: number; timeoutMs: number; failOpen: boolean };
  ratelimit: { host: string; port: number; timeoutMs: number; failOpen: boolean };
  transform: { host: string; port: number; timeoutMs: number };
  /** The log companion (Envoy's gRPC access-log service, for http-log). */
  log: { host: string; port: number };
  /** mTLS from Envoy to the companions: where each Envoy reads its certificate (absent: plaintext). */
  tls?: EnvoySds;
  /** The salt of the credential hashes sent to the authz companion (the control plane picks a random one per run). */
  credentialSalt?: string;
}

export const DEFAULT_SETTINGS: TranslateSettings = {
  authz: { host: '127.0.0.1', port: DEFAULT_PORTS.authz, timeoutMs: 1000, failOpen: false },
  ratelimit: { host: '127.0.0.1', port: DEFAULT_PORTS.ratelimit, timeoutMs: 500, failOpen: false },
  transform: { host: '127.0.0.1', port: DEFAULT_PORTS.transform, timeoutMs: 2000 },
  log: { host: '127.0.0.1', port: DEFAULT_PORTS.log },
};

export interface FilterContext {
  ir: GatewayIR;
  settings: TranslateSettings;
  /**
   * `make(of, arg)`, or what it gave for the same IR object and `tag` in an earlier build under
   * the same translate context (translate-memo.ts): for what a filter derives from one route and
   * the context alone, and reads in a scan over every route (whether a route has Kong answers,
   * a transform). `make` is a function made once, not per call (a scan asks for every route).
   * Absent without a memo: filters call `make` then.
   */
  derive?<O extends object, A, T>(tag: string, of: O, make: (of: O, arg: A) => T, arg: A): T;
}

/** `ctx.derive(tag, of, make, arg)` with a memo, `make(of, arg)` without. */
export function derived<O extends object, A, T>(ctx: FilterContext, tag: string, of: O, make: (of: O, arg: A) => T, arg: A): T {
  return ctx.derive ? ctx.derive(tag, of, make, arg) : make(of, arg);
}

/**
 * A place in the chain for filters that exist once per IR entity (adaptive_concurrency: one
 * instance per service that asks for it); translate expands it with the IR at hand.
 */
export interface FilterGroup {
  group: string;
  expand(ir: GatewayIR): HttpFilter[];
}

/** One entry of the filter-order table. */
export type ChainEntry = HttpFilter | FilterGroup;

/** The chain's filters for one IR: groups expanded in place. */
export function expandChain(chain: readonly ChainEntry[], ir: GatewayIR): HttpFilter[] {
  return chain.flatMap((e) => ('expand' in e ? e.expand(ir) : [e]));
}

export type { CompanionResource } from '../../contracts/companion.js';

/**
 * One HTTP filter, in the manner of a registry entry: a filter file implements the hooks it
 * needs and has one line in the filter-order table (filters/index.ts), which alone decides
 * where it runs. Adding a plugin adds a file and that line; other filters stay as they are.
 */
export interface HttpFilter {
  /** Envoy's filter name, e.g. envoy.filters.http.ext_authz. */
  name: string;
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
  /** Kong's answers this filter's plugin gives on a route, in the order they are tried (kong-replies.ts writes them). */
  replies?(route: IrRoute, ctx: FilterContext): ReplyRule[];
  /** The headers this filter's plugin puts on every response of the route, for the answers kong-replies writes. */
  replyHeaders?(route: IrRoute, ctx: FilterContext): ReplyHeaders[];
  /** Access loggers (envoy.config.accesslog.v3.AccessLog) for a listener's HTTP connection manager. */
  accessLogs?(listener: IrListener, ctx: FilterContext): JsonObject[];
  /** Local reply mappers (ResponseMapper) this filter's refusals need on a listener, tried after the gRPC ones and before Envoy's own errors. */
  localReplies?(listener: IrListener, ctx: FilterContext): JsonObject[];
  /** Settings of a listener's HTTP connection manager the plugin needs (merged into it; e.g. proxy_100_continue). */
  connectionManager?(listener: IrListener, ctx: FilterContext): JsonObject | undefined;
  /** The HTTP connection manager's tracing settings for a listener (one provider per listener). */
  tracing?(listener: IrListener, ctx: FilterContext): JsonObject | undefined;
}

/** An xds.type.matcher.v3.Matcher.MatcherList.Predicate, as proto3 JSON. */
export type Predicate = JsonObject;

/** One Kong answer: when `when` holds for a response, it is replaced by this one. */
export interface ReplyRule {
  /** The plugin it speaks for (the policy's name, for reading the config). */
  plugin: string;
  when: Predicate;
  status: number;
  /** The body; "" for none. */
  body: string;
  /** Instead of `body`, a format string Envoy fills in per request (%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% and the like). */
  bodyFormat?: string;
  /** Content-Type of the body; undefined leaves Envoy's. */
  contentType?: string;
  /** Other headers of the answer (HeaderValueOptions). */
  headers?: JsonObject[];
}

/** Response headers a plugin adds to every answer on a route, Kong's included; `when` narrows them. */
export interface ReplyHeaders {
  when?: Predicate;
  /** HeaderValueOptions (formatters allowed: %REQ(...)%). */
  headers: JsonObject[];
}

