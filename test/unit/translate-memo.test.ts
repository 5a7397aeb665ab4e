/**
 * The translation cache's content check: an Envoy object is reused only for an IR entity whose
 * content is the same as last time, so a reuse can never give a resource a build from nothing
 * would not (the incremental-compile tests check whole builds; these, the comparison's rules).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sameContent, TranslateMemo } from '../../src/resources/translate-memo.js';

describe('sameContent', () => {
  test('plain values of the same content are the same, whatever their identity', () => {
    const make = () => ({ id: 'r', priority: 12n, hosts: ['a.test'], path: { kind: 'prefix', value: '/x' }, plugins: { 'key-auth': { feature: { key_names: ['apikey'] } } } });
    assert.equal(sameContent(make(), make()), true);
    assert.equal(sameContent(new Map([['a', [1]]]), new Map([['a', [1]]])), true);
    assert.equal(sameContent(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
    assert.equal(sameContent(/a.b/i, /a.b/i), true);
  });

  test('any difference of value, order, kind or length is a difference', () => {
    assert.equal(sameContent({ priority: 12n }, { priority: 13n }), false);
    assert.equal(sameContent({ a: 1, b: 2 }, { b: 2, a: 1 }), false, 'key order (what iterates the object sees it)');
    assert.equal(sameContent({ a: undefined }, {}), false);
    assert.equal(sameContent(['GET', 'POST'], ['GET']), false);
    assert.equal(sameContent(['1'], [1]), false);
    assert.equal(sameContent(new Map([['a', 1]]), new Map([['a', 2]])), false, 'a Map by its entries (JSON would spell both {})');
    assert.equal(sameContent(new Set(['a', 'b']), new Set(['b', 'a'])), false);
    assert.equal(sameContent(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(sameContent(/a/i, /a/), false);
    assert.equal(sameContent([], {}), false);
  });

  test('numbers are the same value as Object.is says: NaN is NaN (YAML .nan twice), 0 is not -0', () => {
    assert.equal(sameContent({ weight: Number.NaN }, { weight: Number.NaN }), true);
    assert.equal(sameContent([Number.NaN], [Number.NaN]), true);
    assert.equal(sameContent({ timeout: 0 }, { timeout: -0 }), false);
    assert.equal(sameContent([0], [-0]), false);
    assert.equal(sameContent(-0, 0), false);
  });

  test('a function, or an object of a class of its own, has no content to compare: never the same', () => {
    const f = () => 1;
    assert.equal(sameContent(f, f), false);
    assert.equal(sameContent({ check: f }, { check: f }), false);
    class Feature { constructor(readonly n: number) {} }
    assert.equal(sameContent(new Feature(1), new Feature(1)), false);
  });
});

describe('TranslateMemo', () => {
  test('an entity is built again when its content changed or the context did, and reused otherwise', () => {
    const memo = new TranslateMemo();
    let built = 0;
    const make = () => ({ n: ++built });
    memo.begin('ctx');
    const first = memo.get('route|l|http', 'r1', { path: '/a' }, make);
    memo.end();
    memo.begin('ctx');
    assert.equal(memo.get('route|l|http', 'r1', { path: '/a' }, make), first, 'same content: the same object');
    assert.notEqual(memo.get('route|l|http', 'r2', { path: '/a' }, make), first, 'another entity: its own object');
    memo.end();
    memo.begin('ctx');
    assert.notEqual(memo.get('route|l|http', 'r1', { path: '/b' }, make), first, 'changed content: built again');
    memo.end();
    memo.begin('other');
    assert.equal(memo.get('route|l|http', 'r1', { path: '/b' }, make).n, built, 'a new context: built again');
    assert.equal(memo.misses, 1);
  });
});
