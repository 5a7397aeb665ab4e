/**
 * Kong's syslog plugin (kong/plugins/syslog/handler.lua): the severity of an entry is that of
 * its status class (>= 500 server_errors_severity, >= 400 client_errors_severity, else
 * successful_severity), and it is sent only when LOG_LEVELS[severity] <= LOG_LEVELS[log_level]
 * (debug 7 ... emerg 0); the message is RFC 5424 with PRI = facility * 8 + severity.
 * Kong's loggly (kong/plugins/loggly/handler.lua) filters alike and writes
 * `<8 + severity>1 <%Y-%m-%dT%XZ> <host> kong - - [<key>@41058 tag="..." ...] <JSON>`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STREAM_LOG_TYPE_URL } from '../../src/contracts/log.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { routePluginFile } from '../support/plugin-files.js';
import { logglyMessage, syslogMessage, syslogSeverity } from '../../src/log/stream-sinks.js';

const conf = { log_level: 'warning', successful_severity: 'info', client_errors_severity: 'warning', server_errors_severity: 'crit' };

test('each status class gets its severity; what is less severe than log_level is not sent', () => {
  assert.equal(syslogSeverity(conf, 200), undefined, 'info (6) is less severe than warning (4)');
  assert.equal(syslogSeverity(conf, 302), undefined);
  assert.equal(syslogSeverity(conf, 404), 4);
  assert.equal(syslogSeverity(conf, 499), 4);
  assert.equal(syslogSeverity(conf, 500), 2);
  assert.equal(syslogSeverity({ ...conf, log_level: 'debug' }, 200), 6);
  assert.equal(syslogSeverity({ ...conf, log_level: 'emerg' }, 503), undefined, 'crit (2) is less severe than emerg (0)');
  assert.equal(syslogSeverity({ log_level: 'info', successful_severity: 'info', client_errors_severity: 'info', server_errors_severity: 'info' }, 200), 6, 'Kong\'s defaults: everything at info');
});

test('an RFC 5424 message: PRI from facility and severity, version 1, timestamp, host, APP-NAME kong, the entry as MSG', () => {
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  const m = syslogMessage('LOCAL0', 3, { response: { status: 500 } }, at, 'gw-1');
  assert.equal(m, `<131>1 2026-01-02T03:04:05.678Z gw-1 kong ${process.pid} - - {"response":{"status":500}}`);
  assert.ok(syslogMessage('USER', 6, {}, at, 'h').startsWith('<14>1 '), 'USER is facility 1: 1 * 8 + 6');
  assert.ok(syslogMessage('KERN', 0, {}, at, 'h').startsWith('<0>1 '));
});

test('a Loggly message: the user facility, a timestamp to the second, the token and tags as structured data, the entry as JSON', () => {
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  assert.equal(logglyMessage('tok-123', ['kong', 'shop'], 3, { response: { status: 502 } }, at, 'gw-1'),
    '<11>1 2026-01-02T03:04:05Z gw-1 kong - - [tok-123@41058 tag="kong" tag="shop"] {"response":{"status":502}}');
  // No tags: Kong joins the empty list, leaving "[key@41058 ]".
  assert.equal(logglyMessage('tok', [], 6, {}, at, 'h'), '<14>1 2026-01-02T03:04:05Z h kong - - [tok@41058 ] {}');
});

test('loggly loads with Kong\'s defaults, its token required and its Lua refused', () => {
  const load = (config: string) => compileConfig([{ file: 'gateway.yaml', text: routePluginFile('loggly', config) }]);
  const r = load('key: tok-1');
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const sinks = [...r.translation!.companions.get(STREAM_LOG_TYPE_URL)!.values()] as Record<string, unknown>[];
  assert.equal(sinks.length, 1);
  const { name: _name, ...sink } = sinks[0]!;
  assert.deepEqual(sink, {
    kind: 'LOGGLY', host: 'logs-01.loggly.com', port: 514, timeout_ms: 10000, loggly_key: 'tok-1', loggly_tags: ['kong'],
    log_level: 'info', successful_severity: 'info', client_errors_severity: 'info', server_errors_severity: 'info',
  });
  assert.equal(load('tags: [a]').ok, false, 'key is required');
  const lua = load('key: t\ncustom_fields_by_lua: { x: "return 1" }');
  assert.equal(lua.ok, false);
  assert.match(lua.diagnostics.find((d) => d.severity === 'error')!.message, /custom_fields_by_lua/);
});
