import { formatDiagnostic, type Diagnostic } from '../errors.js';
import { acmeInputs, acmeNeedsDefault, applyAcme, NO_ACME_STATE, type AcmeInputs, type AcmeState } from '../ir/acme.js';
import { defaultServerCertificate } from './certs.js';
import { buildIR, type IrOptions, DEFAULT_IR_OPTIONS } from '../ir/build.js';
import type { GatewayIR } from '../ir/types.js';
import { loadConfig } from '../model/load.js';
import { ParseMemo } from '../model/load/parse-memo.js';
import { ModelMemo } from '../model/load/model-memo.js';
import { IrMemo } from '../ir/ir-memo.js';
import type { GatewayModel } from '../model/types.js';
import { resolveCertificateFiles } from './certificate-files.js';
import { resolveProtos } from './proto-descriptors.js';
import type { SourceText } from '../model/yaml-source.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../resources/filters/registry.js';
import { translate, type Translation } from '../resources/translate.js';
import { TranslateMemo } from '../resources/translate-memo.js';
import { HTTP_FILTERS } from '../resources/filters/index.js';
import { CheckCache, checkResources } from './check-resources.js';
import { ResourceEncoder } from './resource-encoder.js';

/**
 * What one build keeps for the next (a control plane holds one): the schema outputs, model
 * objects and IR objects of unchanged entities (the same objects as last time, so each next
 * step finds them by identity), their Envoy objects, their checks and their encoded bytes. A build with a cache gives the same
 * resources, bytes and versions as one without; it only does less of the work again.
 */
export class CompileCache {
  readonly memo = new TranslateMemo();
  readonly parses = new ParseMemo();
  readonly models = new ModelMemo();
  readonly ir = new IrMemo();
  readonly checks = new CheckCache();
  readonly encoder = new ResourceEncoder();
}

export interface CompileOptions {
  ir?: IrOptions;
  settings?: TranslateSettings;
  /** The control plane's admin port, which services are warned off (default 8001). */
  adminPort?: number;
  /** Check the resources against what Envoy enforces (on unless a test turns it off to see Envoy's own NACK). */
  checkResources?: boolean;
  /** Reuse what the last build with this cache made for unchanged entities. */
  cache?: CompileCache;
  /** What the control plane's ACME client holds (its challenges and certificates), served with the acme plugin's config. */
  acme?: AcmeState;
  /** Called as each stage ends (the control plane's edit timeline). */
  onStage?: (stage: keyof BuildTimings) => void;
}

export interface CompileResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  model?: GatewayModel;
  ir?: GatewayIR;
  translation?: Translation;
  /** The PEM files the config names (certificates' cert_file/key_file): the control plane watches them. */
  watchFiles?: string[];
  /** Milliseconds per stage, of the stages that ran (the control plane logs them with each config applied). */
  timings?: BuildTimings;
  /** What the ACME manager reads of the config (the acme plugin, its names); absent without the plugin. */
  acme?: AcmeInputs;
}

/** Where a build's time went, in milliseconds: load (YAML, validation, model), files (PEM and .proto files read), IR, translation, Envoy's checks; snapshot (encode, versions) is the control plane's. */
export interface BuildTimings { load?: number; files?: number; ir?: number; translate?: number; check?: number; snapshot?: number }

/** YAML texts → model → (PEM files read; grpc-gateway's .proto files read and compiled) → IR → resources → Envoy's checks; stops at the first stage that reports an error. */
export function compileConfig(texts: SourceText[], options: CompileOptions = {}): CompileResult {
  const timings: BuildTimings = {};
  let t = performance.now();
  const lap = (stage: keyof BuildTimings) => { const now = performance.now(); timings[stage] = Math.round((now - t) * 10) / 10; t = now; options.onStage?.(stage); };
  const loaded = loadConfig(texts, { adminPort: options.adminPort, memo: options.cache?.parses, models: options.cache?.models });
  lap('load');
  if (!loaded.model) return { ok: false, diagnostics: loaded.diagnostics, timings };
  const pems = resolveCertificateFiles(loaded.model, texts);
  if (!pems.model) return { ok: false, diagnostics: [...loaded.diagnostics, ...pems.diagnostics], watchFiles: pems.files, timings };
  const protos = resolveProtos(pems.model, texts);
  lap('files');
  if (!protos.model) return { ok: false, diagnostics: [...loaded.diagnostics, ...protos.diagnostics], watchFiles: pems.files, timings };
  const built = buildIR(protos.model, options.ir ?? DEFAULT_IR_OPTIONS, options.cache?.ir);
  const acme = options.acme ?? NO_ACME_STATE;
  const ir = applyAcme(built, acme.defaultCertificate || !acmeNeedsDefault(built) ? acme : { ...acme, defaultCertificate: defaultServerCertificate() });
  lap('ir');
  const translation = translate(ir, options.settings ?? DEFAULT_SETTINGS, HTTP_FILTERS, options.cache?.memo);
  lap('translate');
  const refused = options.checkResources === false ? [] : checkResources(translation, loaded.model, texts, options.cache?.checks); // what Envoy would NACK
  lap('check');
  if (refused.length) return { ok: false, diagnostics: [...loaded.diagnostics, ...refused], model: loaded.model, ir, watchFiles: pems.files, timings };
  // The model as loaded (Kong's fields only, for the Admin API and the dashboard); the IR has the compiled protos.
  const acmeIn = acmeInputs(ir);
  return { ok: true, diagnostics: loaded.diagnostics, model: loaded.model, ir, translation, watchFiles: pems.files, timings, ...(acmeIn ? { acme: acmeIn } : {}) };
}

/** The errors of a result as `file:line:col: message` lines. */
export function describeErrors(r: CompileResult): string {
  return r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n');
}
