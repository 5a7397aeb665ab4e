/**
 * The config schemas of the logging and tracing plugins: Kong 3.x's fields and defaults, Kong's
 * own validation messages, and what Frontdesk refuses (the field named, at its line:col).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/model/load.js';
import { ENFORCED_PLUGINS, pluginDefinition } from '../../src/model/plugins/index.js';

/** A file with one route carrying plugin `name` with `config` (YAML flow text, on line 9). */
function file(name: string, config: string): string {
  return `_format_version: "3.0"
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
          - name: ${name}
            config: ${config}
`;
}

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
    assert.match(errors(file('file-log', '{ path: /tmp/a.log, reopen: true }')).join('\n'), /^13:\d+ FD_INVALID_VALUE .*reopen.*not served by Frontdesk.*reopen_logs/s);
    assert.match(errors(file('file-log', '{ path: /tmp/a.log, custom_fields_by_lua: { x: "return 1" } }')).join('\n'), /custom_fields_by_lua .*is not served by Frontdesk/);
  });
});
