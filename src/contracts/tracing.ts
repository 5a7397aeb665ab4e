/**
 * What the companions share for their own spans (proto/frontdesk/tracing/v1/tracing.proto):
 * the collector of the configuration's opentelemetry plugin, as one TraceExporter resource
 * named "collector", every companion subscribed to it. No resource without the plugin (the
 * companions then export nothing); a zipkin plugin gives none either (its collector speaks
 * Zipkin, and the companions export OTLP). Pure: no I/O.
 */
import type { GatewayIR } from '../ir/types.js';
import { companionResource, type CompanionResource } from './companion.js';
import type { TraceExporter, TraceExporter__Output } from './generated/frontdesk/tracing/v1/TraceExporter.js';

export type { TraceExporter, TraceExporter__Output };

export const TRACING_TYPE_URL = 'type.googleapis.com/frontdesk.tracing.v1.TraceExporter';

/** The tracing type URL's message, as the companions decode it. */
export interface TracingMessages {
  [TRACING_TYPE_URL]: TraceExporter__Output;
}

/** IR → the TraceExporter resource (the exporter every tracing plugin instance names). */
export function tracingResources(ir: GatewayIR): CompanionResource[] {
  const f = ir.globalPlugins.opentelemetry?.feature ?? ir.routes.map((r) => r.plugins.opentelemetry?.feature).find((x) => x !== undefined);
  if (!f || f.exporter.kind !== 'opentelemetry') return [];
  const e = f.exporter;
  const c = e.collector;
  return [companionResource<TraceExporter>(TRACING_TYPE_URL, 'collector', {
    name: 'collector',
    endpoint: `${c.tls ? 'https' : 'http'}://${c.authority}${c.path}`,
    headers: Object.entries(e.headers).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => ({ name, value })),
    service_name: e.serviceName,
    resource_attributes: e.resourceAttributes,
    timeout_ms: e.timeoutMs,
  })];
}
