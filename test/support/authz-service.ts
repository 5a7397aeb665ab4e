import { createLogger, silentLogger } from '../../src/logger.js';
import { startAuthzService, type RunningAuthz } from '../../src/authz/service.js';
import type { RunningCompanion } from '../../src/contracts/companion.js';
import { startTransformService } from '../../src/transform/service.js';
import type { AuthzEngineOptions } from '../../src/authz/types.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { startGateway, type Gateway } from './gateway.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface TestAuthz {
  port: number;
  running(): RunningAuthz | undefined;
  /** Starts (or restarts) the service on its port and waits for its first policy. */
  start(): Promise<RunningAuthz>;
  stop(): Promise<void>;
}

/**
 * The authz companion in-process, on a port chosen before the gateway starts (Envoy's authz
 * cluster is configured with it), fed by the gateway's control plane once `start()` is called.
 */
export async function authzForTests(opts: { engine?: Partial<Omit<AuthzEngineOptions, 'logger'>> } = {}): Promise<{ port: number; attach(xdsPort: number): TestAuthz }> {
  const port = await freePort();
  return {
    port,
    attach(xdsPort: number): TestAuthz {
      let current: RunningAuthz | undefined;
      return {
        port,
        running: () => current,
        async start() {
          if (current) return current;
          const svc = await startAuthzService({
            xds: { host: '127.0.0.1', port: xdsPort }, host: '127.0.0.1', port, nodeId: `authz-test-${port}`,
            logger: process.env.FRONTDESK_TEST_LOG ? createLogger(process.env.FRONTDESK_TEST_LOG) : silentLogger(),
            ...(opts.engine ? { engine: opts.engine } : {}),
          });
          current = svc;
          await waitFor(() => svc.ready(), 'authz to load its first policy', 15_000);
          return svc;
        },
        async stop() {
          const svc = current;
          current = undefined;
          await svc?.stop();
        },
      };
    },
  };
}

/** A gateway (control plane + real Envoy) with the authz companion running and converged; `stop` stops both. */
export async function startGatewayWithAuthz(yaml: string, opts: { adminToken?: string; transform?: boolean } = {}): Promise<Gateway> {
  const { transform: withTransform, ...gatewayOpts } = opts;
  const az = await authzForTests();
  const transformPort = withTransform ? await freePort() : undefined;
  const gw = await startGateway(yaml, {
    ...gatewayOpts,
    settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port }, ...(transformPort ? { transform: { ...DEFAULT_SETTINGS.transform, port: transformPort } } : {}) },
  });
  const authz = az.attach(gw.xdsPort);
  let transform: RunningCompanion | undefined;
  const stopAll = async () => { await transform?.stop(); await authz.stop(); await gw.stop(); };
  try {
    await authz.start();
    if (transformPort) {
      const t = await startTransformService({ xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: transformPort, nodeId: `transform-test-${transformPort}`, logger: silentLogger() });
      transform = t;
      await waitFor(() => t.ready(), 'the transform companion to get its routes', 15_000);
    }
    await gw.converged();
  } catch (e) {
    await stopAll();
    throw e;
  }
  return { ...gw, stop: stopAll };
}
