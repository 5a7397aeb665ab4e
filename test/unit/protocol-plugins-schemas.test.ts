/**
 * The config schemas of grpc-web, grpc-gateway and proxy-cache: Kong 3.x's fields and defaults
 * (kong/plugins/<name>/schema.lua), and what Frontdesk refuses, with the field at its line:col.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/model/load.js';
import { ENFORCED_PLUGINS, pluginDefinition, pluginFeature } from '../../src/model/plugins/index.js';

/** One route `r` on a grpc service with plugin `name`; `config` (YAML lines) starts on line 10. */
function withPlugin(name: string, config: string, extra = ''): string {
  return [
    '_format_version: "3.0"',
    'services:',
    '  - name: s',
    '    url: grpc://s.internal:50051',
    '    routes:',
    '      - name: r',
    '        paths: [/r]',
    '        plugins:',
    `          - name: ${name}`,
    '            config:',
    ...config.split('\n').map((l) => `              ${l}`),
    extra,
  ].join('\n');
}

function diagnostics(text: string, severity: 'error' | 'warning'): string[] {
  const r = loadConfig([{ file: 'gateway.yaml', text }]);
  return r.diagnostics.filter((d) => d.severity === severity).map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);
}

function parse(name: string, config: unknown): unknown {
  const r = pluginDefinition(name)!.config.safeParse(config);
  if (!r.success) assert.fail(JSON.stringify(r.error.issues));
  return r.data;
}

describe('grpc-web', () => {
  test("Kong's defaults: allow_origin_header *, pass_stripped_path off", () => {
    assert.ok(ENFORCED_PLUGINS.has('grpc-web'));
    assert.deepEqual(parse('grpc-web', {}), { pass_stripped_path: false, allow_origin_header: '*' });
    assert.deepEqual(pluginFeature('grpc-web', parse('grpc-web', {})), { upstreamPath: 'request', allowOrigin: '*' });
    assert.deepEqual(pluginFeature('grpc-web', parse('grpc-web', { pass_stripped_path: true, allow_origin_header: 'https://a' })), { upstreamPath: 'stripped', allowOrigin: 'https://a' });
  });

  test('proto (JSON payload transcoding) is refused at its line:col', () => {
    const errs = diagnostics(withPlugin('grpc-web', 'proto: /protos/a.proto'), 'error');
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0]!, /^11:22 FD_INVALID_VALUE "proto": .*application\/grpc-web\+json.*not served/);
  });

  test('an unknown field is refused with a suggestion', () => {
    const errs = diagnostics(withPlugin('grpc-web', 'allow_origin: "*"'), 'error');
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0]!, /^11:15 FD_UNKNOWN_KEY .*allow_origin/);
  });

  test('loads with no "not applied" warning', () => {
    assert.deepEqual(diagnostics(withPlugin('grpc-web', 'pass_stripped_path: true'), 'warning').filter((w) => w.includes('PENDING')), []);
  });
});

describe('proxy-cache', () => {
  test("Kong's defaults (kong/plugins/proxy-cache/schema.lua)", () => {
    assert.ok(ENFORCED_PLUGINS.has('proxy-cache'));
    assert.deepEqual(parse('proxy-cache', { strategy: 'memory' }), {
      strategy: 'memory', response_code: [200, 301, 404], request_method: ['GET', 'HEAD'], content_type: ['text/plain', 'application/json'],
      cache_ttl: 300, cache_control: false, ignore_uri_case: false, memory: { dictionary_name: 'kong_db_cache' },
      response_headers: { Age: true, 'X-Cache-Status': true, 'X-Cache-Key': true },
    });
    assert.deepEqual(pluginFeature('proxy-cache', parse('proxy-cache', { strategy: 'memory', vary_headers: ['X-Lang', 'accept'], vary_query_params: ['b', 'a'] })), {
      methods: ['GET', 'HEAD'], statuses: [200, 301, 404], contentTypes: ['application/json', 'text/plain'], ttlSeconds: 300,
      honourCacheControl: false, ignoreUriCase: false, varyQueryParams: ['a', 'b'], varyHeaders: ['accept', 'x-lang'],
      headers: { age: true, status: true, key: true },
    });
  });

  test('strategy is required, as in Kong', () => {
    const errs = diagnostics(withPlugin('proxy-cache', 'cache_ttl: 30'), 'error');
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0]!, /strategy/);
  });

  test('strategy redis is refused at its line:col, saying why', () => {
    const errs = diagnostics(withPlugin('proxy-cache', 'strategy: redis'), 'error');
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0]!, /^11:25 FD_INVALID_VALUE .*strategy redis.*not served/);
  });

  test("Kong's ranges: response_code 100-900, cache_ttl above 0, methods Kong lists", () => {
    assert.match(diagnostics(withPlugin('proxy-cache', 'strategy: memory\nresponse_code: [99]'), 'error')[0] ?? '', /^12:31 .*between 100 and 900/);
    assert.match(diagnostics(withPlugin('proxy-cache', 'strategy: memory\ncache_ttl: 0'), 'error')[0] ?? '', /^12:26 .*greater than 0/);
    assert.match(diagnostics(withPlugin('proxy-cache', 'strategy: memory\nrequest_method: [DELETE]'), 'error')[0] ?? '', /^12:32 /);
  });

  test('memory.dictionary_name loads and is reported as having no effect', () => {
    const warnings = diagnostics(withPlugin('proxy-cache', 'strategy: memory\nmemory: { dictionary_name: my_cache }'), 'warning').filter((w) => w.includes('FD_PLUGIN_DIFFERS'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^12:42 FD_PLUGIN_DIFFERS .*dictionary_name "my_cache".*no effect/);
    assert.deepEqual(diagnostics(withPlugin('proxy-cache', 'strategy: memory'), 'warning').filter((w) => w.includes('FD_PLUGIN')), []);
  });
});
