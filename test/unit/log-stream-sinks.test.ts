/**
 * Kong's syslog plugin (kong/plugins/syslog/handler.lua): the severity of an entry is that of
 * its status class (>= 500 server_errors_severity, >= 400 client_errors_severity, else
 * successful_severity), and it is sent only when LOG_LEVELS[severity] <= LOG_LEVELS[log_level]
 * (debug 7 ... emerg 0); the message is RFC 5424 with PRI = facility * 8 + severity.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syslogMessage, syslogSeverity } from '../../src/log/stream-sinks.js';

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
