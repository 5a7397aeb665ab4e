import { deserialize } from 'node:v8';
import type { AcmeInputs } from '../ir/acme.js';
import { Worker } from 'node:worker_threads';
import { diag, type Diagnostic } from '../errors.js';
import type { GatewayIR } from '../ir/types.js';
import type { GatewayModel } from '../model/types.js';
import type { SourceText } from '../model/yaml-source.js';
import { decodeToJson, type Json } from '../xds/proto-json.js';
import { messageType, typeForUrl } from '../xds/proto-registry.js';
import type { EncodedResource, Snapshot, TypeResources } from '../xds/snapshot.js';
import type { CompileOptions } from './compile.js';
import type { EntityIds } from './entity-ids.js';

/** What the control plane sends the build thread. */
export interface BuildRequest {
  id: number;
  texts: SourceText[];
  options: Omit<CompileOptions, 'cache'>;
}

/** One encoded resource as it crosses between threads. */
export interface WireResource { name: string; version: string; any: Uint8Array }

/** What the build thread answers. */
export interface BuildResponse {
  id: number;
  ok: boolean;
  diagnostics: Diagnostic[];
  snapshot?: { version: string; fleets: [string, [string, WireResource[]][]][]; companions: [string, WireResource[]][] };
  /** The routes and consumers with their ids (/status). */
  ids?: EntityIds;
  /** The PEM files the config names (followed for rotation). */
  watchFiles?: string[];
  /** The IR and the model, serialized (node:v8), for the dashboard to read when it is asked for. */
  ir?: Uint8Array;
  model?: Uint8Array;
  /** What the ACME manager reads of the config (plain data, cloned). */
  acme?: AcmeInputs;
  /** A translation bug's stack, for the log. */
  stack?: string;
  /** The thread failed or stopped (not the config): the build can be done elsewhere. */
  threadFailed?: boolean;
}

/** A build done off the event loop, as the control plane uses it. */
export interface OffLoopResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  snapshot?: Snapshot;
  ids?: EntityIds;
  watchFiles?: string[];
  /** Read on first use (deserialized then): only the dashboard needs them. */
  ir: () => GatewayIR | undefined;
  model: () => GatewayModel | undefined;
  acme?: AcmeInputs;
  stack?: string;
  /** The thread failed or stopped, not the config: building it elsewhere may succeed. */
  threadFailed?: boolean;
}

export interface BuildLimits {
  /** A build that runs longer is stopped and refused (default 120 s). */
  timeoutMs?: number;
  /** The build thread's heap (V8 old generation, MiB); a build that needs more is refused (default 4096). */
  maxHeapMb?: number;
}

/**
 * Runs builds on a worker thread (build-worker.ts), one at a time, so that loading, compiling,
 * checking and encoding a big config never stops the event loop that serves xDS, /healthz and
 * the companions. The thread keeps its caches between builds; a build that exceeds the time or
 * memory bound is stopped (the thread is replaced) and answered with FD_BUILD_LIMIT.
 */
export class OffLoopBuilder {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: BuildResponse) => void; timer: NodeJS.Timeout }>();
  private queue: Promise<unknown> = Promise.resolve();
  private warmThread?: Worker;

  constructor(private readonly limits: BuildLimits = {}) {}

  /** True once the current thread has finished a build: its protos are loaded and its cache holds a config. */
  get warm(): boolean {
    return this.worker !== undefined && this.warmThread === this.worker;
  }

  /** Builds `texts` on the build thread; the resources and versions are those compileConfig + buildSnapshot give. */
  build(texts: SourceText[], options: Omit<CompileOptions, 'cache'>, createdAt: number, previous?: Snapshot): Promise<OffLoopResult> {
    const run = this.queue.then(() => this.send(texts, options)).then((r) => result(r, createdAt, previous));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const resourceLimits = { maxOldGenerationSizeMb: this.limits.maxHeapMb ?? 4096 };
    // Run from the TypeScript sources (tests, benchmarks under tsx), the thread registers tsx's loader first.
    const w = import.meta.url.endsWith('.ts')
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(new URL('./build-worker.ts', import.meta.url).href)}); });`, { eval: true, resourceLimits, stderr: true })
      : new Worker(new URL('./build-worker.js', import.meta.url), { resourceLimits, stderr: true });
    // What the thread writes to stderr (a crash's last words) is kept for the diagnostic.
    let stderr = '';
    w.stderr.setEncoding('utf8');
    w.stderr.on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
    w.unref();
    w.on('message', (r: BuildResponse) => {
      this.warmThread = w;
      this.settle(r.id, r);
    });
    const lost = (r: (id: number) => BuildResponse) => {
      if (this.worker === w) this.worker = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, r(id));
    };
    w.on('error', (e) => lost((id) => ((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? limitResponse(id, `it needed more than ${this.limits.maxHeapMb ?? 4096} MiB`)
      : { id, ok: false, diagnostics: [diag('FD_TRANSLATE', [], `the build thread failed: ${e.message}`)], stack: e.stack, threadFailed: true })));
    w.on('exit', (code) => {
      const report = () => lost((id) => ({ id, ok: false, diagnostics: [diag('FD_TRANSLATE', [], `the build thread stopped (exit code ${code})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`)], threadFailed: true }));
      // Its last words may still be on their way.
      if (w.stderr.readableEnded) report();
      else {
        w.stderr.once('end', report);
        setTimeout(report, 500).unref();
      }
    });
    this.worker = w;
    return w;
  }

  private send(texts: SourceText[], options: Omit<CompileOptions, 'cache'>): Promise<BuildResponse> {
    const id = this.nextId++;
    const w = this.thread();
    return new Promise((resolve) => {
      const timeoutMs = this.limits.timeoutMs ?? 120_000;
      const timer = setTimeout(() => {
        this.settle(id, limitResponse(id, `it took longer than ${timeoutMs} ms`));
        if (this.worker === w) this.worker = undefined;
        void w.terminate();
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, timer });
      w.postMessage({ id, texts, options } satisfies BuildRequest);
    });
  }

  private settle(id: number, r: BuildResponse): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(r);
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

function limitResponse(id: number, why: string): BuildResponse {
  return { id, ok: false, diagnostics: [diag('FD_BUILD_LIMIT', [], why)] };
}

function lazy<T>(bytes: Uint8Array | undefined): () => T | undefined {
  let done = false;
  let value: T | undefined;
  return () => {
    if (!done) {
      done = true;
      value = bytes ? (deserialize(bytes) as T) : undefined;
    }
    return value;
  };
}

function result(r: BuildResponse, createdAt: number, previous?: Snapshot): OffLoopResult {
  const out: OffLoopResult = { ok: r.ok, diagnostics: r.diagnostics, ir: lazy<GatewayIR>(r.ir), model: lazy<GatewayModel>(r.model), ...(r.ids ? { ids: r.ids } : {}), ...(r.acme ? { acme: r.acme } : {}), ...(r.watchFiles ? { watchFiles: r.watchFiles } : {}), ...(r.stack ? { stack: r.stack } : {}), ...(r.threadFailed ? { threadFailed: true } : {}) };
  if (r.ok && r.snapshot) out.snapshot = snapshotOf(r.snapshot, createdAt, previous);
  return out;
}

/**
 * The snapshot the build thread made, on this side: each resource of `previous` whose version
 * is unchanged is the same object (its delta bytes stay cached); a new one reads its JSON body
 * from its bytes on first use.
 */
function snapshotOf(w: NonNullable<BuildResponse['snapshot']>, createdAt: number, previous?: Snapshot): Snapshot {
  const prior = new Map<string, EncodedResource>();
  if (previous) {
    for (const types of previous.fleets.values()) for (const m of types.values()) for (const r of m.values()) prior.set(`${r.typeUrl}|${r.name}|${r.version}`, r);
    for (const m of previous.companions.values()) for (const r of m.values()) prior.set(`${r.typeUrl}|${r.name}|${r.version}`, r);
  }
  const shared = new Map<string, EncodedResource>();
  const typeMap = (typeUrl: string, list: WireResource[]): TypeResources => {
    const m: TypeResources = new Map();
    for (const x of list) {
      const key = `${typeUrl}|${x.name}|${x.version}`;
      let r = shared.get(key) ?? prior.get(key);
      if (!r) r = encoded(typeUrl, x);
      shared.set(key, r);
      m.set(x.name, r);
    }
    return m;
  };
  return {
    version: w.version,
    fleets: new Map(w.fleets.map(([fleet, types]) => [fleet, new Map(types.map(([t, list]) => [t, typeMap(t, list)]))])),
    companions: new Map(w.companions.map(([t, list]) => [t, typeMap(t, list)])),
    createdAt,
  };
}

function encoded(typeUrl: string, x: WireResource): EncodedResource {
  let body: Json | undefined;
  return {
    name: x.name, typeUrl, version: x.version, any: x.any,
    get body(): Json {
      if (body === undefined) {
        const value = (messageType('google.protobuf.Any').decode(x.any) as unknown as { value: Uint8Array }).value;
        const type = typeForUrl(typeUrl);
        body = type ? decodeToJson(type, value) : {};
      }
      return body;
    },
  };
}
