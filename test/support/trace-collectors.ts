/**
 * Collector stand-ins for the tracing tests. The OTLP one decodes the protobuf body Envoy
 * POSTs to /v1/traces with protobufjs and the opentelemetry-proto definitions that
 * @opentelemetry/otlp-transformer 0.52 ships (its protobufjs module generated from them);
 * the Zipkin one reads the v2 JSON Envoy POSTs to /api/v2/spans.
 */
import { createRequire } from 'node:module';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

interface ProtoType { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): unknown }
const require = createRequire(import.meta.url);
const otlp = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType } } } } };
};
const ExportTraceServiceRequest = otlp.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** One span as the tests read it: ids in hex, attributes flattened to strings. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  attributes: Record<string, string>;
  resource: Record<string, string>;
}

export interface Collector<S> {
  url: string;
  spans: S[];
  /** The headers of every export request. */
  requests: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function listen<S>(path: string, decode: (body: Buffer, contentType: string) => S[]): Promise<Collector<S>> {
  const spans: S[] = [];
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== path) { res.writeHead(404).end(); return; }
      requests.push(req.headers);
      spans.push(...decode(Buffer.concat(chunks), String(req.headers['content-type'] ?? '')));
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    spans, requests,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value?: AnyValue };

function flatten(kvs: KeyValue[] | undefined): Record<string, string> {
  const v = (a: AnyValue | undefined) => String(a?.stringValue ?? a?.intValue ?? a?.boolValue ?? a?.doubleValue ?? '');
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, v(kv.value)]));
}

const hex = (b: unknown) => (b ? Buffer.from(b as Uint8Array).toString('hex') : '');

type Json = { [k: string]: unknown };

/**
 * OTLP/HTTP JSON (the OTLP specification's JSON encoding) → the message protobufjs builds from
 * it with the opentelemetry-proto definitions: ids are hex there (base64 in protobufjs's JSON),
 * enums are numbers, 64-bit times decimal strings.
 */
function fromOtlpJson(body: Buffer): unknown {
  const ids = new Set(['traceId', 'spanId', 'parentSpanId']);
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, ids.has(k) && typeof x === 'string' ? Buffer.from(x, 'hex').toString('base64') : walk(x)]));
  };
  return (ExportTraceServiceRequest as unknown as { fromObject(o: unknown): unknown }).fromObject(walk(JSON.parse(body.toString('utf8'))));
}

/** An OTLP/HTTP trace collector: protobuf (Envoy's) and JSON (the companions') bodies. */
export function startOtlpCollector(): Promise<Collector<CollectedSpan>> {
  return listen('/v1/traces', (body, contentType) => {
    const decoded = contentType.startsWith('application/json') ? fromOtlpJson(body) : ExportTraceServiceRequest.decode(body);
    const msg = ExportTraceServiceRequest.toObject(decoded, { enums: String, longs: String, bytes: Buffer }) as {
      resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
    };
    return (msg.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s): CollectedSpan => ({
      traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
      name: String(s.name), kind: String(s.kind), attributes: flatten(s.attributes as KeyValue[]), resource: flatten(rs.resource?.attributes),
    }))));
  });
}

/** A Zipkin v2 span (the fields the tests read). */
export interface ZipkinSpan { traceId: string; id: string; parentId?: string; name: string; kind?: string; localEndpoint?: { serviceName?: string }; tags?: Record<string, string> }

/** A Zipkin v2 JSON collector. */
export function startZipkinCollector(): Promise<Collector<ZipkinSpan>> {
  return listen('/api/v2/spans', (body) => JSON.parse(body.toString('utf8')) as ZipkinSpan[]);
}
