import { DEFAULT_PORTS } from '../default-ports.js';
import type { Logger } from '../logger.js';
import type { CompanionDefinition, CompanionOptions, RunningCompanion } from '../runtime/companions.js';
import { AdsClient } from '../xds/ads-client.js';
import { AuthzEngine } from './engine.js';
import { AUTHZ_TYPE, authzResourcesProblem, snapshotFromResources } from './resources.js';
import { startAuthzServer, type AuthzServer } from './server.js';
import type { AuthzEngineOptions } from './types.js';

export interface AuthzServiceOptions {
  /** The control plane's ADS address. */
  xds: { host: string; port: number };
  host: string;
  /** 0 picks a free port. */
  port: number;
  nodeId: string;
  logger: Logger;
  /** 'sotw' (default) or 'delta' ADS. */
  mode?: 'sotw' | 'delta';
  /** Engine settings (cache sizes, clock, fetch) beyond the defaults. */
  engine?: Partial<Omit<AuthzEngineOptions, 'logger'>>;
}

export interface RunningAuthz extends RunningCompanion {
  engine: AuthzEngine;
  server: AuthzServer;
  /** The control plane's version of the policy in use ('' before the first). */
  version(): string;
  /** Resolves once the first policy is loaded. */
  whenReady(): Promise<void>;
}

/**
 * The authz companion: the Check server, fed live by an ADS client subscribed to the Consumer
 * and RoutePolicy resources. Both types are applied together once both have arrived; until
 * then every Check is refused (503), failing closed.
 */
export async function startAuthzService(o: AuthzServiceOptions): Promise<RunningAuthz> {
  const log = o.logger;
  const engine = new AuthzEngine({ logger: log, fetch: globalThis.fetch as AuthzEngineOptions['fetch'], ...o.engine });
  const server = await startAuthzServer({ host: o.host, port: o.port, engine, logger: log });
  const client = new AdsClient({
    target: `${o.xds.host}:${o.xds.port}`,
    nodeId: o.nodeId,
    cluster: 'authz',
    mode: o.mode ?? 'sotw',
    types: [AUTHZ_TYPE.consumer, AUTHZ_TYPE.routePolicy],
    validate: (typeUrl, resources) => authzResourcesProblem(typeUrl, resources),
    logger: log,
  });
  const seen = new Set<string>();
  let applied = '';
  let pending = false;
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const apply = () => {
    pending = false;
    const consumers = client.resources(AUTHZ_TYPE.consumer);
    const policies = client.resources(AUTHZ_TYPE.routePolicy);
    engine.update(snapshotFromResources(consumers, policies));
    applied = `${client.version(AUTHZ_TYPE.consumer)}/${client.version(AUTHZ_TYPE.routePolicy)}`;
    log.info({ version: applied, consumers: consumers.size, routes: policies.size }, 'authz: policy applied');
    onReady?.();
    onReady = undefined;
  };
  client.on('update', (typeUrl) => {
    seen.add(typeUrl);
    if (seen.size < 2 || pending) return;
    // The two types of one config arrive back to back: apply them together.
    pending = true;
    setImmediate(apply);
  });
  client.on('nack', (typeUrl, detail) => log.error({ type: typeUrl, detail }, 'authz: policy refused; keeping the last good one'));
  client.on('connected', () => log.info({ xds: `${o.xds.host}:${o.xds.port}` }, 'authz: connected to the control plane'));
  client.on('disconnected', (err) => log.warn({ err: err?.message, policy: engine.ready }, engine.ready
    ? 'authz: control plane stream ended; reconnecting (the current policy keeps serving)'
    : 'authz: no control plane yet; reconnecting (checks are refused until the first policy)'));
  client.start();
  return {
    port: server.port,
    engine,
    server,
    ready: () => engine.ready,
    version: () => applied,
    whenReady: () => ready,
    async stop() {
      client.close();
      await server.stop();
    },
  };
}

/** `frontdesk authz --xds HOST:PORT [--port 18001]`, and part of `frontdesk start`. */
export const authzCompanion: CompanionDefinition = {
  name: 'authz',
  defaultPort: DEFAULT_PORTS.authz,
  usage: '',
  start: (o: CompanionOptions) => startAuthzService({ xds: o.xds, host: o.host, port: o.port, nodeId: o.nodeId, logger: o.logger }),
};
