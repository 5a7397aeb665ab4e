import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { dirname } from 'node:path';
import { bootstrapYaml, envoySds, envoySdsFiles } from '../../src/runtime/bootstrap.js';
import type { TlsFiles } from '../../src/tls.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface Gateway {
  proxyPort: number;
  proxy: string;
  admin: string;
  xdsPort: number;
  cp: ControlPlane;
  envoy: EnvoyProcess;
  configFile: string;
  /** Writes the config as an editor would (a temp file renamed over it) and waits until Envoy holds it. */
  edit(yaml: string): Promise<void>;
  /** Writes the config and returns without waiting (for bad configs). */
  write(yaml: string): void;
  /** Resolves when every connected Envoy holds the current snapshot. */
  converged(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a control plane in-process and a real Envoy fed by it over ADS. */
export async function startGateway(yaml: string, opts: { delta?: boolean; settings?: Partial<TranslateSettings>; cluster?: string; adminToken?: string; tls?: { controlPlane: TlsFiles; envoy: TlsFiles }; acmeCa?: string[] } = {}): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-e2e-'));
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(configFile, yaml);
  const proxyPort = await freePort();
  // mTLS: Envoy's SDS files beside its certificate, named by the bootstrap and the companion clusters alike.
  const sds = opts.tls && envoySds(dirname(opts.tls.envoy.cert));
  if (opts.tls && sds) for (const f of envoySdsFiles(opts.tls.envoy, sds)) writeFileSync(f.path, f.text);
  const cp = new ControlPlane({
    configPath: configFile,
    xds: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    settings: { ...DEFAULT_SETTINGS, ...(sds ? { tls: sds } : {}), ...opts.settings },
    ...(opts.tls ? { tls: opts.tls.controlPlane } : {}),
    ir: { defaultListener: { address: '127.0.0.1', port: proxyPort } },
    logger: process.env.FRONTDESK_TEST_LOG ? createLogger(process.env.FRONTDESK_TEST_LOG) : silentLogger(),
    adminToken: opts.adminToken,
    ...(opts.acmeCa ? { acmeCa: opts.acmeCa } : {}),
  });
  const { xdsPort, adminPort } = await cp.start();
  const envoy = await EnvoyProcess.start({
    bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: `e2e-${proxyPort}`, cluster: opts.cluster ?? 'frontdesk', adminPort: 0, delta: opts.delta, ...(sds ? { tls: sds } : {}) }),
    logger: silentLogger(),
    concurrency: 1,
  });
  const converged = async () => {
    await waitFor(() => {
      const v = cp.ads.snapshot?.version;
      const nodes = cp.ads.nodes();
      return v !== undefined && nodes.length > 0 && nodes.every((n) => n.convergedVersion === v);
    }, 'Envoy to hold the current snapshot', 15_000);
  };
  try {
    await envoy.waitReady();
    await converged();
  } catch (e) {
    await envoy.stop();
    await cp.stop();
    throw e;
  }
  const write = (text: string) => {
    const tmp = join(dir, `.gateway.yaml.${process.pid}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, configFile);
  };
  return {
    proxyPort, proxy: `http://127.0.0.1:${proxyPort}`, admin: `http://127.0.0.1:${adminPort}`, xdsPort, cp, envoy, configFile,
    write,
    async edit(text: string) {
      const before = cp.reloadCount;
      write(text);
      await waitFor(() => cp.reloadCount > before, 'the edit to be loaded', 10_000);
      await converged();
    },
    converged,
    async stop() {
      await envoy.stop();
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The detail of the first NACK of `type` the gateway's /status reports at or after `since` (ms since the epoch), awaited. */
export function nackSince(gw: Gateway, type: 'RDS' | 'CDS' | 'LDS' | 'EDS', since: number): Promise<string> {
  return waitFor(async () => {
    const status = await (await fetch(`${gw.admin}/status`)).json() as { nodes: { types: Record<string, { lastNack?: { detail: string; at: string } }> }[] };
    const nack = status.nodes[0]?.types[type]?.lastNack;
    return nack && Date.parse(nack.at) >= since ? nack.detail : undefined;
  }, `Envoy to NACK the ${type} update`, 15_000);
}
