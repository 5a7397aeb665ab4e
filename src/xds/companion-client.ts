import type { Logger } from '../logger.js';
import { AdsStreamClient } from './ads-stream.js';
import type { TlsSource } from '../tls.js';
import { xdsList, xdsTarget, type XdsAddresses } from '../contracts/companion.js';

/**
 * What every companion service does to get its policy: one ADS client (state of the world or
 * delta) subscribed to the companion's resource types, resources decoded into the contract's
 * messages (by the companion's own hand decoders where it gives them, else by protobufjs, loaded
 * only then: companion-decode.ts), a check per type that NACKs a set the service cannot use (it keeps the
 * last good one), and an apply step run once every type has arrived and again after each
 * change. Updates that arrive together (the types of one config) are applied once.
 */

/** The accepted resources of each subscribed type, by name. */
export interface CompanionResources<M> {
  get<U extends keyof M & string>(typeUrl: U): ReadonlyMap<string, M[U]>;
  /** The control plane's version of a type ('' before the first). */
  version(typeUrl: keyof M & string): string;
}

export interface CompanionClientOptions<M> {
  /** The companion's name, for its log lines. */
  name: string;
  /** The node's cluster, as the control plane's /status shows it (default: the name). */
  cluster?: string;
  /** The control plane's ADS address, or its replicas' (tried in turn). */
  xds: XdsAddresses;
  nodeId: string;
  mode?: 'sotw' | 'delta';
  logger: Logger;
  /**
   * The types to subscribe to, each with the check of a complete set: an error text refuses it
   * (NACK, naming resources and fields, never a secret), undefined accepts it.
   */
  types: { [U in keyof M & string]: (resources: ReadonlyMap<string, M[U]>) => string | undefined };
  /**
   * Hand decoders of some types (bytes → the message as decodeMessage gives it). When every
   * type has one, the process loads no protobuf library.
   */
  decoders?: { [U in keyof M & string]?: (bytes: Uint8Array) => M[U] };
  /** Puts the accepted resources in force. */
  apply(resources: CompanionResources<M>): void;
  /** mTLS to the control plane. */
  tls?: TlsSource;
}

export interface CompanionClient<M> {
  resources: CompanionResources<M>;
  /** True once the first complete policy is applied. */
  ready(): boolean;
  /** Resolves once the first complete policy is applied. */
  whenReady(): Promise<void>;
  close(): void;
}

/** Starts the ADS subscription of a companion; see the module comment. */
export function startCompanionClient<M>(o: CompanionClientOptions<M>): CompanionClient<M> {
  const log = o.logger;
  const typeUrls = Object.keys(o.types);
  // The AdsClient decoded each resource as its type URL's message: a map of type U holds M[U].
  const check = <U extends keyof M & string>(typeUrl: U, resources: Map<string, unknown>) => o.types[typeUrl](resources as ReadonlyMap<string, M[U]>);
  const hand = (o.decoders ?? {}) as Record<string, ((bytes: Uint8Array) => unknown) | undefined>;
  // Set before the stream starts when some type has no hand decoder.
  let byRegistry: ((typeUrl: string, bytes: Uint8Array) => unknown) | undefined;
  const client = new AdsStreamClient<unknown>({
    target: xdsList(o.xds).map(xdsTarget),
    nodeId: o.nodeId,
    cluster: o.cluster ?? o.name,
    mode: o.mode ?? 'sotw',
    types: typeUrls,
    decodeResource: (typeUrl, bytes) => {
      const own = hand[typeUrl];
      if (own) return own(bytes);
      if (!byRegistry) throw new Error(`no decoder for ${typeUrl}`);
      return byRegistry(typeUrl, bytes);
    },
    ...(o.tls ? { tls: o.tls } : {}),
    validate: (typeUrl, resources) => (typeUrls.includes(typeUrl) ? check(typeUrl as keyof M & string, resources) : undefined),
    logger: log,
  });
  const resources: CompanionResources<M> = {
    get: <U extends keyof M & string>(typeUrl: U) => client.resources(typeUrl) as ReadonlyMap<string, M[U]>,
    version: (typeUrl) => client.version(typeUrl),
  };
  const seen = new Set<string>();
  let ready = false;
  let pending = false;
  let onReady: (() => void) | undefined;
  const first = new Promise<void>((resolve) => { onReady = resolve; });
  const apply = () => {
    pending = false;
    o.apply(resources);
    ready = true;
    onReady?.();
    onReady = undefined;
  };
  client.on('update', (typeUrl) => {
    seen.add(typeUrl);
    if (seen.size < typeUrls.length || pending) return;
    pending = true;
    setImmediate(apply);
  });
  client.on('nack', (typeUrl, detail) => log.error({ type: typeUrl, detail }, `${o.name}: policy refused (NACK); keeping the last good one`));
  // One warning when a stream that worked goes away; the retries after it are debug lines.
  let streamUp = true;
  client.on('connected', () => {
    log.info({ xds: client.target }, `${o.name}: connected to the control plane`);
    streamUp = true;
  });
  client.on('disconnected', (err) => {
    if (!streamUp) log.debug({ err: err?.message }, `${o.name}: control plane reconnect failed`);
    else if (ready) log.warn({ err: err?.message }, `${o.name}: control plane stream ended; reconnecting (the current policy stays in force)`);
    else log.warn({ err: err?.message }, `${o.name}: no control plane yet; reconnecting (no policy until the first one arrives)`);
    streamUp = false;
  });
  if (typeUrls.every((t) => hand[t])) client.start();
  else {
    void import('./companion-decode.js').then((m) => { byRegistry = m.decodeByRegistry; client.start(); }, (e: Error) => log.error({ err: e.message }, `${o.name}: cannot load the message types`));
  }
  return { resources, ready: () => ready, whenReady: () => first, close: () => client.close() };
}
