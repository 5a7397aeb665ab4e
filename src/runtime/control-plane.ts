import type { Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from '../admin/metrics.js';
import { startAdminServer } from '../admin/server.js';
import { diag, formatDiagnostic, type Diagnostic } from '../errors.js';
import type { IrOptions } from '../ir/build.js';
import type { Logger } from '../logger.js';
import type { TranslateSettings } from '../resources/filters/registry.js';
import { shortType } from '../resources/type-urls.js';
import { AdsServer } from '../xds/ads-server.js';
import { buildSnapshot, type Snapshot } from '../xds/snapshot.js';
import { compileConfig } from './compile.js';
import { readConfigTexts } from './config-files.js';
import { ConfigWatcher } from './config-watcher.js';

export interface ControlPlaneOptions {
  configPath: string;
  xds: { host: string; port: number };
  admin: { host: string; port: number };
  settings: TranslateSettings;
  ir: IrOptions;
  logger: Logger;
  /** Watch the config for edits (default true). */
  watch?: boolean;
}

export interface ReloadOutcome {
  result: 'applied' | 'unchanged' | 'rejected';
  version?: string;
  diagnostics: Diagnostic[];
}

/**
 * The control plane: reads the YAML, compiles it, and serves the result over ADS; watches the
 * file and pushes every good edit live. A config that fails to load, validate or translate is
 * never pushed: the last good snapshot keeps serving and the error shows in /status.
 */
export class ControlPlane {
  readonly ads: AdsServer;
  readonly registry = new Registry();
  private readonly m = {
    reloads: this.registry.add(new Counter('frontdesk_config_reloads_total', 'Config reloads by result (applied, unchanged, rejected).')),
    configErrors: this.registry.add(new Counter('frontdesk_config_errors_total', 'Config loads that were rejected.')),
    pushes: this.registry.add(new Counter('frontdesk_xds_pushes_total', 'xDS responses sent, by type.')),
    nacks: this.registry.add(new Counter('frontdesk_xds_nacks_total', 'xDS responses rejected by a node, by type.')),
    pushLatency: this.registry.add(new Histogram('frontdesk_xds_push_latency_seconds', 'From a new snapshot to a node holding all of it.', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5])),
    buildTime: this.registry.add(new Histogram('frontdesk_snapshot_build_seconds', 'Time to load, compile and encode a config.', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1])),
    // Read when /metrics is served, by then the ADS server exists.
    connected: this.registry.add(new Gauge('frontdesk_xds_connected_nodes', 'xDS streams open now.', () => this.ads.nodes().length)),
  };
  private readonly log: Logger;
  private watcher?: ConfigWatcher;
  private admin?: Server;
  private lastError?: { at: string; diagnostics: Diagnostic[] };
  private lastApplied?: { at: string; version: string };
  private warnings: Diagnostic[] = [];
  readonly startedAt = new Date().toISOString();
  /** How many reloads have finished (applied, unchanged or rejected). */
  reloadCount = 0;

  constructor(private readonly opts: ControlPlaneOptions) {
    this.log = opts.logger.child({ component: 'control-plane' });
    this.ads = new AdsServer(opts.logger);
    this.ads.on('push', (_n, typeUrl) => this.m.pushes.inc({ type: shortType(typeUrl) }));
    this.ads.on('nack', (_n, typeUrl) => this.m.nacks.inc({ type: shortType(typeUrl) }));
    this.ads.on('converged', (_n, _v, ms) => this.m.pushLatency.observe(ms / 1000));
  }

  /** Loads the config, starts ADS and admin, and watches for edits. Ports are the bound ones. */
  async start(): Promise<{ xdsPort: number; adminPort: number }> {
    const first = this.reload();
    if (first.result === 'rejected') {
      this.log.error({ errors: first.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) }, 'the config has errors; serving nothing until it is fixed');
    }
    const xdsPort = await this.ads.listen(this.opts.xds.host, this.opts.xds.port);
    this.log.info({ port: xdsPort }, 'xds listening');
    const admin = await startAdminServer(this.opts.admin.host, this.opts.admin.port, {
      ready: () => this.ads.snapshot !== undefined,
      status: () => this.status(),
      metrics: () => this.registry.render(),
    }, this.log);
    this.admin = admin.server;
    if (this.opts.watch !== false) {
      this.watcher = new ConfigWatcher(this.opts.configPath).start();
      this.watcher.on('change', () => this.reload());
    }
    return { xdsPort, adminPort: admin.port };
  }

  /** Reads and compiles the config again; pushes it when it is good and different. */
  reload(): ReloadOutcome {
    try {
      return this.reloadOnce();
    } finally {
      this.reloadCount++;
    }
  }

  private reloadOnce(): ReloadOutcome {
    const started = Date.now();
    let texts: ReturnType<typeof readConfigTexts>;
    try {
      texts = readConfigTexts(this.opts.configPath);
    } catch (e) {
      return this.reject([{ ...diag('FD_READ_FAILED', [], this.opts.configPath, (e as Error).message), file: this.opts.configPath }]);
    }
    let compiled: ReturnType<typeof compileConfig>;
    try {
      compiled = compileConfig(texts, { ir: this.opts.ir, settings: this.opts.settings, adminPort: this.opts.admin.port || undefined });
    } catch (e) {
      // A config the model accepted but translation cannot serve: a gap in validation.
      this.log.error({ err: (e as Error).stack }, 'translation failed');
      return this.reject([{ ...diag('FD_TRANSLATE', [], (e as Error).message), file: this.opts.configPath }]);
    }
    if (!compiled.ok || !compiled.translation) return this.reject(compiled.diagnostics);
    let snapshot: Snapshot;
    try {
      snapshot = buildSnapshot(compiled.translation, started, this.ads.snapshot);
    } catch (e) {
      // A resource that does not encode is a translation bug: never push it.
      return this.reject([{ ...diag('FD_TRANSLATE', [], (e as Error).message), file: this.opts.configPath }]);
    }
    this.m.buildTime.observe((Date.now() - started) / 1000);
    this.warnings = compiled.diagnostics.filter((d) => d.severity === 'warning');
    this.lastError = undefined;
    if (this.ads.snapshot?.version === snapshot.version) {
      this.m.reloads.inc({ result: 'unchanged' });
      return { result: 'unchanged', version: snapshot.version, diagnostics: compiled.diagnostics };
    }
    this.ads.setSnapshot(snapshot);
    this.lastApplied = { at: new Date().toISOString(), version: snapshot.version };
    this.m.reloads.inc({ result: 'applied' });
    this.log.info({ version: snapshot.version, ms: Date.now() - started, warnings: this.warnings.length }, 'config applied');
    for (const w of this.warnings) this.log.warn({ diagnostic: formatDiagnostic(w) }, 'config warning');
    return { result: 'applied', version: snapshot.version, diagnostics: compiled.diagnostics };
  }

  private reject(diagnostics: Diagnostic[]): ReloadOutcome {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    this.lastError = { at: new Date().toISOString(), diagnostics: errors };
    this.m.reloads.inc({ result: 'rejected' });
    this.m.configErrors.inc();
    this.log.error({ errors: errors.map(formatDiagnostic), keeping: this.ads.snapshot?.version ?? null }, 'config rejected; the last good version keeps serving');
    return { result: 'rejected', diagnostics };
  }

  /** What /status shows. */
  status(): unknown {
    return {
      config: this.opts.configPath,
      version: this.ads.snapshot?.version ?? null,
      appliedAt: this.lastApplied?.at ?? null,
      startedAt: this.startedAt,
      lastError: this.lastError ? {
        at: this.lastError.at,
        errors: this.lastError.diagnostics.map((d) => ({ code: d.code, file: d.file, line: d.line, col: d.col, message: d.message, hint: d.hint, text: formatDiagnostic(d) })),
      } : null,
      warnings: this.warnings.map(formatDiagnostic),
      nodes: this.ads.nodes(),
    };
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    await new Promise<void>((r) => (this.admin ? this.admin.close(() => r()) : r()));
    this.admin?.closeAllConnections?.();
    await this.ads.close();
  }
}
