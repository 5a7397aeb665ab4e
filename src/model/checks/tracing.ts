import { diag } from '../../errors.js';
import { pluginFeature } from '../plugins/index.js';
import type { TracingFeature } from '../plugins/tracing-common.js';
import type { Plugin } from '../types.js';
import type { Finding } from './authz.js';

const TRACING = ['opentelemetry', 'zipkin'] as const;

function describe(p: Plugin): string {
  const s = p.scope;
  return s.route ? `route "${s.route}"` : s.service ? `service "${s.service}"` : 'the global plugin';
}

/**
 * Envoy's tracer is a setting of the HTTP connection manager: one provider, one exporter per
 * listener, where Kong exports each plugin instance's spans on its own. So every tracing plugin
 * instance of a configuration must name the same exporter (plugin, endpoint, headers,
 * resource attributes, timeouts); only the sampling rate (per route in Envoy), the trace-id
 * response header and the headers cleared may differ.
 */
export function checkTracing(plugins: readonly Plugin[]): Finding[] {
  const out: Finding[] = [];
  let first: { plugin: Plugin; exporter: string } | undefined;
  for (const p of plugins) {
    if (!(TRACING as readonly string[]).includes(p.name)) continue;
    const exporter = JSON.stringify((pluginFeature(p.name as (typeof TRACING)[number], p.config) as TracingFeature).exporter);
    if (!first) { first = { plugin: p, exporter }; continue; }
    if (exporter === first.exporter) continue;
    out.push({
      origin: p.origin,
      diagnostic: diag('FD_TRACING_EXPORTERS', [...p.origin.path, 'config'], p.name, describe(p), first.plugin.name, describe(first.plugin)),
    });
  }
  return out;
}
