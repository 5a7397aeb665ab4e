/**
 * The config schemas of the plugins Envoy enforces natively: Kong 3.x's fields and defaults,
 * Kong's own validation messages, and what Frontdesk refuses (with the field named, at its
 * line:col, through loadConfig) rather than serve differently.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDiagnostic } from '../../src/errors.js';
import { loadConfig } from '../../src/model/load.js';
import { ENFORCED_PLUGINS, pluginDefinition } from '../../src/model/plugins/index.js';
import { isIpOrCidr, splitColon } from '../../src/model/plugins/native-common.js';
import { allowedBytes, type RequestSizeLimitingConfig } from '../../src/model/plugins/request-size-limiting.js';
import { terminationResponse, type RequestTerminationConfig } from '../../src/model/plugins/request-termination.js';
import { aroundPath } from '../../src/model/plugins/redirect.js';
import { routePluginFile } from '../support/plugin-files.js';
import { RE2JS } from 're2js';
import { KONG_BOT_RULES, searchAny } from '../../src/resources/filters/bot-detection-rules.js';

const NATIVE = ['bot-detection', 'cors', 'correlation-id', 'ip-restriction', 'prometheus', 'request-size-limiting', 'request-termination', 'request-transformer', 'response-transformer'];

function defaults(name: string, config: unknown = {}): unknown {
  const r = pluginDefinition(name)!.config.safeParse(config);
  if (!r.success) assert.fail(JSON.stringify(r.error.issues));
  return r.data;
}

const file = routePluginFile;

/** Loads `text` and returns its errors as "line:col message". */
function errors(text: string): string[] {
  const r = loadConfig([{ file: 'gateway.yaml', text }]);
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  if (errs.length) assert.equal(r.model, undefined);
  return errs.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);
}

function refused(name: string, config: string, at: string, message: RegExp): void {
  const errs = errors(file(name, config));
  assert.equal(errs.length, 1, `expected one error, got:\n${errs.join('\n')}`);
  assert.ok(errs[0]!.startsWith(`${at} `), `position: ${errs[0]}`);
  assert.match(errs[0]!, message);
}

describe('native plugins: registration', () => {
  test('each one has a schema and counts as enforced (no "not applied" warning)', () => {
    for (const name of NATIVE) {
      assert.ok(pluginDefinition(name), name);
      assert.ok(ENFORCED_PLUGINS.has(name), name);
    }
    const r = loadConfig([{ file: 'g.yaml', text: file('cors', '{}') }]);
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
  });

  test('a consumer scope is refused where Frontdesk cannot tell consumers apart before authz, allowed for request-termination', () => {
    const text = (name: string) => `_format_version: "3.0"
consumers:
  - username: alice
    plugins:
      - name: ${name}
        config: ${name === 'ip-restriction' ? '{ deny: [10.0.0.1] }' : '{}'}
`;
    for (const name of NATIVE.filter((n) => n !== 'request-termination')) {
      assert.deepEqual(errors(text(name)), [`5:9 FD_PLUGIN_SCOPE plugin "${name}" cannot be attached to a consumer`], name);
    }
    assert.deepEqual(errors(text('request-termination')), []);
  });
});

describe('request-size-limiting', () => {
  test('Kong\'s defaults: 128 megabytes (MiB), Content-Length not required', () => {
    const c = defaults('request-size-limiting') as RequestSizeLimitingConfig;
    assert.deepEqual(c, { allowed_payload_size: 128, size_unit: 'megabytes', require_content_length: false });
    assert.equal(allowedBytes(c), 128 * 1024 * 1024);
    assert.equal(allowedBytes(defaults('request-size-limiting', { allowed_payload_size: 3, size_unit: 'kilobytes' }) as RequestSizeLimitingConfig), 3072);
  });

  test('bad values are refused at their line:col', () => {
    refused('request-size-limiting', 'size_unit: gigabytes', '14:26', /"size_unit" must be one of "megabytes", "kilobytes", "bytes"/);
    refused('request-size-limiting', 'allowed_payload_size: 1.5', '14:37', /"allowed_payload_size"/);
    refused('request-size-limiting', 'require_content_lenght: true', '14:15', /unknown key "require_content_lenght"/);
    refused('request-size-limiting', 'allowed_payload_size: 9999999999', '14:37', /too large/);
  });
});

describe('request-termination', () => {
  test('Kong\'s defaults, and the answer Kong builds from them', () => {
    const c = defaults('request-termination') as RequestTerminationConfig;
    assert.deepEqual(c, { status_code: 503, echo: false });
    assert.deepEqual(terminationResponse(c), { status: 503, body: '{"message":"Service unavailable"}', contentType: 'application/json; charset=utf-8' });
    const bare = defaults('request-termination', { status_code: 418 }) as RequestTerminationConfig;
    assert.deepEqual(terminationResponse(bare), { status: 418, body: '' });
    const page = defaults('request-termination', { status_code: 200, body: '<p>x</p>', content_type: 'text/html' }) as RequestTerminationConfig;
    assert.deepEqual(terminationResponse(page), { status: 200, body: '<p>x</p>', contentType: 'text/html' });
    const msg = defaults('request-termination', { status_code: 404, message: 'gone fishing' }) as RequestTerminationConfig;
    assert.deepEqual(terminationResponse(msg), { status: 404, body: '{"message":"gone fishing"}', contentType: 'application/json; charset=utf-8' });
  });

  test('Kong\'s own checks, with Kong\'s words', () => {
    refused('request-termination', '{ message: hi, body: raw }', '14:26', /message cannot be used with content_type or body/);
    refused('request-termination', '{ content_type: text/plain }', '14:31', /content_type requires a body/);
    refused('request-termination', 'status_code: 600', '14:28', /"status_code": must be an HTTP status \(100-599\)/);
  });

  test('echo, trigger, 1xx statuses and answers longer than Envoy sends directly are refused, naming the field', () => {
    refused('request-termination', 'echo: true', '14:21', /"echo": echoing the request back is not served/);
    refused('request-termination', 'trigger: x-debug', '14:24', /"trigger": terminating only requests that carry a trigger .* is not served/);
    refused('request-termination', 'status_code: 101', '14:28', /Envoy answers with a status from 200 to 599/);
    refused('request-termination', `body: "${'x'.repeat(4097)}"`, '14:21', /"body": the answer is 4097 bytes; Envoy answers directly with at most 4096/);
    assert.deepEqual(errors(file('request-termination', `body: "${'x'.repeat(4096)}"`)), []);
  });
});

describe('redirect', () => {
  test("Kong's defaults: 301, the location as written", () => {
    assert.deepEqual(defaults('redirect', { location: 'https://example.com' }), { status_code: 301, location: 'https://example.com', keep_incoming_path: false });
    assert.deepEqual(pluginDefinition('redirect')!.feature(defaults('redirect', { location: 'https://example.com/p?q=1' }) as never), { status: 301, location: 'https://example.com/p?q=1' });
  });

  test('keep_incoming_path: the URL around its path and query, as the WHATWG URL parser (ada, in Kong) writes it', () => {
    // Host lowercased, the scheme's default port dropped, credentials and fragment kept (WHATWG URL Standard, "URL serializing").
    assert.deepEqual(aroundPath('https://User:pw@Example.COM:8443/old/path?drop=1#top'), { before: 'https://User:pw@example.com:8443', after: '#top' });
    assert.deepEqual(aroundPath('https://example.com:443/x'), { before: 'https://example.com', after: '' });
    assert.deepEqual(aroundPath('myapp://host/x'), { before: 'myapp://host', after: '' });
    assert.deepEqual(pluginDefinition('redirect')!.feature(defaults('redirect', { location: 'http://a.test/b', keep_incoming_path: true, status_code: 307 }) as never), { status: 307, around: { before: 'http://a.test', after: '' } });
  });

  test('a location that is not a URL with a host, or holds a line break, and a status Envoy cannot send are refused where they are written', () => {
    refused('redirect', 'location: example.com/path', '14:25', /'example\.com\/path' is not a URL: write it with its scheme and host/);
    refused('redirect', 'location: "mailto:ops@example.com"', '14:25', /has no host/);
    refused('redirect', 'location: "https://example.com/\\r\\nSet-Cookie: a=b"', '14:25', /must not hold control characters/);
    refused('redirect', 'location: https://example.com\nstatus_code: 100', '15:28', /Envoy answers with a status from 200 to 599/);
    refused('redirect', 'location: https://example.com\nstatus_code: 600', '15:28', /must be an HTTP status \(100-599\)/);
    refused('redirect', 'status_code: 302', '14:15', /FD_REQUIRED "location" is required/);
  });

  test('a consumer scope is refused: Envoy answers on the route, before any consumer is known', () => {
    assert.deepEqual(errors(`_format_version: "3.0"
consumers:
  - username: alice
    plugins:
      - name: redirect
        config: { location: https://example.com }
`), ['5:9 FD_PLUGIN_SCOPE plugin "redirect" cannot be attached to a consumer']);
  });
});

describe('bot-detection', () => {
  test("Kong's defaults: no allow or deny patterns (Kong's own bot rules alone)", () => {
    assert.deepEqual(defaults('bot-detection'), {});
    assert.deepEqual(pluginDefinition('bot-detection')!.feature(defaults('bot-detection') as never), { allow: [], deny: [] });
  });

  test("Kong's bot rules are RE2, and the one regex Envoy gets finds the bots they name and no browser", () => {
    for (const rule of KONG_BOT_RULES) RE2JS.compile(rule);
    const bots = RE2JS.compile(searchAny(KONG_BOT_RULES));
    // Names the rules list (bingbot, Googlebot, Baiduspider, YandexBot, facebookexternalhit, Scrapy, Apache-HttpClient).
    for (const ua of ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'Googlebot/2.1 (+http://www.google.com/bot.html)',
      'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)', 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
      'facebookexternalhit/1.1', 'Scrapy/2.11.0 (+https://scrapy.org)', 'Apache-HttpClient/4.5.13 (Java/17.0.2)']) {
      assert.ok(bots.matches(ua), ua);
    }
    // Kong's spec lets these through: a browser, curl, a made-up agent.
    for (const ua of ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.102 Safari/537.36', 'curl/7.43.0', 'HelloWorld']) {
      assert.ok(!bots.matches(ua), ua);
    }
  });

  test('a pattern RE2 cannot compile (Envoy matches with RE2, Kong with PCRE) is refused where it is written', () => {
    refused('bot-detection', 'deny: ["HelloWorld", "(?<=x)bot"]', '14:36', /'\(\?<=x\)bot' is not a valid regex \(RE2/);
    refused('bot-detection', 'allow: ["(facebook"]', '14:23', /'\(facebook' is not a valid regex/);
  });
});

describe('cors', () => {
  test('Kong\'s defaults: every method, no credentials, origin-less responses get headers', () => {
    assert.deepEqual(defaults('cors'), {
      methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'],
      credentials: false, private_network: false, preflight_continue: false, allow_origin_absent: true,
    });
  });

  test('an origin that is neither "*", a literal nor a valid (RE2) regex is refused with Kong\'s words', () => {
    refused('cors', 'origins: ["https://ok.example.com", "https://(bad"]', '14:51', /'https:\/\/\(bad' is not a valid regex/);
    refused('cors', 'origins: ["https://(?=x)a.com"]', '14:25', /not a valid regex \(RE2\)/);
    assert.equal(errors(file('cors', 'origins: ["*", "https://a.com", "https://.*\\\\.b\\\\.com"]')).length, 0);
  });

  test('a method Kong does not know, and preflight_continue, are refused', () => {
    refused('cors', 'methods: [GET, FETCH]', '14:30', /must be one of/);
    refused('cors', 'preflight_continue: true', '14:35', /passing preflight requests to the upstream is not served/);
  });
});

describe('ip-restriction', () => {
  test('addresses and CIDRs as Kong\'s ip_or_cidr accepts them', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', '2001:db8::/32', '::/0']) assert.ok(isIpOrCidr(ok), ok);
    for (const bad of ['10.0.0.256', '10.0.0.0/33', '2001:db8::/129', 'example.com', '10.0.0.0/', '10.0.0.0/8/8', '']) assert.ok(!isIpOrCidr(bad), bad);
  });

  test('status and message default in the handler (403, "IP address not allowed: <client address>"), not in the schema', () => {
    assert.deepEqual(defaults('ip-restriction', { deny: ['10.0.0.1'] }), { deny: ['10.0.0.1'] });
  });

  test('bad values, and a config with neither list, are refused', () => {
    refused('ip-restriction', 'deny: [10.0.0.1, nope]', '14:32', /"deny": must be an IP address or a CIDR range/);
    refused('ip-restriction', '{ allow: [], deny: [] }', '14:24', /at least one of these fields must be non-empty: 'config.allow', 'config.deny'/);
    refused('ip-restriction', '{ deny: [10.0.0.1], status: 100 }', '14:43', /"status": must be an HTTP status Envoy can send/);
  });
});

describe('correlation-id', () => {
  test('Kong\'s defaults', () => {
    assert.deepEqual(defaults('correlation-id'), { header_name: 'Kong-Request-ID', generator: 'uuid#counter', echo_downstream: false });
  });

  test('the tracker generator and a header name that is not a token are refused', () => {
    refused('correlation-id', 'generator: tracker', '14:26', /the "tracker" generator .* is not served by Frontdesk; use "uuid" or "uuid#counter"/);
    refused('correlation-id', 'header_name: "X Id"', '14:28', /"header_name": must be an HTTP header name/);
    refused('correlation-id', 'header_name: "X-50%"', '14:28', /"header_name": must be an HTTP header name/);
  });
});

describe('request-transformer', () => {
  test('Kong\'s defaults: empty lists everywhere', () => {
    const empty = { body: [], headers: [], querystring: [] };
    assert.deepEqual(defaults('request-transformer'), { remove: empty, rename: empty, replace: empty, add: empty, append: empty });
  });

  test('"name:value" split as Kong splits it', () => {
    assert.deepEqual(splitColon('X-A: b:c'), { name: 'X-A', value: ' b:c' });
    assert.deepEqual(splitColon('X-A::b'), { name: 'X-A', value: 'b' });
    assert.deepEqual(splitColon('X-A'), { name: 'X-A', value: '' });
  });

  test('body, querystring and http_method load (the transform companion serves them)', () => {
    assert.deepEqual(errors(file('request-transformer', 'add: { body: ["a:1"] }')), []);
    assert.deepEqual(errors(file('request-transformer', 'remove: { querystring: [debug] }')), []);
    assert.deepEqual(errors(file('request-transformer', 'http_method: POST')), []);
  });

  test('templates of the forms Kong documents load; other Lua expressions are refused where they are written', () => {
    assert.deepEqual(errors(file('request-transformer', 'add: { headers: ["X-Host:$(headers.host)"] }')), []);
    assert.deepEqual(errors(file('request-transformer', 'replace: { uri: "/v2/$(uri_captures[1])" }')), []);
    assert.deepEqual(errors(file('request-transformer', `add: { querystring: ["u:$(uri_captures['user-id'] or query_params.user or \\"unknown\\")"] }`)), []);
    assert.deepEqual(errors(file('request-transformer', `add: { body: ["q:$('$(escaped)')"] }`)), []);
    // Kong's spec routes 13 and 19: arithmetic and a call are Lua Frontdesk does not evaluate.
    refused('request-transformer', 'replace: { uri: "/requests/user2/$(10 * uri_captures.user1)" }', '14:31', /the template \$\(10 \* uri_captures.user1\): .* is not served by Frontdesk/);
    refused('request-transformer', 'add: { querystring: ["q1:$(ERROR())"] }', '14:36', /\$\(ERROR\(\)\): "ERROR" is not headers, query_params, uri_captures or a quoted string/);
    refused('request-transformer', 'add: { headers: ["X-S:$(shared.my_version)"] }', '14:32', /"shared" is not headers/);
    // A template in a name (rename) or in the Host header is refused.
    refused('request-transformer', 'rename: { body: ["a:$(headers.b)"] }', '14:32', /a \$\(\.\.\.\) template in rename is not served/);
    refused('request-transformer', 'replace: { headers: ["host:$(headers.x)"] }', '14:36', /template in the Host header/);
  });

  test('malformed header entries are refused with Kong\'s meaning', () => {
    refused('request-transformer', 'add: { headers: ["X-No-Value"] }', '14:32', /must be "name:value"/);
    refused('request-transformer', 'rename: { headers: ["X-A:bad name"] }', '14:35', /must be "old-name:new-name"/);
    refused('request-transformer', 'remove: { headers: ["bad name"] }', '14:35', /is not a valid header/);
    refused('request-transformer', 'replace: { uri: "v2" }', '14:31', /must be a path starting with "\/"/);
  });

  test('the deep dive\'s request-transformer loads as written', () => {
    const errs = errors(file('request-transformer', `add:
  headers: ["X-Request-Source: api-gateway", "X-Forwarded-Proto: https"]
  querystring: ["version: v2"]
remove: { headers: [X-Internal-Debug] }
rename: { headers: ["X-Custom-Auth: Authorization"] }
replace: { body: ["user_name: username"] }`));
    assert.deepEqual(errs, []);
  });
});

describe('response-transformer', () => {
  test('Kong\'s defaults; json parts and headers accepted', () => {
    const d = defaults('response-transformer') as Record<string, unknown>;
    assert.deepEqual(d.remove, { json: [], headers: [] });
    assert.deepEqual(d.add, { json: [], json_types: [], headers: [] });
    assert.deepEqual(errors(file('response-transformer', 'remove: { json: [internal_id] }')), []);
    assert.deepEqual(errors(file('response-transformer', 'remove: { headers: [X-Powered-By, Server] }')), []);
    refused('response-transformer', 'add: { headers: ["X-A: line\\nbreak"] }', '14:32', /must be "name:value" with a valid header name and value/);
  });
});

describe('prometheus', () => {
  test('Kong\'s defaults load; target health metrics load, AI and Wasm metrics are refused', () => {
    assert.deepEqual(defaults('prometheus'), {
      per_consumer: false, status_code_metrics: false, latency_metrics: false, bandwidth_metrics: false,
      upstream_health_metrics: false, ai_metrics: false, wasm_metrics: false,
    });
    assert.deepEqual(errors(file('prometheus', '{ per_consumer: true, status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true }')), []);
    assert.deepEqual(errors(file('prometheus', '{ upstream_health_metrics: true }')), []);
    refused('prometheus', 'ai_metrics: true', '14:27', /"ai_metrics": AI metrics is not served/);
  });
});
