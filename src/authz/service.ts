import { AUTHZ_TYPE, type AuthzMessages } from '../contracts/authz.js';
import type { CompanionDefinition, CompanionOptions, RunningCompanion, XdsAddresses } from '../contracts/companion.js';
import { DEFAULT_PORTS } from '../default-ports.js';
import type { Logger } from '../logger.js';
import { startCompanionClient } from '../xds/companion-client.js';
import { CompanionTracer } from '../companion-tracing.js';
import { TRACING_TYPE_URL, type TracingMessages } from '../contracts/tracing.js';
import { TlsSource } from '../tls.js';
import { AuthzEngine } from './engine.js';
import { consumersProblem, policiesProblem, snapshotFromResources } from './policy.js';
import { startAuthzServer, type AuthzServer } from './server.js';
import type { AuthzEngineOptions } from './types.js';

export interface AuthzServiceOptions {
  /** The control plane's ADS address. */
  xds: XdsAddresses;
  host: string;
  /** 0 picks a free port. */
  port: number;
  nodeId: string;
  logger: Logger;
  /** 'sotw' (default) or 'delta' ADS. */
  mode?: 'sotw' | 'delta';
  /** mTLS to the control plane and from Envoys. */
  tls?: TlsSource;
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
  const tracer = new CompanionTracer('authz', log);
  const server = await startAuthzServer({ host: o.host, port: o.port, engine, logger: log, tls: o.tls, ready: () => engine.ready, tracer });
  let applied = '';
  const client = startCompanionClient<AuthzMessages & TracingMessages>({
    name: 'authz',
    xds: o.xds,
    nodeId: o.nodeId,
    mode: o.mode,
    logger: log,
    tls: o.tls,
    types: { [AUTHZ_TYPE.consumer]: consumersProblem, [AUTHZ_TYPE.routePolicy]: policiesProblem, [TRACING_TYPE_URL]: () => undefined },
    apply(resources) {
      tracer.configure(resources.get(TRACING_TYPE_URL));
      const consumers = resources.get(AUTHZ_TYPE.consumer);
      const policies = resources.get(AUTHZ_TYPE.routePolicy);
      engine.update(snapshotFromResources(consumers, policies));
      applied = `${resources.version(AUTHZ_TYPE.consumer)}/${resources.version(AUTHZ_TYPE.routePolicy)}`;
      log.info({ version: applied, consumers: consumers.size, routes: policies.size }, 'authz: policy applied');
    },
  });
  return {
    port: server.port,
    engine,
    server,
    ready: () => engine.ready,
    version: () => applied,
    whenReady: () => client.whenReady(),
    async stop() {
      client.close();
      await server.stop();
      tracer.close();
    },
  };
}

/** `frontdesk authz --xds HOST:PORT [--port 18001]`, and part of `frontdesk start`. */
export const authzCompanion: CompanionDefinition = {
  name: 'authz',
  defaultPort: DEFAULT_PORTS.authz,
  usage: '',
  start: (o: CompanionOptions) => startAuthzService({ xds: o.xds, host: o.host, port: o.port, nodeId: o.nodeId, logger: o.logger, ...(o.tls ? { tls: new TlsSource(o.tls, { logger: o.logger }) } : {}) }),
};
