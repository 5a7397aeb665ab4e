/**
 * Every field the schemas accept is sorted in src/model/field-audit.ts: applied, refused unless
 * at Kong's default, or warned about. A field added to a schema without being sorted there fails
 * here, so no accepted field is ever dropped without a word. And a warned field, set, warns.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import { loadConfig } from '../../src/model/load.js';
import { ENTITY_FIELDS, PLUGIN_FIELDS, type FieldAudit } from '../../src/model/field-audit.js';
import { PENDING_PLUGINS, PLUGINS } from '../../src/model/plugins/index.js';
import { KONG_FIELDS_NOT_SERVED } from '../../src/model/plugins/kong-entities.js';
import { KONG_PLUGINS_NOT_SERVED } from '../../src/model/plugins/kong-plugins.js';
import { readFileSync } from 'node:fs';

interface Def { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType }
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
function unwrap(s: z.ZodType): z.ZodType {
  const d = defOf(s);
  if (d.innerType) return unwrap(d.innerType);
  if (d.type === 'pipe' && d.in) return unwrap(d.in);
  return s;
}

/** Dot paths of the fields of an object schema, into nested objects (a list or a map is one field). */
function fields(schema: z.ZodType, prefix = ''): string[] {
  const d = defOf(unwrap(schema));
  if (d.type !== 'object' || !d.shape) return [prefix];
  return Object.entries(d.shape).flatMap(([k, v]) => fields(v, prefix ? `${prefix}.${k}` : k));
}

function unsorted(schema: z.ZodType, audit: FieldAudit): string[] {
  const sorted = new Set([...audit.applied, ...(audit.refused ?? []), ...Object.keys(audit.warned ?? {})]);
  return fields(schema).filter((f) => !sorted.has(f));
}

describe('field audit', () => {
  for (const { entity, schema, audit } of ENTITY_FIELDS) {
    test(`${entity}: every field is applied, refused or warned`, () => {
      assert.deepEqual(unsorted(schema, audit), []);
    });
  }

  test('every served plugin has an audit, and it sorts every field of its config', () => {
    for (const p of PLUGINS) {
      const audit = PLUGIN_FIELDS[p.name];
      assert.ok(audit, `no audit for plugin ${p.name}`);
      assert.deepEqual(unsorted(p.config as z.ZodType, audit), [], p.name);
    }
  });

  test('the audit names no field the schema does not have', () => {
    for (const { entity, schema, audit } of ENTITY_FIELDS) {
      const all = new Set(fields(schema));
      const stale = [...audit.applied, ...(audit.refused ?? []), ...Object.keys(audit.warned ?? {})].filter((f) => !all.has(f));
      assert.deepEqual(stale, [], entity);
    }
  });

  test('warned fields set in a file warn, naming the field; at Kong\'s default they do not', () => {
    const text = (threshold: number, concurrency: number) => `_format_version: "3.0"
upstreams:
  - name: pool
    healthchecks:
      threshold: ${threshold}
      active:
        concurrency: ${concurrency}
    targets:
      - target: 10.0.0.1:8080
services:
  - name: s
    host: pool
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: r
        paths: [/]
`;
    const warned = loadConfig([{ file: 'kong.yml', text: text(50, 3) }]);
    assert.ok(warned.model);
    assert.deepEqual(warned.diagnostics.filter((d) => d.code === 'FD_FIELD_NOT_APPLIED').map((d) => [`${d.line}:${d.col}`, d.message.split(':')[0]]), [
      ['5:18', '"healthchecks.threshold" loads but is not applied'],
      ['7:22', '"healthchecks.active.concurrency" loads but is not applied'],
    ]);
    const quiet = loadConfig([{ file: 'kong.yml', text: text(0, 10) }]);
    assert.deepEqual(quiet.diagnostics.filter((d) => d.code === 'FD_FIELD_NOT_APPLIED'), []);
  });

  test('a plugin\'s protocols that leave out a protocol its route takes warn at the field (Frontdesk runs it on every request of the route); a list covering the route\'s does not', () => {
    const text = (routeProtocols: string, protocols: string) => `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: r
        paths: [/]
        protocols: ${routeProtocols}
        plugins:
          - name: request-termination
            protocols: ${protocols}
`;
    const notApplied = (t: string) => loadConfig([{ file: 'kong.yml', text: t }]).diagnostics.filter((d) => d.code === 'FD_FIELD_NOT_APPLIED');
    const narrow = notApplied(text('[http, https]', '[http]'));
    assert.deepEqual(narrow.map((d) => `${d.line}:${d.col}`), ['14:24']);
    assert.match(narrow[0]!.message, /"protocols" loads but is not applied: route "r" takes https, which it leaves out/);
    assert.deepEqual(notApplied(text('[https]', '[https]')), [], 'the route takes only what the plugin lists: Kong runs it on all of its requests too');
    assert.deepEqual(notApplied(text('[http, https]', '[grpc, grpcs, http, https]')), [], 'Kong\'s default, as decK dumps it');
  });

  test('docs/configuration.md names every entity field, every Kong entity and field not served, and every Kong plugin', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Every Kong entity, field and plugin'));
    // A field is named by its dot path, a tail of it (`https_sni` under healthchecks.active), or
    // the extension object it belongs to (`circuit_breaker`, documented in its own section).
    const named = (f: string) => f.split('.').some((_, i, parts) => section.includes(`\`${parts.slice(i).join('.')}\``) || section.includes(`\`${parts.slice(0, i + 1).join('.')}\``));
    const missing: string[] = [];
    for (const { entity, schema } of ENTITY_FIELDS) for (const f of fields(schema)) if (!named(f)) missing.push(`${entity}.${f}`);
    for (const table of KONG_FIELDS_NOT_SERVED.values()) for (const k of Object.keys(table)) if (!named(k)) missing.push(k);
    for (const name of [...PENDING_PLUGINS, ...KONG_PLUGINS_NOT_SERVED]) if (!section.includes(`\`${name}\``)) missing.push(`plugin ${name}`);
    assert.deepEqual(missing, []);
  });

  test("docs/configuration.md's list of refused Kong plugins names each refused plugin and no served one", () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const start = doc.indexOf('**Kong plugins refused**');
    assert.ok(start >= 0, 'the paragraph "Kong plugins refused"');
    const paragraph = doc.slice(start, doc.indexOf('\n\n', start));
    const named = new Set([...paragraph.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!));
    assert.deepEqual(PLUGINS.map((p) => p.name).filter((n) => named.has(n)), [], 'served plugins listed as refused');
    assert.deepEqual(KONG_PLUGINS_NOT_SERVED.filter((n) => !named.has(n)), [], 'refused plugins the list leaves out');
  });
});
