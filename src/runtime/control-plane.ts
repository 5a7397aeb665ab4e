import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from '../admin/metrics.js';
import { AdminAuth } from '../admin/admin-auth.js';
import { Dashboard } from '../admin/dashboard.js';
import { dashboardData } from '../admin/dashboard-data.js';
import { KongAdminApi, type KongApiBackend } from '../admin/kong-api.js';
import { toFlat, uuid5, type FlatState } from '../admin/kong-state.js';
import { hostname as hostnameOf } from 'node:os';
import { startAdminServer } from '../admin/server.js';
import { knownPluginNames } from '../model/plugins/index.js';
import { dropYamlAhead, parseYamlAhead, parseYamlSource, type SourceText } from '../model/yaml-source.js';
import { diag, formatDiagnostic, type Diagnostic } from '../errors.js';
import type { IrOptions } from '../ir/build.js';
import type { GatewayIR } from '../ir/types.js';
import type { GatewayModel } from '../model/types.js';
import type { Logger } from '../logger.js';
import type { TranslateSettings } from '../resources/filters/registry.js';
import { shortType } from '../resources/type-urls.js';
import { AdsServer } from '../xds/ads-server.js';
import { mayHold } from '../xds/rights.js';
import { buildSnapshot, type Snapshot } from '../xds/snapshot.js';
import { TlsSource, type TlsFiles } from '../tls.js';
import { CompileCache, compileConfig, type BuildTimings } from './compile.js';
import { enforcersOf } from './plugin-enforcers.js';
import { entityIds, type EntityIds } from './entity-ids.js';
import { OffLoopBuilder, type BuildLimits } from './off-loop-build.js';
import { readConfigTexts } from './config-files.js';
import { ConfigWatcher } from './config-watcher.js';
import { EditTrace } from './edit-trace.js';
import { PemWatcher } from './pem-watcher.js';
import { SheddingWatch } from './envoy-shedding.js';
import { AcmeManager } from './acme-manager.js';
import type { AcmeInputs } from '../ir/acme.js';

export interface ControlPlaneOptions {
  configPath: string;
  xds: { host: string; port: number };
  admin: { host: string; port: number };
  settings: TranslateSettings;
  ir: IrOptions;
  logger: Logger;
  /** Watch the config for edits (default true), and the PEM files it names. */
  watch?: boolean;
  /** How often the PEM files a config names are checked for a change (ms, default 1000). */
  pemPollMs?: number;
  /** mTLS on the xDS port: the control plane's certificate, key and the CA of its nodes. */
  tls?: TlsFiles;
  /**
   * The admin token: the Admin API's writes require it (Kong-Admin-Token; none: writes only on a
   * loopback admin), and on an admin bound beyond loopback every request but /healthz and /readyz.
   */
  adminToken?: string;
  /**
   * Build file edits on a worker thread, so that a big config never stops xDS and the admin
   * port from answering (default true). The first load (before anything is served), Admin API
   * writes and `reload()` build on the event loop.
   */
  buildOffLoop?: boolean;
  /** The time and memory bounds of a build on the worker thread. */
  buildLimits?: BuildLimits;
  /** A file edit whose build is expected to take less is built on the event loop (ms, default 1000). */
  quickBuildMs?: number;
  /** The acme plugin's client: PEM roots trusted for the ACME server besides Node's (`--acme-ca`). */
  acmeCa?: string[];
}

/** A build's outcome, wherever it ran: what applying it needs. */
interface Built {
  diagnostics: Diagnostic[];
  snapshot: Snapshot;
  ids: () => EntityIds;
  ir: () => GatewayIR | undefined;
  model: () => GatewayModel | undefined;
  /** Where the build's time went (built on the event loop). */
  timings?: BuildTimings;
  /** What the ACME manager reads of the config. */
  acme?: AcmeInputs;
}

/** Where the config being served came from. */
export type ConfigSource = 'file' | 'admin';

/** One reload, as the dashboard's history shows it. */
export interface ReloadRecord {
  at: string;
  source: ConfigSource;
  label: string;
  result: ReloadOutcome['result'];
  version?: string;
  ms: number;
  errors: string[];
}

const HISTORY = 50;

/** An edit whose build is expected to take less is built on the event loop (until one took longer). */
const QUICK_BUILD_MS = 1000;

/**
 * How much cheaper an edit's build is expected to be than the build from nothing, before any
 * edit was measured: an edit rebuilds only what it changed (a one-route edit at 1,000 routes
 * costs ~2-5 % of the build from nothing, measured: ~35 ms against ~1.5 s), so a first build
 * under QUICK_BUILD_MS × this has its first edit built on the event loop.
 */
const EDIT_VS_FIRST_BUILD = 10;

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
  private readonly tls?: TlsSource;
  private watcher?: ConfigWatcher;
  private pems?: PemWatcher;
  private admin?: Server;
  private lastError?: { at: string; diagnostics: Diagnostic[] };
  private lastApplied?: { at: string; version: string };
  /** The ids of the applied configuration's routes and consumers (the file's, or Kong's generated ones). */
  private ids: EntityIds = { routes: [], consumers: [] };
  private warnings: Diagnostic[] = [];
  private texts: SourceText[] = [];
  private flatCache?: { version: string; flat: FlatState };
  private appliedAtMs = Date.now();
  /** Where the config being served came from: the file, or the Admin API until the file changes again. */
  source: ConfigSource = 'file';
  readonly history: ReloadRecord[] = [];
  readonly pushSamples: { at: string; node: string; ms: number }[] = [];
  readonly buildSamples: { at: string; ms: number }[] = [];
  kong?: KongAdminApi;
  private dashboard?: Dashboard;
  private compiled?: { model: () => GatewayModel | undefined; ir: () => GatewayIR | undefined };
  /** What the last build made for each entity, reused by the next for those that did not change. */
  private readonly cache = new CompileCache();
  /** The worker thread file edits are built on (it keeps its own cache). */
  private builder?: OffLoopBuilder;
  private inflight?: Promise<ReloadOutcome>;
  private rerun = false;
  /** Builds are numbered as they start; one that finishes after a later one has is dropped. */
  private buildsStarted = 0;
  private lastSettled = 0;
  /** The time of the build from nothing (the first applied), and of the last build of an edit (on a served snapshot), ms. */
  private readonly buildMs: { first?: number; lastEdit?: number } = {};
  readonly startedAt = new Date().toISOString();
  /** How many reloads have finished (applied, unchanged or rejected). */
  reloadCount = 0;
  /** The clusters the Envoys whose admin address we know are shedding now (/status `shedding`). */
  readonly shedding: SheddingWatch;
  /**
   * The timeline of the last file edit (logged as `edit timeline` once the first node holds its
   * snapshot); a newer edit replaces it.
   */
  private trace?: EditTrace;
  private traceLogged = false;
  /** The timeline of a file change not yet taken by a build (the next build of the file takes it). */
  private nextTrace?: EditTrace;
  /** The acme plugin's background work: certificates and challenges it holds go into every build. */
  private readonly acme: AcmeManager;

  constructor(private readonly opts: ControlPlaneOptions) {
    this.log = opts.logger.child({ component: 'control-plane' });
    this.shedding = new SheddingWatch(this.log);
    // Credential hashes salted per run: a copy of one run's Consumer resources says nothing of another's.
    opts.settings = { ...opts.settings, credentialSalt: opts.settings.credentialSalt ?? randomBytes(16).toString('base64url') };
    this.tls = opts.tls ? new TlsSource(opts.tls, { logger: this.log }) : undefined;
    this.ads = new AdsServer(opts.logger, this.tls ? { source: this.tls, allowed: mayHold } : undefined);
    const orders = this.registry.add(new Counter('frontdesk_acme_orders_total', 'ACME orders (the acme plugin) that ended, by result: issued or failed.', false));
    this.acme = new AcmeManager({ rebuild: () => this.acmeRebuild(), delivered: (ms) => this.delivered(ms) }, this.log.child({ plugin: 'acme' }), {
      ...(opts.acmeCa ? { ca: opts.acmeCa } : {}),
      onOrder: (result) => orders.inc({ result }),
    });
    this.registry.add(new Gauge('frontdesk_acme_certificate_expiry_timestamp_seconds', 'When each certificate the acme plugin serves expires (Unix seconds), by name.',
      () => this.acme.expiries().map(([domain, ms]): [Record<string, string>, number] => [{ domain }, Math.floor(ms / 1000)])));
    const denied = this.registry.add(new Counter('frontdesk_xds_denied_subscriptions_total', 'xDS subscriptions refused for the identity of the client certificate, by type and identity.'));
    this.ads.on('denied', (_n, identity, typeUrl) => denied.inc({ type: shortType(typeUrl), identity }));
    const delivering = () => (this.trace?.version !== undefined && !this.traceLogged ? this.trace : undefined);
    this.ads.on('push', (_n, typeUrl) => {
      this.m.pushes.inc({ type: shortType(typeUrl) });
      delivering()?.mark(`${shortType(typeUrl)} queued`);
    });
    this.ads.on('written', (_n, typeUrl) => delivering()?.mark(`${shortType(typeUrl)} written`));
    this.ads.on('ack', (_n, typeUrl) => delivering()?.mark(`${shortType(typeUrl)} ACK`));
    this.ads.on('nack', (_n, typeUrl) => this.m.nacks.inc({ type: shortType(typeUrl) }));
    this.ads.on('converged', (node, version, ms) => {
      const trace = delivering();
      if (trace?.version === version) {
        trace.mark('first node holds it');
        this.traceLogged = true;
        this.log.info({ version, node, ...trace.toJSON() }, 'edit timeline');
      }
      this.m.pushLatency.observe(ms / 1000);
      this.pushSamples.push({ at: new Date().toISOString(), node, ms });
      if (this.pushSamples.length > HISTORY) this.pushSamples.shift();
    });
  }

  /** Loads the config, starts ADS and admin, and watches for edits. Ports are the bound ones. */
  async start(): Promise<{ xdsPort: number; adminPort: number }> {
    // The first build runs here: nothing is served yet, so there is nothing to keep answering.
    const first = this.reload();
    if (first.result === 'rejected') {
      this.log.error({ errors: first.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) }, 'the config has errors; serving nothing until it is fixed');
    }
    const xdsPort = await this.ads.listen(this.opts.xds.host, this.opts.xds.port);
    this.log.info({ port: xdsPort }, 'xds listening');
    this.dashboard = new Dashboard(() => this.dashboardData());
    this.kong = new KongAdminApi(this.kongBackend(), new AdminAuth(this.opts.adminToken, this.opts.admin.host), this.log);
    const admin = await startAdminServer(this.opts.admin.host, this.opts.admin.port, {
      ready: () => this.ads.snapshot !== undefined,
      status: () => this.status(),
      metrics: () => this.registry.render(),
      route: (req, res, url) => this.dashboard!.handle(req, res, url) || this.kong!.handle(req, res, url),
    }, this.log, this.opts.adminToken);
    this.admin = admin.server;
    this.adminPort = admin.port;
    if (this.opts.watch !== false) {
      this.watcher = new ConfigWatcher(this.opts.configPath, { settled: () => configParses(this.opts.configPath) }).start();
      this.watcher.on('change', (reason, burst) => {
        const trace = new EditTrace(burst.firstEventAt);
        if (burst.checkedAt !== undefined) trace.mark('parsed (complete)', burst.checkedAt);
        trace.mark(`debounce fired (${reason})`);
        this.nextTrace = trace;
        // The file wins over a config posted to the Admin API, from its next change on.
        if (this.source === 'admin') this.log.warn({ config: this.opts.configPath }, 'the config file changed: it replaces the config applied through the Admin API');
        if (this.opts.buildOffLoop === false) this.reload();
        else void this.reloadOffLoop();
      });
    }
    return { xdsPort, adminPort: admin.port };
  }

  /** The timeline of the file change a build starting now is for (it becomes the last edit's). */
  private takeTrace(): EditTrace | undefined {
    const trace = this.nextTrace;
    this.nextTrace = undefined;
    if (trace) { this.trace = trace; this.traceLogged = false; }
    return trace;
  }

  /**
   * The last file edit's timeline: each step in ms since the watcher's first event (`at`, epoch
   * ms), from the debounce to the first node holding the snapshot it made (see edit-trace.ts).
   */
  lastEdit(): { version?: string; at: number; steps: Record<string, number> } | undefined {
    return this.trace && { version: this.trace.version, ...this.trace.toJSON() };
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
    const seq = ++this.buildsStarted;
    const trace = this.takeTrace();
    let texts: ReturnType<typeof readConfigTexts>;
    try {
      texts = readConfigTexts(this.opts.configPath);
      trace?.mark('read');
    } catch (e) {
      return this.record('file', this.opts.configPath, started, this.reject(seq, [{ ...diag('FD_READ_FAILED', [], this.opts.configPath, (e as Error).message), file: this.opts.configPath }]));
    }
    return this.record('file', this.opts.configPath, started, this.applyTexts(seq, texts, 'file', started, trace));
  }

  /**
   * Reads the config again and builds it on the worker thread: the event loop goes on serving
   * xDS, /healthz and the companions meanwhile. Edits that come during a build are built once
   * more after it (the file read again then); the promise is of the last of them.
   */
  reloadOffLoop(): Promise<ReloadOutcome> {
    if (this.inflight) {
      this.rerun = true;
      return this.inflight;
    }
    const run = async (): Promise<ReloadOutcome> => {
      let out: ReloadOutcome;
      do {
        this.rerun = false;
        try {
          out = await this.reloadOnceOffLoop();
        } finally {
          this.reloadCount++;
        }
      } while (this.rerun);
      return out;
    };
    this.inflight = run().finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  private buildOptions() {
    return { ir: this.opts.ir, settings: this.opts.settings, adminPort: this.opts.admin.port || undefined, acme: this.acme.state() };
  }

  /**
   * The served config built again with what the ACME client holds now (a challenge to answer, a
   * certificate obtained): from the texts last applied, so an edit with errors since never
   * stands in the way. A file edit being built on the thread is built once more instead.
   */
  private async acmeRebuild(): Promise<void> {
    if (this.stopped || !this.texts.length) return;
    if (this.inflight) { this.rerun = true; await this.inflight; return; }
    const started = Date.now();
    try {
      this.record(this.source, 'acme', started, this.applyTexts(++this.buildsStarted, this.texts, this.source, started));
    } finally {
      this.reloadCount++;
    }
  }

  /** Resolves true when every connected node holds the snapshot served now (at least one node), false after `timeoutMs`. */
  private delivered(timeoutMs: number): Promise<boolean> {
    const done = () => {
      const version = this.ads.snapshot?.version;
      const nodes = this.ads.nodes();
      return version !== undefined && nodes.length > 0 && nodes.every((n) => n.convergedVersion === version);
    };
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => { if (done()) finish(true); };
      const finish = (ok: boolean) => { clearTimeout(timer); this.ads.off('converged', check); resolve(ok); };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.ads.on('converged', check);
    });
  }

  private async reloadOnceOffLoop(): Promise<ReloadOutcome> {
    const started = Date.now();
    const seq = ++this.buildsStarted;
    const path = this.opts.configPath;
    const trace = this.takeTrace();
    let texts: ReturnType<typeof readConfigTexts>;
    try {
      texts = readConfigTexts(path);
      trace?.mark('read');
    } catch (e) {
      return this.record('file', path, started, this.reject(seq, [{ ...diag('FD_READ_FAILED', [], path, (e as Error).message), file: path }]));
    }
    // An edit whose build is expected to be quick is built here: blocking the loop that briefly
    // costs less than the round trip to the thread (1.1-1.5x the time of a one-route edit at
    // 1,000 routes, bench/propagation/build-place.ts: the copies both ways, and the thread's
    // own parse of the file the watcher parsed already), and no thread is started for it. The
    // expectation is the last edit's build, or before any, the build from nothing divided by
    // EDIT_VS_FIRST_BUILD. A big one goes to the thread (started at the first such edit; it then
    // needs one build from nothing to be quick), and stays there.
    const expectedMs = this.buildMs.lastEdit ?? (this.buildMs.first ?? Infinity) / EDIT_VS_FIRST_BUILD;
    if (expectedMs < (this.opts.quickBuildMs ?? QUICK_BUILD_MS) && !this.builder) {
      return this.record('file', path, started, this.applyTexts(seq, texts, 'file', started, trace));
    }
    dropYamlAhead(); // the thread parses the file itself
    this.builder ??= new OffLoopBuilder(this.opts.buildLimits);
    const r = await this.builder.build(texts, this.buildOptions(), started, this.ads.snapshot);
    trace?.mark('built (worker thread)');
    if (this.stopped) return { result: 'unchanged', diagnostics: [] }; // stopped during the build: nothing more is served
    if (r.threadFailed) {
      // The thread itself failed (not the config): the config is built here instead, never refused for it.
      this.log.warn({ reason: r.diagnostics.map((d) => d.message).join('; ') }, 'the build thread failed; building on the event loop');
      return this.record('file', path, started, this.applyTexts(seq, texts, 'file', started, trace));
    }
    if (r.watchFiles) this.followPems(r.watchFiles);
    if (r.stack) this.log.error({ err: r.stack }, 'translation failed');
    if (!r.ok || !r.snapshot) {
      const diagnostics = r.diagnostics.map((d) => (d.file === undefined && d.severity === 'error' ? { ...d, file: path } : d));
      return this.record('file', path, started, this.reject(seq, diagnostics));
    }
    const ir = r.ir;
    return this.record('file', path, started, this.accept(seq, texts, 'file', started, {
      diagnostics: r.diagnostics, snapshot: r.snapshot, ids: () => r.ids ?? entityIds(ir()), ir, model: r.model, ...(r.acme ? { acme: r.acme } : {}),
    }, trace));
  }

  /**
   * Applies a config given as text (the Admin API's POST /config and entity writes): the same
   * load, validation and translation as a file edit. It serves until the file changes again.
   */
  applyText(text: string, label: string): ReloadOutcome {
    const started = Date.now();
    try {
      return this.record('admin', label, started, this.applyTexts(++this.buildsStarted, [{ file: label, text }], 'admin', started));
    } finally {
      this.reloadCount++;
    }
  }

  private record(source: ConfigSource, label: string, started: number, out: ReloadOutcome): ReloadOutcome {
    this.history.push({
      at: new Date().toISOString(), source, label, result: out.result, ...(out.version ? { version: out.version } : {}), ms: Date.now() - started,
      errors: out.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic),
    });
    if (this.history.length > HISTORY) this.history.shift();
    return out;
  }

  /** Builds `texts` here and applies the result; `trace`, the timeline of the file edit it is for. */
  private applyTexts(seq: number, texts: SourceText[], source: ConfigSource, started: number, trace?: EditTrace): ReloadOutcome {
    let compiled: ReturnType<typeof compileConfig>;
    try {
      compiled = compileConfig(texts, { ...this.buildOptions(), cache: this.cache, onStage: trace && ((stage) => trace.mark(stage)) });
    } catch (e) {
      // A config the model accepted but translation cannot serve: a gap in validation.
      this.log.error({ err: (e as Error).stack }, 'translation failed');
      return this.reject(seq, [{ ...diag('FD_TRANSLATE', [], (e as Error).message), file: texts[0]?.file ?? this.opts.configPath }]);
    }
    this.followPems(compiled.watchFiles ?? []);
    if (!compiled.ok || !compiled.translation) return this.reject(seq, compiled.diagnostics);
    let snapshot: Snapshot;
    const t = performance.now();
    try {
      snapshot = buildSnapshot(compiled.translation, started, this.ads.snapshot, this.cache.encoder.encode);
      if (compiled.timings) compiled.timings.snapshot = Math.round((performance.now() - t) * 10) / 10;
      trace?.mark('encoded (snapshot)');
    } catch (e) {
      // A resource that does not encode is a translation bug: never push it.
      return this.reject(seq, [{ ...diag('FD_TRANSLATE', [], (e as Error).message), file: this.opts.configPath }]);
    }
    const { model, ir } = compiled;
    return this.accept(seq, texts, source, started, { diagnostics: compiled.diagnostics, snapshot, ids: () => entityIds(ir), ir: () => ir, model: () => model, timings: compiled.timings, ...(compiled.acme ? { acme: compiled.acme } : {}) }, trace);
  }

  /** A build that succeeded: pushed when it differs from what is served (unless a later build has settled first). */
  private accept(seq: number, texts: SourceText[], source: ConfigSource, started: number, built: Built, trace?: EditTrace): ReloadOutcome {
    const { snapshot } = built;
    if (seq < this.lastSettled) return this.superseded(built.diagnostics);
    this.lastSettled = seq;
    if (this.ads.snapshot) this.buildMs.lastEdit = Date.now() - started;
    else this.buildMs.first ??= Date.now() - started;
    this.m.buildTime.observe((Date.now() - started) / 1000);
    this.buildSamples.push({ at: new Date().toISOString(), ms: Date.now() - started });
    if (this.buildSamples.length > HISTORY) this.buildSamples.shift();
    this.warnings = built.diagnostics.filter((d) => d.severity === 'warning');
    this.lastError = undefined;
    this.texts = texts;
    this.source = source;
    this.compiled = { model: built.model, ir: built.ir };
    this.acme.configApplied(built.acme);
    if (this.ads.snapshot?.version === snapshot.version) {
      this.m.reloads.inc({ result: 'unchanged' });
      return { result: 'unchanged', version: snapshot.version, diagnostics: built.diagnostics };
    }
    if (trace) { trace.version = snapshot.version; trace.mark('handed to the streams'); }
    this.ads.setSnapshot(snapshot);
    this.appliedAtMs = Date.now();
    this.lastApplied = { at: new Date().toISOString(), version: snapshot.version };
    this.ids = built.ids();
    this.m.reloads.inc({ result: 'applied' });
    this.log.info({ version: snapshot.version, ms: Date.now() - started, ...(built.timings ? { timings: built.timings } : {}), warnings: this.warnings.length }, 'config applied');
    for (const w of this.warnings) this.log.warn({ diagnostic: formatDiagnostic(w) }, 'config warning');
    return { result: 'applied', version: snapshot.version, diagnostics: built.diagnostics };
  }

  /**
   * Watches the PEM files the config names: a change (a mesh agent's rotation) compiles the same
   * config again, so the new certificate or bundle goes out as a new SDS secret, nothing else.
   */
  private followPems(files: readonly string[]): void {
    if (this.opts.watch === false) return;
    this.pems ??= new PemWatcher((file) => {
      this.log.info({ file }, 'a PEM file changed; compiling again');
      if (this.source === 'file') { this.reload(); return; }
      const started = Date.now();
      try {
        this.record('admin', file, started, this.applyTexts(++this.buildsStarted, this.texts, 'admin', started));
      } finally {
        this.reloadCount++;
      }
    }, this.opts.pemPollMs);
    this.pems.follow(files);
  }

  /** A build that finished after a later one had: what it read is older than what is served. */
  private superseded(diagnostics: Diagnostic[]): ReloadOutcome {
    this.log.info({ serving: this.ads.snapshot?.version ?? null }, 'a build finished after a later one: dropped');
    return { result: 'unchanged', ...(this.ads.snapshot ? { version: this.ads.snapshot.version } : {}), diagnostics };
  }

  private reject(seq: number, diagnostics: Diagnostic[]): ReloadOutcome {
    if (seq < this.lastSettled) return this.superseded(diagnostics);
    this.lastSettled = seq;
    const errors = diagnostics.filter((d) => d.severity === 'error');
    this.lastError = { at: new Date().toISOString(), diagnostics: errors };
    this.m.reloads.inc({ result: 'rejected' });
    this.m.configErrors.inc();
    this.log.error({ errors: errors.map(formatDiagnostic), keeping: this.ads.snapshot?.version ?? null }, 'config rejected; the last good version keeps serving');
    return { result: 'rejected', diagnostics };
  }

  /** The config being served, flat, as the Admin API lists it. */
  flat(): FlatState {
    const version = this.ads.snapshot?.version ?? '';
    if (this.flatCache?.version !== version) {
      this.flatCache = { version, flat: toFlat(this.texts.map((t) => parseYamlSource(t).source?.data)) };
    }
    return this.flatCache.flat;
  }

  private adminPort = 0;

  private kongBackend(): KongApiBackend {
    return {
      flat: () => this.flat(),
      appliedAtSeconds: () => Math.floor(this.appliedAtMs / 1000),
      applyText: (text, label) => this.applyText(text, label),
      applyFlat: (st, label) => this.applyText(KongAdminApi.yaml(st), label),
      configYaml: () => KongAdminApi.yaml(this.flat()),
      nodeId: uuid5Node(this.opts.admin, this.opts.xds),
      adminListen: `${this.opts.admin.host}:${this.opts.admin.port}`,
      proxyListen: `${this.opts.ir.defaultListener.address}:${this.opts.ir.defaultListener.port}`,
      pluginsAvailable: () => knownPluginNames().slice().sort(),
      status: () => ({ server: {}, database: { reachable: true }, configuration_hash: this.ads.snapshot?.version ?? null }),
      acme: this.acme,
    };
  }

  /** What /status shows: Frontdesk's own fields, and Kong's (database, configuration_hash). */
  status(): unknown {
    return {
      database: { reachable: true },
      configuration_hash: this.ads.snapshot?.version ?? null,
      source: this.source,
      config: this.opts.configPath,
      version: this.ads.snapshot?.version ?? null,
      appliedAt: this.lastApplied?.at ?? null,
      startedAt: this.startedAt,
      lastError: this.lastError ? {
        at: this.lastError.at,
        errors: this.lastError.diagnostics.map((d) => ({ code: d.code, file: d.file, line: d.line, col: d.col, message: d.message, hint: d.hint, text: formatDiagnostic(d) })),
      } : null,
      warnings: this.warnings.map(formatDiagnostic),
      entities: this.ids,
      nodes: this.ads.nodes(),
      shedding: this.shedding.shedding(),
      ...(this.acme.status() ? { acme: this.acme.status() } : {}),
    };
  }

  /** What the dashboard at /ui shows. */
  dashboardData(): unknown {
    const st = this.status() as { lastError: { at: string; errors: { text: string; message: string }[] } | null; warnings: string[] };
    const s = this.opts.settings;
    return dashboardData({
      version: this.ads.snapshot?.version ?? null, source: this.source, config: this.opts.configPath, appliedAt: this.lastApplied?.at ?? null,
      ir: this.compiled?.ir(), enforcers: enforcersOf(this.compiled?.model()), nodes: this.ads.nodes(), lastError: st.lastError, warnings: st.warnings,
      history: this.history, pushSamples: this.pushSamples, buildSamples: this.buildSamples, acme: this.acme.status(),
      companions: [
        { name: 'authz', address: `${s.authz.host}:${s.authz.port}` },
        { name: 'ratelimit', address: `${s.ratelimit.host}:${s.ratelimit.port}` },
        { name: 'transform', address: `${s.transform.host}:${s.transform.port}` },
      ],
    });
  }

  private stopped = false;

  async stop(): Promise<void> {
    this.stopped = true;
    this.shedding.stop();
    await this.acme.stop();
    this.watcher?.close();
    this.pems?.close();
    await this.builder?.close();
    this.kong?.close();
    this.dashboard?.close();
    this.tls?.close();
    await new Promise<void>((r) => (this.admin ? this.admin.close(() => r()) : r()));
    this.admin?.closeAllConnections?.();
    await this.ads.close();
  }
}

/** Whether the config on disk reads and parses as YAML now (the watcher applies such an edit at once). */
function configParses(path: string): boolean {
  try {
    const texts = readConfigTexts(path);
    // A single file is parsed for its build too (the build that follows takes this parse).
    const parse = texts.length === 1 ? parseYamlAhead : parseYamlSource;
    return texts.length > 0 && texts.every((t) => t.text.trim() !== '' && parse(t).source !== undefined);
  } catch {
    return false;
  }
}

/** The node id GET / shows: stable for one control plane's addresses. */
function uuid5Node(admin: { host: string; port: number }, xds: { host: string; port: number }): string {
  return uuid5(`node:${hostnameOf()}:${admin.host}:${admin.port}:${xds.host}:${xds.port}`);
}
