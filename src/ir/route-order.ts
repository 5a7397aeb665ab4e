import type { HeaderMatch, PathMatch } from './types.js';

/**
 * Kong's router priority (the traditional_compatible flavour of Kong 3.x), so that Envoy's
 * first-match order picks the route Kong would pick. From most to least significant:
 *   - how many kinds of criteria the route has (methods, hosts, headers, paths, snis): bits 61+
 *   - hosts given and none is a wildcard: bit 60
 *   - how many headers it matches: bits 52-59
 *   - the path is a regex: bit 51 (regex paths are tried before prefixes)
 *   - regex_priority, for regex paths only: bits 19-50
 *   - the prefix length, longest first: bits 0-18
 * Ties are broken as Kong's ATC router breaks them: it keeps its matchers in a map ordered by
 * (priority, route uuid) and tries them from the largest down, so among equal priorities the
 * route with the highest id wins (the file's id, or the uuid5 Kong generates from the name;
 * renaming a route changes its id, never the rule). The paths of one route are told apart by
 * their IR id, for a total order.
 */
export function kongPriority(r: {
  hosts: string[];
  methods?: string[];
  headers: HeaderMatch[];
  path?: PathMatch;
  snis?: string[];
  regexPriority: number;
}): bigint {
  let weight = 0n;
  if (r.methods?.length) weight++;
  if (r.hosts.length) weight++;
  if (r.headers.length) weight++;
  if (r.snis?.length) weight++;
  if (r.path) weight++;
  const plainHostOnly = r.hosts.length > 0 && r.hosts.every((h) => !h.includes('*'));
  const regex = r.path?.kind === 'regex';
  const regexPriority = regex ? BigInt(Math.max(0, Math.min(r.regexPriority + 2 ** 30, 2 ** 31 - 1))) : 0n;
  const length = r.path?.kind === 'prefix' ? BigInt(Math.min(r.path.value.length, 0x7ffff)) : 0n;
  return (weight << 61n)
    | (plainHostOnly ? 1n << 60n : 0n)
    | (BigInt(Math.min(r.headers.length, 255)) << 52n)
    | (regex ? 1n << 51n : 0n)
    | (regexPriority << 19n)
    | length;
}

type Ordered = { priority: bigint; routeId: string; id: string };

/** Sorts by priority descending, then by Kong route id descending, then by IR id: a total, deterministic order. */
export function compareRoutes(a: Ordered, b: Ordered): number {
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  const ra = a.routeId.toLowerCase();
  const rb = b.routeId.toLowerCase();
  if (ra !== rb) return ra > rb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
