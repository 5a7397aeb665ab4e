/**
 * request-transformer's `$(...)` templates (src/kong-template.ts, src/transform/templates.ts),
 * against what Kong documents and does: Penlight renders `$(expr)` as `(expr or '')`, Kong's
 * template environment is the request as it arrived (ngx's header table: case-insensitive, `_`
 * read as `-`; ngx.decode_args for the query; the router's uri_captures, 0 the whole match), and
 * a value Lua cannot concatenate (a table, a boolean) fails the render, which Kong answers 500.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTemplate, renderTemplate, type TemplateEnv } from '../../src/kong-template.js';
import { headerChanges, headerTable, queryArguments, uriCaptures } from '../../src/transform/templates.js';

function rendered(template: string, env: Partial<TemplateEnv>): string | { error: string } {
  const t = parseTemplate(template);
  if ('error' in t) throw new Error(t.error);
  const r = renderTemplate(t.parts, { headers: new Map(), query: new Map(), captures: new Map(), ...env });
  return 'error' in r ? r : r.value;
}

describe('rendering', () => {
  const headers = headerTable([{ key: ':authority', value: 'test15.test' }, { key: 'X-User-Id', value: '42' }, { key: 'x-dup', value: 'a' }, { key: 'x-dup', value: 'b' }, { key: ':path', value: '/x' }]);

  test('headers: by name in any case, dots with underscores for hyphens, Host from :authority', () => {
    assert.equal(rendered('$(headers.host)', { headers }), 'test15.test');
    assert.equal(rendered('$(headers["X-User-Id"])', { headers }), '42');
    assert.equal(rendered("$(headers['x-user-id'])", { headers }), '42');
    assert.equal(rendered('$(headers.x_user_id)', { headers }), '42');
    assert.equal(rendered('$(headers[":path"])', { headers }), '');
  });

  test('literal text around templates is kept; a missing value renders empty', () => {
    assert.equal(rendered('Basic $(query_params["auth"])', { query: queryArguments('/?auth=dXNlcg==') }), 'Basic dXNlcg==');
    assert.equal(rendered('id-$(headers.missing)-end', { headers }), 'id--end');
  });

  test('"or" takes the first present operand; an empty string is present in Lua', () => {
    const captures = uriCaptures('/users/(?P<user_id>\\w+)', '/users/7');
    assert.equal(rendered('$(uri_captures["user-id"] or query_params["user"] or "unknown")', { query: queryArguments('/?user=ann') }), 'ann');
    assert.equal(rendered('$(uri_captures["user-id"] or query_params["user"] or "unknown")', {}), 'unknown');
    assert.equal(rendered('$(uri_captures.user_id or "x")', { captures }), '7');
    assert.equal(rendered("$(query_params.a or 'd')", { query: queryArguments('/?a=') }), '');
  });

  test('Kong\'s escape: a quoted template inside a template is written as it is', () => {
    assert.equal(rendered("$('$(uri_captures.user1)')", {}), '$(uri_captures.user1)');
  });

  test('a repeated header or argument, or an argument without "=", fails the render (Kong answers 500)', () => {
    assert.deepEqual(rendered('$(headers["x-dup"])', { headers }), { error: 'attempt to concatenate a table value' });
    assert.deepEqual(rendered('$(query_params.q)', { query: queryArguments('/?q=1&q=2') }), { error: 'attempt to concatenate a table value' });
    assert.deepEqual(rendered('$(query_params.flag)', { query: queryArguments('/?flag') }), { error: 'attempt to concatenate a boolean value' });
  });

  test('an unbalanced "$(" is text, as Penlight leaves it', () => {
    assert.equal(rendered('cost $(5', {}), 'cost $(5');
  });
});

describe('the environment', () => {
  test('query arguments decoded as ngx.decode_args does', () => {
    assert.deepEqual([...queryArguments('/p?a=1&b=x+y&c=%41&a=2&d')], [['a', ['1', '2']], ['b', 'x y'], ['c', 'A'], ['d', true]]);
  });

  test('uri_captures: numbered from the whole match, and by name, of a match at the start of the path', () => {
    const c = uriCaptures('/requests/user1/(?P<user1>\\w+)/user2/(?<user2>\\S+)', '/requests/user1/foo/user2/bar?q=1');
    assert.deepEqual([...c], [[0, '/requests/user1/foo/user2/bar'], [1, 'foo'], [2, 'bar'], ['user1', 'foo'], ['user2', 'bar']]);
    assert.deepEqual([...uriCaptures('/requests/(?P<n>\\w+)', '/other/requests/x')], []);
    assert.deepEqual([...uriCaptures('', '/x')], []);
  });
});

describe('header operations in Kong\'s order', () => {
  const ops = (o: Partial<Parameters<typeof headerChanges>[1]>) => ({ remove: [], rename: [], replace: [], add: [], append: [], ...o });

  test('remove, rename, replace only what is there, add only what is not, append to what is', () => {
    const h = headerTable([{ key: 'x-old', value: '1' }, { key: 'x-gone', value: 'g' }, { key: 'x-keep', value: 'k' }, { key: 'x-r', value: 'was' }]);
    const c = headerChanges(h, ops({
      remove: ['x-gone'], rename: [{ name: 'x-old', value: 'x-new' }, { name: 'x-absent', value: 'x-never' }],
      replace: [{ name: 'x-r', value: 'now' }, { name: 'x-none', value: 'no' }], add: [{ name: 'x-keep', value: 'no' }, { name: 'x-added', value: 'a1' }],
      append: [{ name: 'x-added', value: 'a2' }],
    }));
    assert.deepEqual(c.remove, ['x-old', 'x-gone']);
    assert.deepEqual(c.set, [['x-r', ['now']], ['x-new', ['1']], ['x-added', ['a1', 'a2']]]);
  });
});
