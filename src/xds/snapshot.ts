import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { CONTENT_ADDRESSED_TYPES } from '../contracts/companion.js';
import type { ResourceMap, Translation } from '../resources/translate.js';
import { messageType, typeForUrl } from './proto-registry.js';
import { encodeJson, type Json } from './proto-json.js';
import { compareText } from '../text-order.js';

/** One resource encoded once per version; its bytes are shared by every node and stream. */
export interface EncodedResource {
  name: string;
  typeUrl: string;
  /** Content hash of the message bytes. */
  version: string;
  /** google.protobuf.Any bytes, ready to splice into a DiscoveryResponse. */
  any: Uint8Array;
  /** envoy.service.discovery.v3.Resource bytes (delta), built on first use. */
  deltaBytes?: Uint8Array;
  body: Json;
}

export type TypeResources = Map<string, EncodedResource>;

/** A complete, versioned set of resources: what one configuration compiles to. */
export interface Snapshot {
  /** Hash of every resource version: equal configs give equal versions. */
  version: string;
  fleets: Map<string, Map<string, TypeResources>>;
  companions: Map<string, TypeResources>;
  createdAt: number;
  /**
   * Set on a snapshot as delivered (see withRetainedPolicies): the version of the older
   * policies served beside this one's. `version` stays the configuration's.
   */
  retained?: string;
}

function hash(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('base64url').slice(0, 16);
}

let anyType: protobuf.Type | undefined;

/** Wraps message bytes in a google.protobuf.Any. */
function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  anyType ??= messageType('google.protobuf.Any');
  return anyType.encode({ type_url: typeUrl, value }).finish();
}

/**
 * Encodes a translation. Objects shared between fleets are encoded once (by identity), and a
 * resource whose bytes did not change since `previous` keeps its previous encoding. `encode`,
 * when given, makes the message bytes in place of a full encode (the compile side's encoder
 * reuses the bytes of unchanged objects); it must give the bytes a full encode would.
 */
export function buildSnapshot(t: Translation, createdAt: number, previous?: Snapshot, encode?: (typeUrl: string, body: Json) => Uint8Array): Snapshot {
  const memo = new Map<object, EncodedResource>();
  const prior = new Map<string, EncodedResource>();
  if (previous) {
    for (const types of previous.fleets.values()) for (const m of types.values()) for (const r of m.values()) prior.set(`${r.typeUrl}|${r.name}|${r.version}`, r);
  }
  const encodeMap = (typeUrl: string, m: ResourceMap): TypeResources => {
    const type = typeForUrl(typeUrl);
    if (!type) throw new Error(`no message type for ${typeUrl}`);
    const out: TypeResources = new Map();
    for (const name of [...m.keys()].sort()) {
      const body = m.get(name)!;
      let enc = memo.get(body);
      if (!enc) {
        const bytes = encode ? encode(typeUrl, body) : encodeJson(type, body);
        const version = hash(bytes);
        enc = prior.get(`${typeUrl}|${name}|${version}`) ?? { name, typeUrl, version, any: encodeAny(typeUrl, bytes), body };
        memo.set(body, enc);
      }
      out.set(name, enc);
    }
    return out;
  };
  const fleets = new Map<string, Map<string, TypeResources>>();
  for (const [fleet, types] of t.fleets) {
    const enc = new Map<string, TypeResources>();
    for (const [typeUrl, m] of types) enc.set(typeUrl, encodeMap(typeUrl, m));
    fleets.set(fleet, enc);
  }
  const companions = new Map<string, TypeResources>();
  for (const [typeUrl, m] of [...t.companions].sort(([a], [b]) => compareText(a, b))) companions.set(typeUrl, encodeMap(typeUrl, m));
  const parts: string[] = [];
  for (const [fleet, types] of [...fleets].sort(([a], [b]) => compareText(a, b))) {
    for (const [typeUrl, m] of [...types].sort(([a], [b]) => compareText(a, b))) parts.push(`${fleet}|${typeUrl}|${versionOf(m)}`);
  }
  for (const [typeUrl, m] of companions) parts.push(`*|${typeUrl}|${versionOf(m)}`);
  return { version: hash(parts.join('\n')), fleets, companions, createdAt };
}

const versionCache = new WeakMap<TypeResources, string>();

/** The version of a set of resources: a hash of their names and versions (cached per set). */
export function versionOf(resources: Iterable<EncodedResource> | TypeResources): string {
  if (resources instanceof Map) {
    const cached = versionCache.get(resources);
    if (cached) return cached;
  }
  const list = resources instanceof Map ? [...resources.values()] : [...resources];
  const v = list.length === 0 ? 'empty' : hash(list.map((r) => `${r.name}:${r.version}`).sort().join('\n'));
  if (resources instanceof Map) versionCache.set(resources, v);
  return v;
}

/** A set with nothing in it, shared (a type absent from a snapshot): never add to it. */
export const EMPTY: TypeResources = new Map();

/** The resources of `typeUrl` a node of `fleet` gets (companion types are the same for all). */
export function resourcesFor(s: Snapshot, fleet: string, typeUrl: string): TypeResources {
  const types = s.fleets.get(fleet) ?? s.fleets.get('');
  return types?.get(typeUrl) ?? s.companions.get(typeUrl) ?? EMPTY;
}

/**
 * The snapshot as delivered: `current`, with the content-addressed policies of `older`
 * snapshots (those some Envoy still routes by) served beside its own. Such resources are named
 * by their content, so a name held by two snapshots is one resource; other types are the
 * current snapshot's only. Returns `current` itself when nothing older needs keeping.
 */
export function withRetainedPolicies(current: Snapshot, older: Iterable<Snapshot>): Snapshot {
  const companions = new Map(current.companions);
  const kept: string[] = [];
  for (const s of older) {
    if (s.version === current.version) continue;
    for (const [typeUrl, m] of s.companions) {
      if (!CONTENT_ADDRESSED_TYPES.has(typeUrl)) continue;
      const own = companions.get(typeUrl) ?? new Map();
      let merged: TypeResources | undefined;
      for (const [name, r] of m) {
        if (own.has(name) || merged?.has(name)) continue;
        merged ??= new Map(own);
        merged.set(name, r);
        kept.push(`${typeUrl}|${name}`);
      }
      if (merged) companions.set(typeUrl, new Map([...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    }
  }
  if (!kept.length) return current;
  return { ...current, companions, retained: hash(kept.sort().join('\n')) };
}
