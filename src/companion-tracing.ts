/**
 * The companions' own spans: each gRPC call Envoy makes to a companion (ext_authz Check,
 * ShouldRateLimit, an ext_proc Process stream: one per request) becomes a server span, the child of the span Envoy's gRPC client opened for
 * the call (itself the child of the request's span), exported to the collector of the
 * configuration's opentelemetry plugin (contracts/tracing.ts, over ADS).
 *
 * Envoy's tracer injects the call's context into the gRPC request headers as it does for an
 * upstream: W3C `traceparent` with the OpenTelemetry tracer, B3 (`x-b3-traceid`,
 * `x-b3-spanid`, `x-b3-sampled`, or the single `b3` header) with Zipkin's. A call is traced
 * only when that context says the trace is sampled, so the companion follows Envoy's sampling
 * decision and adds no span to an unsampled trace.
 *
 * Spans are batched (up to 512, or every second) and POSTed as OTLP/HTTP JSON (the OTLP
 * specification's JSON encoding of ExportTraceServiceRequest, which collectors accept at
 * /v1/traces beside protobuf), off the call's path: a failed export is dropped and counted, at
 * most 2,048 spans are held.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http2';
import type { Logger } from './logger.js';

/** Where spans go: the TraceExporter resource (contracts/tracing.ts) as the companions decode it. */
export interface TraceExporterConfig {
  endpoint: string;
  headers: readonly { name: string; value: string }[];
  service_name: string;
  resource_attributes: Readonly<Record<string, string>>;
  timeout_ms: number;
}

/** The trace context a call carries, when its trace is sampled. */
export interface CallContext {
  traceId: string;
  parentSpanId: string;
}

const hex = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);
const TRACE_ID = hex(32);
const SPAN_ID = hex(16);
const ZEROS = /^0+$/;

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return typeof v === 'string' ? v.trim().toLowerCase() : undefined;
}

/** The sampled trace context of a call's headers (W3C traceparent, else B3), or undefined. */
export function callContext(h: IncomingHttpHeaders): CallContext | undefined {
  const tp = header(h, 'traceparent');
  if (tp) {
    const [version, traceId, spanId, flags] = tp.split('-');
    if (version === 'ff' || !version || !traceId || !spanId || !flags || !TRACE_ID.test(traceId) || !SPAN_ID.test(spanId) || ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined;
    return (Number.parseInt(flags, 16) & 1) === 1 ? { traceId, parentSpanId: spanId } : undefined;
  }
  const single = header(h, 'b3');
  const [b3Trace, b3Span, b3Sampled] = single ? single.split('-') : [header(h, 'x-b3-traceid'), header(h, 'x-b3-spanid'), header(h, 'x-b3-sampled') ?? (header(h, 'x-b3-flags') === '1' ? '1' : undefined)];
  if (!b3Trace || !b3Span || !SPAN_ID.test(b3Span) || !(TRACE_ID.test(b3Trace) || SPAN_ID.test(b3Trace))) return undefined;
  if (b3Sampled !== '1' && b3Sampled !== 'd' && b3Sampled !== 'true') return undefined;
  return { traceId: b3Trace.padStart(32, '0'), parentSpanId: b3Span };
}

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string>;
  error: boolean;
}

const MAX_BATCH = 512;
const MAX_HELD = 2048;
const FLUSH_MS = 1000;

const kv = (attrs: Record<string, string>) => Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } }));
const EPOCH_NS = BigInt(Date.now()) * 1_000_000n;
const HR0 = process.hrtime.bigint();
/** Wall-clock nanoseconds, monotonic within the process. */
const nowNs = () => EPOCH_NS + (process.hrtime.bigint() - HR0);

/**
 * One companion's tracer: configured (or switched off) by the TraceExporter resource it holds,
 * it times each traced call and exports the spans in batches.
 */
export class CompanionTracer {
  private exporter: TraceExporterConfig | undefined;
  private spans: Span[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  readonly counts = { exported: 0, dropped: 0 };

  constructor(private readonly companion: string, private readonly logger: Logger) {}

  /** The collector from ADS (the resource named "collector"), or none: tracing off. */
  configure(resources: ReadonlyMap<string, TraceExporterConfig>): void {
    this.exporter = resources.get('collector');
    if (!this.exporter) this.spans = [];
  }

  /**
   * Opens a server span named `name` for a call whose headers say its trace is sampled (a
   * streaming call: the span lasts until the returned function ends it, with an error or not);
   * undefined when the call is not traced.
   */
  begin(name: string, headers: IncomingHttpHeaders | undefined): ((error: boolean) => void) | undefined {
    const ctx = this.exporter && headers ? callContext(headers) : undefined;
    if (!ctx) return undefined;
    const startNs = nowNs();
    let ended = false;
    return (error) => {
      if (ended) return;
      ended = true;
      this.record({ ...ctx, spanId: randomBytes(8).toString('hex'), name, startNs, endNs: nowNs(), attributes: { 'rpc.system': 'grpc', 'rpc.method': name }, error });
    };
  }

  /** Wraps a unary handler: a sampled call gets a server span named `name`, its status from the answer. */
  traced<R>(name: string, handler: (request: Uint8Array, headers?: IncomingHttpHeaders) => Promise<R>): (request: Uint8Array, headers?: IncomingHttpHeaders) => Promise<R> {
    return async (request, headers) => {
      const end = this.begin(name, headers);
      if (!end) return handler(request, headers);
      let error = false;
      try {
        const r = await handler(request, headers);
        error = typeof r === 'object' && r !== null && 'code' in r && (r as { code: unknown }).code !== 0;
        return r;
      } catch (e) {
        error = true;
        throw e;
      } finally {
        end(error);
      }
    };
  }

  private record(span: Span): void {
    if (this.spans.length >= MAX_HELD) { this.spans.shift(); this.counts.dropped++; }
    this.spans.push(span);
    if (this.spans.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** Sends what is held now (and stops the timer). */
  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const e = this.exporter;
    const batch = this.spans.splice(0, MAX_BATCH);
    if (!e || !batch.length) return;
    if (this.spans.length) this.timer = setTimeout(() => this.flush(), 0).unref();
    const resource = { attributes: kv({ ...e.resource_attributes, 'service.name': `${e.service_name || 'kong'}-${this.companion}` }) };
    const body = JSON.stringify({
      resourceSpans: [{
        resource,
        scopeSpans: [{
          scope: { name: 'frontdesk' },
          spans: batch.map((s) => ({
            traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId, name: s.name,
            kind: 2, // SPAN_KIND_SERVER
            startTimeUnixNano: String(s.startNs), endTimeUnixNano: String(s.endNs),
            attributes: kv(s.attributes),
            status: { code: s.error ? 2 : 1 }, // STATUS_CODE_ERROR, STATUS_CODE_OK
          })),
        }],
      }],
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const h of e.headers) headers[h.name.toLowerCase()] = h.value;
    fetch(e.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(e.timeout_ms || 10_000) })
      .then(async (res) => {
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`collector answered ${res.status}`);
        this.counts.exported += batch.length;
      })
      .catch((err: unknown) => {
        this.counts.dropped += batch.length;
        this.logger.warn({ companion: this.companion, spans: batch.length, err: (err as Error).message }, 'tracing: spans not exported');
      });
  }

  close(): void {
    this.flush();
    this.exporter = undefined;
  }
}
