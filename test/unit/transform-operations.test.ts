// Kong's transformer operations on bodies and query strings (src/transform/operations.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transformBody, transformJson, transformQuery, type Operations } from '../../src/transform/operations.js';

const ops = (o: Partial<Operations>): Operations => ({ remove: [], rename: [], replace: [], add: [], append: [], ...o });

test("Kong's order: remove, rename, replace (only existing), add (only missing), append", () => {
  const out = transformJson({ a: 1, b: 2, c: 3 }, ops({
    remove: ['a'],
    rename: [{ name: 'b', value: 'bb' }, { name: 'missing', value: 'x' }],
    replace: [{ name: 'c', value: 'C' }, { name: 'nope', value: 'N' }],
    add: [{ name: 'c', value: 'ignored' }, { name: 'd', value: 'D' }],
    append: [{ name: 'd', value: 'D2' }, { name: 'e', value: 'E' }],
  }));
  assert.deepEqual(out, { bb: 2, c: 'C', d: ['D', 'D2'], e: 'E' });
});

test('json_types give numbers and booleans; a non-object body is left alone', () => {
  assert.deepEqual(transformJson({}, ops({ add: [{ name: 'n', value: '42' }, { name: 'b', value: 'true' }], add_types: ['number', 'boolean'] })), { n: 42, b: true });
  assert.deepEqual(transformJson([1, 2], ops({ remove: ['0'] })), [1, 2]);
});

test('query strings: the path is kept as it is, parameters change', () => {
  assert.equal(transformQuery('/a/b%20c?x=1', ops({ add: [{ name: 'version', value: 'v2' }] })), '/a/b%20c?x=1&version=v2');
  assert.equal(transformQuery('/a?version=v1', ops({ add: [{ name: 'version', value: 'v2' }] })), '/a?version=v1');
  assert.equal(transformQuery('/a?secret=1&k=2', ops({ remove: ['secret'], rename: [{ name: 'k', value: 'key' }] })), '/a?key=2');
  assert.equal(transformQuery('/a?x=1', ops({ remove: ['x'] })), '/a');
});

test('bodies by content type: JSON and forms change; other types and bad JSON are left alone', () => {
  const o = ops({ replace: [{ name: 'user_name', value: 'username' }] });
  assert.equal(transformBody(Buffer.from('{"user_name":"a"}'), 'application/json; charset=utf-8', o, true)?.toString(), '{"user_name":"username"}');
  assert.equal(transformBody(Buffer.from('user_name=a&b=1'), 'application/x-www-form-urlencoded', o, true)?.toString(), 'user_name=username&b=1');
  assert.equal(transformBody(Buffer.from('user_name=a'), 'application/x-www-form-urlencoded', o, false), undefined, 'response bodies: JSON only');
  assert.equal(transformBody(Buffer.from('{bad'), 'application/json', o, true), undefined);
  assert.equal(transformBody(Buffer.from('<x/>'), 'text/xml', o, true), undefined);
});

test('a multipart/form-data body loses the parts `remove` names, every other byte kept (RFC 7578: parts between --boundary lines)', () => {
  const part = (name: string, value: string) => `--b0undary\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = Buffer.from(`preamble\r\n${part('a', '1')}${part('apikey', 'secret')}${part('c', 'x\r\ny')}--b0undary--\r\nepilogue`);
  const only = (remove: string[]): Operations => ({ remove, rename: [], replace: [], add: [], append: [] });
  assert.equal(transformBody(body, 'multipart/form-data; boundary=b0undary', only(['apikey']), true)?.toString(),
    `preamble\r\n${part('a', '1')}${part('c', 'x\r\ny')}--b0undary--\r\nepilogue`);
  assert.equal(transformBody(body, 'multipart/form-data; boundary="b0undary"', only(['apikey', 'c']), true)?.toString(), `preamble\r\n${part('a', '1')}--b0undary--\r\nepilogue`, 'a quoted boundary');
  assert.equal(transformBody(body, 'multipart/form-data', only(['apikey']), true), undefined, 'no boundary: left alone');
  assert.equal(transformBody(body, 'multipart/form-data; boundary=b0undary', only(['apikey']), false), undefined, 'a response body: left alone');
});

test('multipart/form-data as Kong\'s transform_multipart_body: rename, remove, replace (written anew, last), add (last); append not applied', () => {
  const part = (name: string, value: string, extra = '') => `--b0undary\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n${value}\r\n`;
  const file = part('doc', 'PDF-BYTES', '; filename="a.pdf"\r\nContent-Type: application/pdf');
  const body = Buffer.from(`${part('old', 'v1')}${file}${part('keep', 'k')}${part('price', '10')}--b0undary--\r\n`);
  const ct = 'multipart/form-data; boundary=b0undary';
  const run = (o: Partial<Operations>) => transformBody(body, ct, { remove: [], rename: [], replace: [], add: [], append: [], ...o }, true)?.toString();
  // rename: lua-multipart's set_simple under the new name (a plain part, last), then the old one deleted.
  assert.equal(run({ rename: [{ name: 'old', value: 'new' }] }), `${file}${part('keep', 'k')}${part('price', '10')}${part('new', 'v1')}--b0undary--\r\n`);
  assert.equal(run({ rename: [{ name: 'doc', value: 'upload' }] }), `${part('old', 'v1')}${part('keep', 'k')}${part('price', '10')}${part('upload', 'PDF-BYTES')}--b0undary--\r\n`, 'a file part renamed keeps its bytes, not its filename');
  assert.equal(run({ rename: [{ name: 'absent', value: 'x' }] }), undefined, 'nothing to rename: the body is left alone');
  assert.equal(run({ replace: [{ name: 'price', value: '12' }, { name: 'absent', value: 'x' }] }), `${part('old', 'v1')}${file}${part('keep', 'k')}${part('price', '12')}--b0undary--\r\n`);
  assert.equal(run({ replace: [{ name: 'old', value: 'v2' }] }), `${file}${part('keep', 'k')}${part('price', '10')}${part('old', 'v2')}--b0undary--\r\n`, 'replaced parts go last, as delete then set_simple puts them');
  assert.equal(run({ add: [{ name: 'keep', value: 'no' }, { name: 'source', value: 'gw' }] }), `${part('old', 'v1')}${file}${part('keep', 'k')}${part('price', '10')}${part('source', 'gw')}--b0undary--\r\n`);
  assert.equal(run({ append: [{ name: 'keep', value: 'more' }] }), undefined, 'append: not applied to multipart, as in Kong');
  const empty = transformBody(Buffer.alloc(0), ct, { remove: ['x'], rename: [], replace: [{ name: 'y', value: '1' }], add: [{ name: 'a', value: '1' }], append: [] }, true)?.toString();
  assert.equal(empty, `${part('a', '1')}--b0undary--\r\n`, 'no body: only add writes, a body of its own');
});

test("an empty request body is Kong's empty table: add and append write one, remove-only leaves it empty", () => {
  const ops = (o: Partial<Operations>): Operations => ({ remove: [], rename: [], replace: [], add: [], append: [], ...o });
  const empty = Buffer.alloc(0);
  assert.equal(transformBody(empty, 'application/json', ops({ add: [{ name: 'p1', value: 'v1' }] }), true)?.toString(), '{"p1":"v1"}');
  assert.equal(transformBody(empty, 'application/x-www-form-urlencoded', ops({ append: [{ name: 'p1', value: 'v1' }, { name: 'p1', value: 'v2' }] }), true)?.toString(), 'p1=v1&p1=v2');
  assert.equal(transformBody(empty, 'application/json', ops({ remove: ['p1'] }), true), undefined);
  assert.equal(transformBody(empty, 'application/json', ops({ add: [{ name: 'p1', value: 'v1' }] }), false), undefined, 'a response body: left alone');
});
