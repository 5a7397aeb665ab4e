// Kong's opentelemetry and zipkin plugins through a real Envoy: spans exported to collector
// stand-ins (OTLP/HTTP protobuf decoded with protobufjs; Zipkin v2 JSON), a caller's W3C trace
// continued and its context sent upstream, spans named by route and tagged with service, route,
// consumer and status, the collector headers and resource attributes Kong's fields set, and a
// route sampled at 0 % exporting nothing; the authz, ratelimit and transform companions' own spans
// (OTLP/HTTP JSON) children of Envoy's call spans, at the same collector.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import type { RunningCompanion } from '../../src/contracts/companion.js';
import { startTransformService } from '../../src/transform/service.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { freePort } from '../support/ports.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startOtlpCollector, startZipkinCollector, type CollectedSpan, type Collector, type ZipkinSpan } from '../support/trace-collectors.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;

function send(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;
const newIds = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });

/** Envoy flushes spans in batches (every 5 s, or 5 spans): wait for the one we look for. */
function spanOf<S>(c: Collector<S>, pick: (s: S) => boolean, what: string): Promise<S> {
  return waitFor(() => c.spans.find(pick), what, 20_000);
}

describe('opentelemetry: Envoy exports OTLP spans to the collector', () => {
  let up: Upstream;
  let collector: Collector<CollectedSpan>;
  let gw: Gateway;
  let authz: TestAuthz;
  let rl: TestRateLimitService;
  let transform: RunningCompanion;
  /** One opentelemetry plugin entry (a YAML list item), indented by `pad`. */
  const otel = (url: string, rate: number, pad: string) => [
    '- name: opentelemetry',
    '  config:',
    `    traces_endpoint: ${url}`,
    '    headers: { x-collector-token: t0ken }',
    '    resource_attributes: { service.name: edge-gateway, deployment.environment: test }',
    `    sampling_rate: ${rate}`,
    '    http_response_header_for_traceid: x-trace-id',
  ].map((l) => pad + l).join('\n');

  before(async () => {
    up = await startEchoUpstream('shop');
    collector = await startOtlpCollector();
    const az = await authzForTests();
    const rlPort = await freePort();
    const transformPort = await freePort();
    gw = await startGateway(`_format_version: "3.0"
plugins:
${otel(collector.url, 1, '  ')}
consumers:
  - username: partner
    keyauth_credentials:
      - key: partner-key
services:
  - name: shop
    url: ${up.url}
    routes:
      - name: traced
        paths: [/traced]
      - name: keyed
        paths: [/keyed]
        plugins:
          # the companion's: its Check call is a span of the trace
          - name: key-auth
            config: { enforcer: companion }
      - name: limited
        paths: [/limited]
        plugins:
          - name: rate-limiting
            config: { minute: 1000, policy: local }
      - name: reshaped
        paths: [/reshaped]
        plugins:
          # the transform companion's: its ext_proc stream is a span of the trace
          - name: response-transformer
            config: { remove: { json: [secret] } }
      - name: half
        paths: [/half]
        plugins:
${otel(collector.url, 0.5, '          ')}
      - name: quiet
        paths: [/quiet]
        plugins:
${otel(collector.url, 0, '          ')}
`, { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port }, ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: rlPort }, transform: { ...DEFAULT_SETTINGS.transform, port: transformPort } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    rl = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort });
    transform = await startTransformService({ xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: transformPort, nodeId: 'transform-tracing-test', logger: silentLogger() });
    await waitFor(() => transform.ready(), 'the transform companion to get its routes');
  });
  after(async () => {
    await gw?.stop();
    await authz?.stop();
    await rl?.stop();
    await transform?.stop();
    await collector?.close();
    await up?.close();
  });

  test('a caller\'s trace is continued: the span is its child, the upstream gets the same trace id', async () => {
    const caller = newIds();
    const r = await send(gw, '/traced/items', { traceparent: traceparent(caller.traceId, caller.spanId) });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['x-trace-id']), new RegExp(caller.traceId), 'http_response_header_for_traceid');
    const upstreamContext = String(up.requests.at(-1)!.headers.traceparent);
    const [, traceId, parent] = upstreamContext.split('-');
    assert.equal(traceId, caller.traceId);
    assert.notEqual(parent, caller.spanId, 'the upstream\'s parent is a span of the gateway');

    const server = await spanOf(collector, (s) => s.traceId === caller.traceId && s.parentSpanId === caller.spanId, 'the gateway\'s span');
    assert.equal(server.name, 'traced');
    assert.equal(server.attributes['kong.route.name'], 'traced');
    assert.equal(server.attributes['kong.service.name'], 'shop');
    assert.equal(server.attributes['http.status_code'], '200');
    assert.equal(server.resource['service.name'], 'edge-gateway');
    assert.equal(server.resource['deployment.environment'], 'test');
    // As Kong's with its default instrumentations (the request's root span only), the upstream's
    // parent is the request's span: exported, in the caller's trace.
    assert.equal(parent, server.spanId, 'the upstream\'s parent is the request\'s span');
    assert.equal(collector.requests[0]!['x-collector-token'], 't0ken');
    assert.equal(collector.requests[0]!['content-type'], 'application/x-protobuf');
  });

  test('after key-auth the span names the consumer; a refused request carries its status', async () => {
    const ok = newIds();
    assert.equal((await send(gw, '/keyed/a', { apikey: 'partner-key', traceparent: traceparent(ok.traceId, ok.spanId) })).status, 200);
    const denied = newIds();
    assert.equal((await send(gw, '/keyed/a', { apikey: 'nope', traceparent: traceparent(denied.traceId, denied.spanId) })).status, 401);
    const s = await spanOf(collector, (x) => x.traceId === ok.traceId && x.parentSpanId === ok.spanId, 'the keyed span');
    assert.equal(s.attributes['kong.consumer.username'], 'partner');
    // The authz companion's call is a child span of the request's (Envoy's gRPC client spans it).
    const check = await spanOf(collector, (x) => x.traceId === ok.traceId && x.name.includes('Authorization.Check'), 'the authz call\'s span');
    assert.equal(check.parentSpanId, s.spanId);
    const d = await spanOf(collector, (x) => x.traceId === denied.traceId && x.parentSpanId === denied.spanId, 'the refused span');
    assert.equal(d.attributes['http.status_code'], '401');
    assert.equal(d.attributes['kong.consumer.username'], undefined);
  });

  test('the authz companion joins the trace: its Check span is the child of Envoy\'s gRPC call span, at the same collector', async () => {
    const ok = newIds();
    assert.equal((await send(gw, '/keyed/b', { apikey: 'partner-key', traceparent: traceparent(ok.traceId, ok.spanId) })).status, 200);
    const request = await spanOf(collector, (x) => x.traceId === ok.traceId && x.parentSpanId === ok.spanId, 'the request\'s span');
    const call = await spanOf(collector, (x) => x.traceId === ok.traceId && x.name.includes('Authorization.Check') && x.parentSpanId === request.spanId, 'Envoy\'s span of the authz call');
    const served = await spanOf(collector, (x) => x.traceId === ok.traceId && x.name === 'envoy.service.auth.v3.Authorization/Check', 'the authz companion\'s span');
    assert.equal(served.parentSpanId, call.spanId, 'a child of the call Envoy made');
    assert.equal(served.kind, 'SPAN_KIND_SERVER');
    assert.equal(served.resource['service.name'], 'edge-gateway-authz', 'the plugin\'s service.name, named for the companion');
    assert.equal(served.resource['deployment.environment'], 'test', 'the plugin\'s resource_attributes');
    assert.equal(served.attributes['rpc.system'], 'grpc');
    // A trace the caller did not sample gets no span from the companion.
    const unsampled = newIds();
    assert.equal((await send(gw, '/keyed/c', { apikey: 'partner-key', traceparent: `00-${unsampled.traceId}-${unsampled.spanId}-00` })).status, 200);
    const marker = newIds();
    assert.equal((await send(gw, '/keyed/d', { apikey: 'partner-key', traceparent: traceparent(marker.traceId, marker.spanId) })).status, 200);
    await spanOf(collector, (x) => x.traceId === marker.traceId && x.name === 'envoy.service.auth.v3.Authorization/Check', 'the next sampled call\'s companion span');
    assert.equal(collector.spans.filter((x) => x.traceId === unsampled.traceId).length, 0);
  });

  test('the ratelimit companion joins the trace: its ShouldRateLimit span is the child of Envoy\'s call span', async () => {
    const ids = newIds();
    assert.equal((await send(gw, '/limited', { traceparent: traceparent(ids.traceId, ids.spanId) })).status, 200);
    const request = await spanOf(collector, (x) => x.traceId === ids.traceId && x.parentSpanId === ids.spanId, 'the request\'s span');
    const served = await spanOf(collector, (x) => x.traceId === ids.traceId && x.name === 'envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit', 'the ratelimit companion\'s span');
    const call = await spanOf(collector, (x) => x.spanId === served.parentSpanId, 'its parent, a span Envoy exports');
    assert.equal(call.parentSpanId, request.spanId, 'Envoy\'s call span, the child of the request\'s');
    assert.equal(served.resource['service.name'], 'edge-gateway-ratelimit');
  });

  test('the transform companion joins the trace: its ext_proc Process span is the child of Envoy\'s call span; an unsampled trace gets none', async () => {
    const unsampled = newIds();
    assert.equal((await send(gw, '/reshaped/u', { traceparent: `00-${unsampled.traceId}-${unsampled.spanId}-00` })).status, 200);
    const ids = newIds();
    assert.equal((await send(gw, '/reshaped/s', { traceparent: traceparent(ids.traceId, ids.spanId) })).status, 200);
    const request = await spanOf(collector, (x) => x.traceId === ids.traceId && x.parentSpanId === ids.spanId, 'the request\'s span');
    const served = await spanOf(collector, (x) => x.traceId === ids.traceId && x.name === 'envoy.service.ext_proc.v3.ExternalProcessor/Process', 'the transform companion\'s span');
    const call = await spanOf(collector, (x) => x.spanId === served.parentSpanId, 'its parent, a span Envoy exports');
    assert.equal(call.parentSpanId, request.spanId, 'Envoy\'s call span, the child of the request\'s');
    assert.equal(served.resource['service.name'], 'edge-gateway-transform');
    // The companion exports in batches: the sampled request came after the unsampled one, so its span would have come with it.
    assert.equal(collector.spans.filter((x) => x.traceId === unsampled.traceId).length, 0);
  });

  test('a route sampled at 0.5 traces about half of its requests (Envoy\'s own count of its decisions)', async () => {
    const stats = async () => {
      const text = await (await fetch(`${gw.envoy.adminUrl}/stats?filter=^http\\.[^.]+\\.tracing\\.(random_sampling|not_traceable)$`)).text();
      const v = (n: string) => [...text.matchAll(new RegExp(`tracing\\.${n}: (\\d+)`, 'g'))].reduce((a, m) => a + Number(m[1]), 0);
      return { sampled: v('random_sampling'), not: v('not_traceable') };
    };
    const before = await stats();
    const n = 200;
    for (let i = 0; i < n; i++) assert.equal((await send(gw, `/half/${i}`)).status, 200);
    const after = await stats();
    const sampled = after.sampled - before.sampled;
    assert.equal(sampled + after.not - before.not, n, 'every request got a decision');
    // Binomial(200, 0.5): outside 60-140 has a probability below 1e-8.
    assert.ok(sampled >= 60 && sampled <= 140, `${sampled} of ${n} sampled at 0.5`);
  });

  test('a route sampled at 0 exports nothing; the one after it, at 1, does', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await send(gw, `/quiet/${i}`)).status, 200);
    const after = newIds();
    await send(gw, '/traced/after', { traceparent: traceparent(after.traceId, after.spanId) });
    await spanOf(collector, (s) => s.traceId === after.traceId, 'the span after the quiet requests');
    assert.deepEqual(collector.spans.filter((s) => s.name === 'quiet'), []);
  });
});

describe('zipkin: Envoy sends Zipkin v2 spans, B3 headers upstream', () => {
  let up: Upstream;
  let collector: Collector<ZipkinSpan>;
  let gw: Gateway;

  before(async () => {
    up = await startEchoUpstream('shop');
    collector = await startZipkinCollector();
    gw = await startGateway(`_format_version: "3.0"
plugins:
  - name: zipkin
    config:
      http_endpoint: ${collector.url}
      sample_ratio: 1
      static_tags: [{ name: team, value: payments }]
services:
  - name: shop
    url: ${up.url}
    routes:
      - name: zipped
        paths: [/zipped]
`);
  });
  after(async () => {
    await gw?.stop();
    await collector?.close();
    await up?.close();
  });

  test('a B3 caller\'s trace is continued; the span is named by route and tagged', async () => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    assert.equal((await send(gw, '/zipped/x', { 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-sampled': '1' })).status, 200);
    assert.equal(up.requests.at(-1)!.headers['x-b3-traceid'], traceId);
    const s = await spanOf(collector, (x) => x.traceId === traceId && x.name === 'zipped', 'the zipkin span');
    assert.equal(s.localEndpoint?.serviceName, 'frontdesk', 'Envoy names the service after its node\'s cluster');
    assert.equal(s.tags?.['kong.route.name'], 'zipped');
    assert.equal(s.tags?.['kong.service.name'], 'shop');
    assert.equal(s.tags?.team, 'payments');
    assert.equal(s.tags?.['http.status_code'], '200');
  });
});
