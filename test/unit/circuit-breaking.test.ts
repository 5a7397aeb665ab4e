/**
 * The circuit-breaking extensions on the way in and out: bad values are diagnostics at their
 * line:col; `validate` warns where thresholds cap a service below the connections the gateway
 * admits, where max_retries caps Kong's retries, and where Envoy cannot count Kong's passive
 * statuses exactly; and what reaches Envoy is explicit (never Envoy's built-in 1,024 / 3).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDiagnostic, type Diagnostic } from '../../src/errors.js';
import { buildIR } from '../../src/ir/build.js';
import { loadConfig } from '../../src/model/load.js';
import { buildCluster } from '../../src/resources/cluster.js';

const y = (s: string) => s.replace(/^\n/, '');
const load = (text: string) => loadConfig([{ file: 'gateway.yaml', text: y(text) }]);
const at = (d: Diagnostic) => `${d.line}:${d.col}`;
const only = (ds: Diagnostic[], code: string) => ds.filter((d) => d.code === code);

function cluster(text: string, service: string) {
  const r = load(text);
  assert.ok(r.model, r.diagnostics.map(formatDiagnostic).join('\n'));
  return buildCluster(buildIR(r.model).backends.find((b) => b.name === service)!) as Record<string, any>;
}

const SERVICE = (extra: string) => `
_format_version: "3.0"
services:
  - name: orders
    url: http://10.0.0.1:8080
${extra}
    routes: [{ name: orders, paths: [/orders] }]
`;

describe('circuit_breaker, outlier_detection, adaptive_concurrency: bad values', () => {
  test('an unknown key under circuit_breaker is refused at its position, with a did-you-mean', () => {
    const r = load(SERVICE('    circuit_breaker:\n      max_request: 10'));
    const d = only(r.diagnostics, 'FD_UNKNOWN_KEY')[0];
    assert.ok(d, r.diagnostics.map(formatDiagnostic).join('\n'));
    assert.equal(at(d), '6:7');
    assert.match(d.hint ?? '', /max_requests/);
  });

  test('a negative threshold is refused at the value', () => {
    const r = load(SERVICE('    circuit_breaker:\n      max_connections: -1'));
    const d = only(r.diagnostics, 'FD_INVALID_VALUE')[0];
    assert.ok(d, r.diagnostics.map(formatDiagnostic).join('\n'));
    assert.equal(at(d), '6:24');
    assert.equal(r.model, undefined);
  });

  test('max_retries and retry_budget together are refused (Envoy would ignore max_retries)', () => {
    const r = load(SERVICE('    circuit_breaker:\n      max_retries: 3\n      retry_budget: { percent: 20 }'));
    const d = only(r.diagnostics, 'FD_INVALID_VALUE')[0];
    assert.ok(d, r.diagnostics.map(formatDiagnostic).join('\n'));
    assert.deepEqual(d.path, ['services', 0, 'circuit_breaker', 'retry_budget']);
    assert.equal(at(d), '7:21');
    assert.match(d.message, /not both/);
  });

  test('a retry budget above 100 % and an ejection percent above 100 are refused', () => {
    const r = load(SERVICE('    circuit_breaker:\n      retry_budget: { percent: 150 }\n    outlier_detection:\n      max_ejection_percent: 101'));
    assert.deepEqual(only(r.diagnostics, 'FD_INVALID_VALUE').map((d) => d.path.join('.')), [
      'services.0.circuit_breaker.retry_budget.percent',
      'services.0.outlier_detection.max_ejection_percent',
    ]);
  });

  test('adaptive_concurrency belongs to services: on an upstream it is an unknown key', () => {
    const r = load(`
_format_version: "3.0"
upstreams:
  - name: pool
    adaptive_concurrency: { min_concurrency: 2 }
`);
    assert.equal(only(r.diagnostics, 'FD_UNKNOWN_KEY')[0]?.path.join('.'), 'upstreams.0.adaptive_concurrency');
  });
});

describe('validate warnings', () => {
  test('a max_requests below the connections the gateway admits is a warning at the field', () => {
    const r = load(SERVICE('    circuit_breaker:\n      max_requests: 10'));
    assert.ok(r.model);
    const d = only(r.diagnostics, 'FD_CIRCUIT_CAPPED')[0];
    assert.ok(d);
    assert.equal(d.severity, 'warning');
    assert.equal(at(d), '6:21');
    assert.match(d.message, /at most 10 requests in flight or queued \(circuit_breaker\.max_requests\)/);
  });

  test('over HTTP/1.1 connections plus pending requests cap the service even when max_requests is high', () => {
    const r = load(SERVICE('    circuit_breaker:\n      max_connections: 100\n      max_pending_requests: 50'));
    const d = only(r.diagnostics, 'FD_CIRCUIT_CAPPED')[0];
    assert.ok(d);
    assert.match(d.message, /at most 150 requests/);
  });

  test('the defaults cap nothing, so they warn about nothing', () => {
    const r = load(SERVICE(''));
    assert.deepEqual(only(r.diagnostics, 'FD_CIRCUIT_CAPPED'), []);
    assert.deepEqual(only(r.diagnostics, 'FD_CIRCUIT_RETRIES_CAPPED'), []);
  });

  test('a fixed max_retries with Kong retries warns; retries: 0 does not', () => {
    assert.equal(only(load(SERVICE('    circuit_breaker:\n      max_retries: 3')).diagnostics, 'FD_CIRCUIT_RETRIES_CAPPED').length, 1);
    assert.equal(only(load(SERVICE('    retries: 0\n    circuit_breaker:\n      max_retries: 3')).diagnostics, 'FD_CIRCUIT_RETRIES_CAPPED').length, 0);
  });

  const PASSIVE = (statuses: string) => `
_format_version: "3.0"
upstreams:
  - name: pool
    healthchecks:
      passive:
        unhealthy:
          http_failures: 3
${statuses}
    targets: [{ target: 10.0.0.1:8080 }]
services:
  - name: pooled
    host: pool
    routes: [{ name: pooled, paths: [/p] }]
`;

  test("Kong's default passive statuses (429, 500, 503) are not exact in Envoy: it counts every 5xx and no 429", () => {
    const d = only(load(PASSIVE('')).diagnostics, 'FD_PASSIVE_STATUSES_INEXACT')[0];
    assert.ok(d);
    assert.match(d.message, /Envoy also counts every other 5xx; Envoy cannot count 429/);
  });

  test('502, 503 and 504 are counted exactly (as gateway failures): no warning', () => {
    assert.deepEqual(only(load(PASSIVE('          http_statuses: [502, 503, 504]')).diagnostics, 'FD_PASSIVE_STATUSES_INEXACT'), []);
  });

  test('statuses with no 5xx cannot be counted at all', () => {
    const d = only(load(PASSIVE('          http_statuses: [429]')).diagnostics, 'FD_PASSIVE_STATUSES_INEXACT')[0];
    assert.ok(d);
    assert.equal(at(d), '8:26');
    assert.match(d.message, /not applied/);
  });
});

describe('what reaches Envoy', () => {
  test('with no circuit_breaker, both priorities get explicit thresholds from the downstream connection cap and a retry budget', () => {
    const c = cluster(SERVICE(''), 'orders');
    const expected = { max_connections: 50000, max_pending_requests: 50000, max_requests: 50000, retry_budget: { budget_percent: { value: 100 }, min_retry_concurrency: 50000 }, track_remaining: true };
    assert.deepEqual(c.circuit_breakers.thresholds, [{ priority: 'DEFAULT', ...expected }, { priority: 'HIGH', ...expected }]);
  });

  test("an upstream's circuit_breaker applies under the service's own, field by field", () => {
    const c = cluster(`
_format_version: "3.0"
upstreams:
  - name: pool
    circuit_breaker: { max_connections: 20, max_requests: 30, max_retries: 4 }
    targets: [{ target: 10.0.0.1:8080 }]
services:
  - name: pooled
    host: pool
    circuit_breaker: { max_requests: 40, retry_budget: { percent: 25, min_concurrency: 5 } }
    routes: [{ name: pooled, paths: [/p] }]
`, 'pooled');
    const d = c.circuit_breakers.thresholds[0];
    assert.equal(d.max_connections, 20);
    assert.equal(d.max_requests, 40);
    assert.equal(d.max_retries, undefined);
    assert.deepEqual(d.retry_budget, { budget_percent: { value: 25 }, min_retry_concurrency: 5 });
  });

  test('passive statuses 502-504 become consecutive_gateway_failure; only what is set is enforced', () => {
    const c = cluster(`
_format_version: "3.0"
upstreams:
  - name: pool
    healthchecks: { passive: { unhealthy: { http_failures: 3, http_statuses: [502, 503, 504] } } }
    targets: [{ target: 10.0.0.1:8080 }]
services:
  - name: pooled
    host: pool
    routes: [{ name: pooled, paths: [/p] }]
`, 'pooled');
    assert.deepEqual(c.outlier_detection, { consecutive_gateway_failure: 3, enforcing_consecutive_gateway_failure: 100, enforcing_consecutive_5xx: 0, enforcing_success_rate: 0, max_ejection_percent: 100 });
  });

  test('outlier_detection in seconds becomes Envoy durations; success rate is enforced only when asked for; any share may be ejected', () => {
    const c = cluster(SERVICE('    outlier_detection: { consecutive_5xx: 2, interval: 0.5, base_ejection_time: 1.25, failure_percentage: { threshold: 90 } }'), 'orders');
    assert.deepEqual(c.outlier_detection, {
      consecutive_5xx: 2, interval: '0.5s', base_ejection_time: '1.25s', enforcing_success_rate: 0,
      failure_percentage_threshold: 90, enforcing_failure_percentage: 100, max_ejection_percent: 100,
    });
  });
});
