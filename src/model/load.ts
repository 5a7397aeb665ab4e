import { diag, type Diagnostic } from '../errors.js';
import { checkAdminUpstream } from './checks/admin-upstream.js';
import { checkAuthz } from './checks/authz.js';
import { checkCircuitBreaking } from './checks/circuit-breaking.js';
import { checkRateLimiting } from './checks/ratelimit.js';
import { checkServicelessRoutes } from './checks/serviceless-routes.js';
import { checkTraps } from './checks/traps.js';
import { withoutCascades } from './load/cascades.js';
import { checkStreamPlugins } from './checks/streams.js';
import { checkPluginProtocols } from './checks/plugin-protocols.js';
import { checkTracing } from './checks/tracing.js';
import { loadCaCertificates, loadCertificates } from './load/certificates.js';
import { loadConsumers } from './load/consumers.js';
import { flatten } from './load/flatten.js';
import { loadListeners } from './load/listeners.js';
import { legacyFiles, readDocuments } from './load/read-documents.js';
import { References } from './load/references.js';
import { Reporter } from './load/reporter.js';
import { warnConvertedPaths } from './load/route-paths.js';
import { loadRoutes } from './load/routes.js';
import { scopePlugins } from './load/scope-plugins.js';
import { loadServices } from './load/services.js';
import { sortModel } from './load/sort-model.js';
import { warnUnappliedFields } from './load/unapplied-fields.js';
import { loadUpstreams } from './load/upstreams.js';
import type { GatewayModel } from './types.js';
import type { SourceText } from './yaml-source.js';
import type { ParseMemo } from './load/parse-memo.js';
import type { ModelMemo } from './load/model-memo.js';

export { parseServiceUrl, splitHostPort } from './load/addresses.js';

export interface LoadResult {
  /** Present only when there is no error (warnings allowed). */
  model?: GatewayModel;
  diagnostics: Diagnostic[];
}

export interface LoadOptions {
  /** The admin port services must not target (default 8001). */
  adminPort?: number;
  /** The last load's schema outputs (a compile cache's): entities whose content is unchanged are not validated again. */
  memo?: ParseMemo;
  /** The last load's model (a compile cache's): an entity whose model has the same content is the same object as last time. */
  models?: ModelMemo;
}

/**
 * Loads one or more YAML texts (a folder's files are merged) into a validated model. Each step
 * reports into one Reporter, which adds line:col at the end; the entity steps run in the order
 * their references need (upstreams before the services that name them, and so on).
 */
export function loadConfig(texts: SourceText[], options: LoadOptions = {}): LoadResult {
  if (texts.length === 0) return { diagnostics: [diag('FD_CONFIG_EMPTY', [])] };
  const rep = new Reporter(options.memo);
  const documents = readDocuments(rep, texts); // YAML, top level, _format_version
  const flat = flatten(documents, options.models?.flat); // nested and top-level entities → one list per kind
  const legacy = legacyFiles(documents);
  warnConvertedPaths(rep, legacy, flat.routes);
  warnUnappliedFields(rep, documents, flat); // fields that load without effect, each named

  const refs = new References(rep); // names claimed once; ids and names → keys
  const upstreams = loadUpstreams(rep, refs, flat.upstreams, flat.targets);
  const certificates = loadCertificates(rep, refs, flat.certificates, flat.snis); // before services: their client_certificate names one
  const services = loadServices(rep, refs, flat.services, flat.caCertificates);
  const routes = loadRoutes(rep, refs, flat.routes, services, legacy, options.models);
  const consumers = loadConsumers(rep, refs, flat.consumers, flat.credentials);
  const caCertificates = loadCaCertificates(rep, flat.caCertificates);
  const acme = flat.plugins.some((p) => p.value.name === 'acme' && p.value.enabled !== false);
  const listeners = loadListeners(rep, refs, flat.listeners, certificates, routes.routes, acme);
  const plugins = scopePlugins(rep, refs, flat.plugins, services, routes);

  const findings = withoutCascades(rep, flat.plugins, [ // the cross checks, once everything has loaded
    ...checkTraps(routes.routes, plugins),
    ...checkAuthz(consumers, plugins, routes.routes, services.services),
    ...checkRateLimiting(plugins),
    ...checkCircuitBreaking(services.services, upstreams),
    ...checkAdminUpstream(services.services, upstreams, options.adminPort),
    ...checkTracing(plugins),
    ...checkStreamPlugins(routes.routes, plugins),
    ...checkPluginProtocols(routes.routes, plugins),
    ...checkServicelessRoutes(routes.routes, plugins),
  ]);
  for (const f of findings) rep.at(f.origin, f.diagnostic);
  const diagnostics = rep.finish();
  options.memo?.endLoad();
  if (rep.hasErrors) return { diagnostics };
  const model = sortModel({ services: services.services, routes: routes.routes, upstreams, consumers, plugins, certificates, caCertificates, listeners });
  return { model: options.models ? options.models.reuse(model) : model, diagnostics };
}
