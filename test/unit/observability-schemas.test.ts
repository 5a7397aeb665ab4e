/**
 * The config schemas of the logging and tracing plugins: Kong 3.x's fields and defaults, Kong's
 * own validation messages, and what Frontdesk refuses (the field named, at its line:col).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/model/load.js';
import { ENFORCED_PLUGINS, pluginDefinition } from '../../src/model/plugins/index.js';
import { routePluginFile } from '../support/plugin-files.js';

const file = routePluginFile;

function errors(text: string): string[] {
  const r = loadConfig([{ file: 'gateway.yaml', text }]);
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);
}

function parsed(name: string, config: unknown): unknown {
  const r = pluginDefinition(name)!.config.safeParse(config);
  if (!r.success) assert.fail(JSON.stringify(r.error.issues));
  return r.data;
}

describe('file-log', () => {
  test('served (no "not applied" warning), with Kong\'s default reopen: false', () => {
    assert.ok(ENFORCED_PLUGINS.has('file-log'));
    assert.deepEqual(parsed('file-log', { path: '/var/log/kong.log' }), { path: '/var/log/kong.log', reopen: false });
    const r = loadConfig([{ file: 'g.yaml', text: file('file-log', '{ path: /tmp/a.log }') }]);
    assert.deepEqual(r.diagnostics.filter((d) => d.code === 'FD_PLUGIN_PENDING'), []);
  });

  test('Kong\'s "not a valid filename", a missing path, reopen: true and custom_fields_by_lua are refused', () => {
    assert.match(errors(file('file-log', '{ path: "/tmp/a*.log" }')).join('\n'), /not a valid filename/);
    assert.equal(errors(file('file-log', '{ reopen: false }')).length, 1);
    assert.match(errors(file('file-log', '{ path: /tmp/a.log, reopen: true }')).join('\n'), /^14:\d+ FD_INVALID_VALUE .*reopen.*not served by Frontdesk.*reopen_logs/s);
    assert.match(errors(file('file-log', '{ path: /tmp/a.log, custom_fields_by_lua: { x: "return 1" } }')).join('\n'), /custom_fields_by_lua .*is not served by Frontdesk/);
  });
});

describe('opentelemetry and zipkin', () => {
  const otel = (extra = '') => `{ traces_endpoint: "http://otel:4318/v1/traces"${extra} }`;

  test('Kong\'s defaults: sampling_rate unset is kong.conf\'s 0.01, service.name "kong", endpoint as traces_endpoint', () => {
    const def = pluginDefinition('opentelemetry')!;
    const f = def.feature(parsed('opentelemetry', { endpoint: 'https://otel.example:4318/v1/traces' })) as { samplingPercent: number; exporter: Record<string, unknown> };
    assert.equal(f.samplingPercent, 1);
    assert.equal(f.exporter.serviceName, 'kong');
    assert.deepEqual(f.exporter.collector, { tls: true, host: 'otel.example', port: 4318, path: '/v1/traces', authority: 'otel.example:4318' });
    assert.equal(f.exporter.timeoutMs, 10_000);
    const z = pluginDefinition('zipkin')!.feature(parsed('zipkin', { http_endpoint: 'http://zipkin:9411/api/v2/spans' })) as { samplingPercent: number };
    assert.equal(z.samplingPercent, 0.1);
  });

  test('what Envoy\'s tracers cannot do is refused by field: other header formats, OTLP logs, a tuned queue, zipkin without a collector', () => {
    assert.match(errors(file('opentelemetry', otel(', header_type: b3'))).join('\n'), /header_type "b3" is not served/);
    assert.match(errors(file('opentelemetry', otel(', propagation: { extract: [w3c, datadog] }'))).join('\n'), /"datadog" header format in propagation.extract is not served/);
    assert.match(errors(file('opentelemetry', otel(', logs_endpoint: "http://otel:4318/v1/logs"'))).join('\n'), /OTLP logs .*not served/);
    assert.match(errors(file('opentelemetry', otel(', queue: { max_batch_size: 50 }'))).join('\n'), /max_batch_size.*not served/);
    assert.deepEqual(errors(file('opentelemetry', otel(', queue: { max_batch_size: 200, max_entries: 10000 }'))), []);
    assert.match(errors(file('opentelemetry', '{ headers: { a: b } }')).join('\n'), /at least one of these fields must be non-empty: 'config.traces_endpoint', 'config.logs_endpoint'/);
    assert.match(errors(file('zipkin', '{ sample_ratio: 1 }')).join('\n'), /http_endpoint/);
    assert.match(errors(file('opentelemetry', otel(', sampling_rate: 1.5'))).join('\n'), /sampling_rate/);
  });

  test('two tracing plugins that export differently are refused (Envoy has one tracer per listener); sampling may differ', () => {
    const text = (routeEndpoint: string) => `_format_version: "3.0"
plugins:
  - name: opentelemetry
    config: { traces_endpoint: "http://otel:4318/v1/traces", sampling_rate: 0.1 }
services:
  - name: s
    url: http://s.internal
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: r
        paths: [/r]
        plugins:
          - name: opentelemetry
            config: { traces_endpoint: "${routeEndpoint}", sampling_rate: 1 }
`;
    assert.deepEqual(errors(text('http://otel:4318/v1/traces')), []);
    const errs = errors(text('http://other:4318/v1/traces'));
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /FD_TRACING_EXPORTERS opentelemetry on (route "r"|the global plugin) exports spans differently from opentelemetry on (the global plugin|route "r")/);
    assert.match(errs[0]!, /^(4|16):\d+ /, 'at one of the two plugins');
  });
});

describe('http-log', () => {
  test('Kong\'s defaults: POST, application/json, 10 s timeout, 60 s keepalive, Kong\'s queue', () => {
    assert.ok(ENFORCED_PLUGINS.has('http-log'));
    const f = pluginDefinition('http-log')!.feature(parsed('http-log', { http_endpoint: 'http://logs.internal:9000/ingest' }));
    assert.deepEqual(f, {
      endpoint: 'http://logs.internal:9000/ingest', method: 'POST', contentType: 'application/json', timeoutMs: 10000, keepaliveMs: 60000, headers: {},
      queue: { maxBatchSize: 1, maxCoalescingDelayS: 1, maxEntries: 10000, maxRetryTimeS: 60, initialRetryDelayS: 0.01, maxRetryDelayS: 60, concurrencyLimit: 1 },
    });
  });

  test('a missing or non-HTTP endpoint, custom_fields_by_lua and a byte-bounded queue are refused', () => {
    assert.equal(errors(file('http-log', '{ method: POST }')).length, 1);
    assert.match(errors(file('http-log', '{ http_endpoint: "ftp://x/y" }')).join('\n'), /http:\/\/ or https:\/\//);
    assert.match(errors(file('http-log', '{ http_endpoint: "http://x/y", custom_fields_by_lua: { a: "return 1" } }')).join('\n'), /custom_fields_by_lua .*not served/);
    assert.match(errors(file('http-log', '{ http_endpoint: "http://x/y", queue: { max_bytes: 1000 } }')).join('\n'), /byte bound on the queue is not served/);
    assert.match(errors(file('http-log', '{ http_endpoint: "http://x/y", method: GET }')).join('\n'), /method/);
  });
});

describe('tcp-log, udp-log, syslog', () => {
  test('served, with Kong\'s defaults (tcp-log timeout 10000, keepalive 60000, tls false; udp-log timeout 10000; syslog "info" and USER)', () => {
    for (const n of ['tcp-log', 'udp-log', 'syslog']) assert.ok(ENFORCED_PLUGINS.has(n), n);
    assert.deepEqual(parsed('tcp-log', { host: 'logs.internal', port: 5170 }), { host: 'logs.internal', port: 5170, timeout: 10000, keepalive: 60000, tls: false });
    assert.deepEqual(parsed('udp-log', { host: '10.0.0.9', port: 514 }), { host: '10.0.0.9', port: 514, timeout: 10000 });
    assert.deepEqual(parsed('syslog', {}), { log_level: 'info', successful_severity: 'info', client_errors_severity: 'info', server_errors_severity: 'info', syslog_facility: 'USER' });
    const r = loadConfig([{ file: 'g.yaml', text: file('tcp-log', '{ host: logs.internal, port: 5170, tls: true, tls_sni: logs.example.com }') }]);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error' || d.code === 'FD_PLUGIN_PENDING'), []);
  });

  test('host and port are required and checked as Kong\'s typedefs; severities and facilities are Kong\'s lists; Lua is refused', () => {
    assert.equal(errors(file('tcp-log', '{ port: 5170 }')).length, 1);
    assert.equal(errors(file('udp-log', '{ host: logs.internal }')).length, 1);
    assert.match(errors(file('tcp-log', '{ host: "<logs-host>", port: 5170 }')).join('\n'), /not a valid hostname or IP address/);
    assert.equal(errors(file('udp-log', '{ host: logs.internal, port: 70000 }')).length, 1);
    assert.equal(errors(file('syslog', '{ log_level: error }')).length, 1, 'Kong says "err", not "error"');
    assert.equal(errors(file('syslog', '{ syslog_facility: LOCAL8 }')).length, 1);
    assert.deepEqual(errors(file('syslog', '{ log_level: debug, server_errors_severity: emerg, syslog_facility: LOCAL7 }')), []);
    assert.match(errors(file('udp-log', '{ host: h, port: 1, custom_fields_by_lua: { x: "return 1" } }')).join('\n'), /custom_fields_by_lua .*is not served by Frontdesk/);
  });
});
