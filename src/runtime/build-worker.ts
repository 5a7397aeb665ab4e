import { serialize } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { diag } from '../errors.js';
import { buildSnapshot, type Snapshot } from '../xds/snapshot.js';
import { CompileCache, compileConfig } from './compile.js';
import { entityIds } from './entity-ids.js';
import type { BuildRequest, BuildResponse, WireResource } from './off-loop-build.js';

/**
 * The build thread (node:worker_threads): load, compile, check and encode, off the control
 * plane's event loop. It keeps its own CompileCache, so an edit costs what it changed here as
 * on the event loop, and answers with the encoded resources (bytes, versions) and what the
 * control plane shows of the config; the IR and the model travel serialized, read only when
 * the dashboard asks for them.
 */
const cache = new CompileCache();
let previous: Snapshot | undefined;

function wire(s: Snapshot): BuildResponse['snapshot'] {
  const list = (m: Map<string, { name: string; version: string; any: Uint8Array }>): WireResource[] => [...m.values()].map((r) => ({ name: r.name, version: r.version, any: r.any }));
  return {
    version: s.version,
    fleets: [...s.fleets].map(([fleet, types]) => [fleet, [...types].map(([t, m]) => [t, list(m)] as [string, WireResource[]])]),
    companions: [...s.companions].map(([t, m]) => [t, list(m)]),
  };
}

function serialized(v: unknown): Uint8Array | undefined {
  try {
    return serialize(v);
  } catch {
    return undefined; // something the structured clone cannot carry (a function): the dashboard goes without it
  }
}

function build(req: BuildRequest): BuildResponse {
  let compiled: ReturnType<typeof compileConfig>;
  try {
    compiled = compileConfig(req.texts, { ...req.options, cache });
  } catch (e) {
    return { id: req.id, ok: false, diagnostics: [{ ...diag('FD_TRANSLATE', [], (e as Error).message), file: req.texts[0]?.file ?? '' }], stack: (e as Error).stack };
  }
  if (!compiled.ok || !compiled.translation) return { id: req.id, ok: false, diagnostics: compiled.diagnostics, watchFiles: compiled.watchFiles ?? [] };
  let snapshot: Snapshot;
  try {
    snapshot = buildSnapshot(compiled.translation, 0, previous, cache.encoder.encode);
  } catch (e) {
    return { id: req.id, ok: false, diagnostics: [{ ...diag('FD_TRANSLATE', [], (e as Error).message), file: req.texts[0]?.file ?? '' }] };
  }
  previous = snapshot;
  return {
    id: req.id, ok: true, diagnostics: compiled.diagnostics, snapshot: wire(snapshot), ids: entityIds(compiled.ir), watchFiles: compiled.watchFiles ?? [],
    ir: serialized(compiled.ir), model: serialized(compiled.model), ...(compiled.acme ? { acme: compiled.acme } : {}),
  };
}

parentPort!.on('message', (req: BuildRequest) => {
  parentPort!.postMessage(build(req));
});
