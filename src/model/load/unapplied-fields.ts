import { diag } from '../../errors.js';
import { ENTITY_FIELDS, PLUGIN_FIELDS, type Warned } from '../field-audit.js';
import type { Origin } from '../types.js';
import { isObject, type FlatConfig, type Found, type Raw } from './flat-config.js';
import type { Document } from './read-documents.js';
import type { Reporter } from './reporter.js';

/**
 * A warning for every field the file sets that loads without effect (field-audit.ts lists them
 * with the reason), so that nothing a Kong file asks for is dropped without a word.
 */
export function warnUnappliedFields(rep: Reporter, documents: readonly Document[], flat: FlatConfig): void {
  const lists: Record<string, readonly Found<Raw>[]> = {
    services: flat.services, routes: flat.routes, upstreams: flat.upstreams, targets: flat.targets, consumers: flat.consumers,
    plugins: flat.plugins, certificates: flat.certificates, ca_certificates: flat.caCertificates, listeners: flat.listeners,
    ...flat.credentials,
  };
  const top = documents.map((d) => ({ value: d.raw, origin: { file: d.file, path: [] } }));
  for (const { entity, audit } of ENTITY_FIELDS) {
    for (const found of entity === 'top level' ? top : (lists[entity] ?? [])) check(rep, found.value, found.origin, [], audit.warned);
  }
  for (const { value, origin } of flat.plugins) {
    const audit = typeof value.name === 'string' ? PLUGIN_FIELDS[value.name] : undefined;
    if (audit && isObject(value.config)) check(rep, value.config, origin, ['config'], audit.warned);
  }
}

function check(rep: Reporter, raw: Raw, origin: Origin, base: string[], warned: Readonly<Record<string, Warned>> | undefined): void {
  for (const [field, w] of Object.entries(warned ?? {})) {
    const path = field.split('.');
    const value = valueAt(raw, path);
    if (value === undefined || value === null) continue;
    const asks = w.when ? w.when(value) : JSON.stringify(value) !== JSON.stringify(w.default);
    if (asks) rep.at(origin, diag('FD_FIELD_NOT_APPLIED', [...origin.path, ...base, ...path], [...base, ...path].join('.'), w.why));
  }
}

function valueAt(raw: Raw, path: readonly string[]): unknown {
  let v: unknown = raw;
  for (const seg of path) v = isObject(v) ? v[seg] : undefined;
  return v;
}
