import type { YamlPath } from '../../errors.js';
import type { Origin, Plugin } from '../types.js';
import { CREDENTIAL_KINDS, isObject, type Child, type FlatConfig, type Found, type Raw } from './flat-config.js';
import type { Document } from './read-documents.js';
import { kongId } from '../../kong-ids.js';
import { placeKey } from './references.js';

/** Keys Kong's declarative schema accepts on every entity, and ignores (declarative_config.lua, add_extra_attributes). */
export const IGNORED_KEYS = ['_comment', '_ignore'] as const;

/** Something that is not a mapping is kept as `{ _bad: value }`, which its schema then refuses; `_comment` and `_ignore` are dropped. */
function asRaw(v: unknown): Raw {
  if (!isObject(v)) return { _bad: v };
  if (!IGNORED_KEYS.some((k) => k in v)) return v;
  const { _comment: _c, _ignore: _i, ...rest } = v;
  return rest;
}

/**
 * The entity's YAML value as the key of what its schema made of it last time: only a frozen one,
 * which the next parse of an unchanged text hands back (a value that can change in place has no
 * content its identity stands for).
 */
function sourceOf(v: unknown): object | undefined {
  return typeof v === 'object' && v !== null && Object.isFrozen(v) ? v : undefined;
}

/** The key children use for their parent: the first of `fields` that holds a string (the parent's schema refuses any other value). */
function keyOf(own: unknown, fields: readonly string[]): string | undefined {
  if (!isObject(own)) return undefined;
  return fields.map((f) => own[f]).find((v): v is string => typeof v === 'string');
}

/** Splits nested children off an entity: returns the entity's own fields and the children lists. */
function detach(raw: unknown, keys: readonly string[]): { own: unknown; children: Record<string, unknown[]> } {
  const children: Record<string, unknown[]> = {};
  if (!isObject(raw)) return { own: raw, children };
  const own: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    if (keys.includes(k)) children[k] = Array.isArray(v) ? v : v == null ? [] : [v];
    else own[k] = v;
  }
  return { own, children };
}

/**
 * `{ ...asRaw(own), _parent: parent }` of detach(raw, [childKey])'s own fields, in one copy: the
 * entity's fields in their order without the child list and the ignored keys, then `_parent`
 * (in place, when the entity has a field of that name, as the spread would).
 */
function childOf(raw: unknown, childKey: string, parent: string | undefined): Child {
  if (!isObject(raw)) return { _bad: raw, _parent: parent };
  const out: Child = {};
  // `__proto__` as a key: the copy detach made by assignment kept none (it set the prototype), nor did the spread.
  for (const k of Object.keys(raw)) if (k !== childKey && k !== '__proto__' && !(IGNORED_KEYS as readonly string[]).includes(k)) out[k] = raw[k];
  out._parent = parent;
  return out;
}

/**
 * Nested and top-level entities → flat lists. Kong files nest routes and plugins in services,
 * plugins in routes, credentials and plugins in consumers, targets in upstreams; a nested child
 * remembers its parent's key, a nested plugin the scope it is written in. With `memo`, a
 * top-level item that is the last load's frozen object at the same place gives the entries it
 * gave then, the same objects.
 */
export function flatten(documents: readonly Document[], memo?: FlattenMemo): FlatConfig {
  const flat: FlatConfig = {
    services: [], routes: [], upstreams: [], targets: [], consumers: [], plugins: [],
    credentials: { jwt_secrets: [], keyauth_credentials: [], basicauth_credentials: [], hmacauth_credentials: [], acls: [] },
    certificates: [], snis: [], caCertificates: [], listeners: [],
  };
  memo?.begin();
  for (const document of documents) flattenDocument(flat, document, memo);
  return flat;
}

/** The flat lists in a fixed order: a top-level item's entries are kept by list index. */
function listsOf(flat: FlatConfig): Found<unknown>[][] {
  return [flat.services, flat.routes, flat.upstreams, flat.targets, flat.consumers, flat.plugins, ...CREDENTIAL_KINDS.map((k) => flat.credentials[k]), flat.certificates, flat.snis, flat.caCertificates, flat.listeners];
}

/** One top-level item's entries: where it was written, and per flat list (by index) what it added. */
interface ItemEntries { file: string; kind: string; index: number; added: [number, Found<unknown>[]][] }

/**
 * What flatten keeps for the next load: the entries each top-level item gave, by the item's
 * frozen YAML value (an unchanged chunk of the file is the same object, yaml-source.ts). An
 * entry is taken again only for the same value at the same file, list and index: its origins
 * say where it is written.
 */
export class FlattenMemo {
  private items = new WeakMap<object, ItemEntries>();
  /** Items whose entries were taken, and made, by the last flatten (for tests and benchmarks). */
  reused = 0;
  made = 0;

  /** Runs `add` for the item (recording what it adds to `lists`), or adds what it added last time. */
  item(lists: Found<unknown>[][], value: unknown, file: string, kind: string, index: number, add: () => void): void {
    const source = sourceOf(value);
    if (!source) { add(); return; }
    const known = this.items.get(source);
    if (known && known.index === index && known.file === file && known.kind === kind) {
      this.reused++;
      for (const [k, found] of known.added) for (const f of found) lists[k]!.push(f);
      return;
    }
    this.made++;
    const before = lists.map((l) => l.length);
    add();
    const added: [number, Found<unknown>[]][] = [];
    for (let k = 0; k < lists.length; k++) if (lists[k]!.length > before[k]!) added.push([k, lists[k]!.slice(before[k])]);
    this.items.set(source, { file, kind, index, added });
  }

  /** The start of a flatten (flatten calls it): its counts from zero. */
  begin(): void {
    this.reused = this.made = 0;
  }
}

function flattenDocument(flat: FlatConfig, { file, top }: Document, memo: FlattenMemo | undefined): void {
  const at = (path: YamlPath): Origin => ({ file, path });
  const lists = memo ? listsOf(flat) : [];
  /** Each item of a top-level list through `add`, by the memo when there is one. */
  const each = (items: unknown[], kind: string, add: (v: unknown, i: number) => void) => {
    if (!memo) items.forEach(add);
    else items.forEach((v, i) => memo.item(lists, v, file, kind, i, () => add(v, i)));
  };
  // The parent's id only for a parent with plugins (a UUID v5 to make, for every route otherwise).
  // `first`: the index of list[0] in the YAML list it is part of (a top-level plugin comes alone).
  const addPlugins = (list: unknown[], base: YamlPath, scope: Plugin['scope'], parentIdOf?: () => string, first = 0) => {
    if (!list.length) return;
    const parentId = parentIdOf?.();
    list.forEach((p, i) => flat.plugins.push({ value: { ...asRaw(p), _scope: scope, _parentId: parentId }, origin: at([...base, first + i]) }));
  };
  const addRoute = (r: unknown, path: YamlPath, parent?: string) => {
    // One copy of the route (what detach, asRaw and the spread with _parent gave in three): there are thousands.
    flat.routes.push({ value: childOf(r, 'plugins', parent), origin: at(path), source: sourceOf(r) });
    const plugins = isObject(r) ? r.plugins : undefined;
    const list = Array.isArray(plugins) ? plugins : plugins == null ? [] : [plugins];
    if (list.length) addPlugins(list, [...path, 'plugins'], { route: keyOf(r, ['name', 'id']) ?? placeKey(at(path)) }, () => parentId(r, 'routes', 'name', path));
  };
  // The id the parent has in Kong (model/load/kong-ids.ts), as its nested plugins' ids are built from it.
  const parentId = (own: unknown, schema: string, keyField: string, path: YamlPath) =>
    keyOf(own, ['id']) ?? kongId(schema, keyOf(own, [keyField]) ?? placeKey(at(path)).slice(1));

  each(top.services, 'services', (s, i) => {
    const path = ['services', i];
    const { own, children } = detach(s, ['routes', 'plugins']);
    flat.services.push({ value: asRaw(own), origin: at(path), source: sourceOf(s) });
    const key = keyOf(own, ['name', 'id']) ?? '';
    (children.routes ?? []).forEach((r, j) => addRoute(r, [...path, 'routes', j], key));
    addPlugins(children.plugins ?? [], [...path, 'plugins'], { service: key }, () => parentId(own, 'services', 'name', path));
  });
  each(top.routes, 'routes', (r, i) => addRoute(r, ['routes', i]));
  each(top.upstreams, 'upstreams', (u, i) => {
    const path = ['upstreams', i];
    const { own, children } = detach(u, ['targets']);
    flat.upstreams.push({ value: asRaw(own), origin: at(path), source: sourceOf(u) });
    const key = keyOf(own, ['name', 'id']) ?? '';
    (children.targets ?? []).forEach((t, j) => flat.targets.push({ value: { ...asRaw(t), _parent: key }, origin: at([...path, 'targets', j]), source: sourceOf(t) }));
  });
  each(top.targets, 'targets', (t, i) => flat.targets.push({ value: asRaw(t), origin: at(['targets', i]), source: sourceOf(t) }));
  each(top.consumers, 'consumers', (c, i) => {
    const path = ['consumers', i];
    const { own, children } = detach(c, ['plugins', ...CREDENTIAL_KINDS]);
    flat.consumers.push({ value: asRaw(own), origin: at(path), source: sourceOf(c) });
    const key = keyOf(own, ['id', 'username', 'custom_id']) ?? '';
    for (const kind of CREDENTIAL_KINDS) {
      (children[kind] ?? []).forEach((x, j) => flat.credentials[kind].push({ value: { ...asRaw(x), _parent: key }, origin: at([...path, kind, j]), source: sourceOf(x) }));
    }
    addPlugins(children.plugins ?? [], [...path, 'plugins'], { consumer: key }, () => parentId(own, 'consumers', 'username', path));
  });
  for (const kind of CREDENTIAL_KINDS) each(top[kind], kind, (x, i) => flat.credentials[kind].push({ value: asRaw(x), origin: at([kind, i]), source: sourceOf(x) }));
  each(top.plugins, 'plugins', (p, i) => addPlugins([p], ['plugins'], {}, undefined, i));
  const list = (into: Found<Raw>[], items: unknown[], kind: string) => each(items, kind, (x, i) => into.push({ value: asRaw(x), origin: at([kind, i]), source: sourceOf(x) }));
  list(flat.certificates, top.certificates, 'certificates');
  list(flat.snis, top.snis, 'snis');
  list(flat.caCertificates, top.ca_certificates, 'ca_certificates');
  list(flat.listeners, top.listeners, 'listeners');
}
