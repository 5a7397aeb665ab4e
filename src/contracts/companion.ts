import { createHash } from 'node:crypto';
import { intFlag } from '../args.js';
import { companionAdminPort } from '../default-ports.js';
import type { Json, JsonObject } from '../json.js';
import type { TlsFiles } from '../identity.js';
import type { Logger } from '../logger.js';

/**
 * What the control plane and every companion service share, whatever the companion: the
 * resource a translation hands the ADS server, and how a companion is started. The
 * per-companion contracts (authz.ts, ratelimit.ts, transform.ts) build on these.
 */

/** A companion resource: one of our own messages, served over the same ADS stream as Envoy's. */
export interface CompanionResource {
  typeUrl: string;
  name: string;
  /** The message in proto3 JSON, zero values left out. */
  body: JsonObject;
}

/** A list item: scalars as they are (a repeated field's zero values are values), messages cleaned. */
function itemOf(v: unknown): Json {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return v !== null && typeof v === 'object' ? objectOf(v) : null;
}

/** A field's value, or undefined for proto3's zero values. */
function fieldOf(v: unknown): Json | undefined {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.length ? v.map(itemOf) : undefined;
  return typeof v === 'object' ? objectOf(v) : undefined;
}

function objectOf(o: object): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    const j = fieldOf(v);
    if (j !== undefined) out[k] = j;
  }
  return out;
}

/**
 * A message (its generated type, field names as in the .proto, enums by name) → the resource:
 * proto3 zero values (false, 0, "", empty lists, unset messages) are left out, as the wire
 * carries them, so the body reads as the message decodes. A set message stays, even empty.
 */
export function companionResource<M extends object>(typeUrl: string, name: string, message: M): CompanionResource {
  return { typeUrl, name, body: objectOf(message) };
}

/** JSON with every object's keys sorted: equal content, equal text. */
function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`).join(',')}}`;
  return JSON.stringify(v);
}

/**
 * A policy resource named by its content: the name is a hash of the type URL and the message
 * (its own `name` left out), and Envoy carries that name per request (ext_authz context,
 * rate-limit descriptor, ext_proc metadata). Equal policies get equal names whatever route
 * they came from, an edit that does not change a policy does not rename it, and a companion
 * can hold an older version's policies beside the current ones without any clash.
 */
export function contentAddressedResource<M extends { name?: string }>(typeUrl: string, message: M): CompanionResource {
  const { name: _ignored, ...content } = message;
  const body = objectOf(content);
  const name = createHash('sha256').update(typeUrl).update('\n').update(canonical(body)).digest('hex').slice(0, 32);
  return { typeUrl, name, body: { name, ...body } };
}

/**
 * The companion types whose resources are named by content (see contentAddressedResource):
 * the control plane keeps serving the ones an Envoy's accepted or pending version still
 * references beside the current ones. Other types (consumers, whose credentials a revocation
 * must remove at once) are the current version's only.
 */
export const CONTENT_ADDRESSED_TYPES: ReadonlySet<string> = new Set([
  'type.googleapis.com/frontdesk.authz.v1.RoutePolicy',
  'type.googleapis.com/frontdesk.ratelimit.v1.RouteRateLimit',
  'type.googleapis.com/frontdesk.transform.v1.RouteTransform',
]);

/** Resources sorted by name (translations are deterministic). */
export function byName(resources: CompanionResource[]): CompanionResource[] {
  return resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** How a companion service is started: by `frontdesk <name>` or in-process by `frontdesk start`. */
/** Where a control plane's xDS server listens. */
export interface XdsAddress { host: string; port: number }

/** One control plane, or the addresses of its replicas (one stream at a time, to each in turn). */
export type XdsAddresses = XdsAddress | readonly XdsAddress[];

/** The addresses as a list. */
export function xdsList(x: XdsAddresses): readonly XdsAddress[] {
  return 'host' in x ? [x as XdsAddress] : x as readonly XdsAddress[];
}

/** `host:port` (IPv6 in brackets), as gRPC targets and log lines write an address. */
export function xdsTarget(a: XdsAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

export interface CompanionOptions {
  /** The control plane's ADS address (or its replicas'): the companion's policy arrives over it. */
  xds: XdsAddresses;
  host: string;
  port: number;
  nodeId: string;
  logger: Logger;
  /** Flags given on the command line, by name (e.g. `redis`), for companion-specific settings. */
  flags: ReadonlyMap<string, string | true>;
  /** mTLS both ways: to the control plane, and from Envoys (only Envoy certificates of the CA are answered). */
  tls?: TlsFiles;
}

/**
 * The port of a companion's admin server: its flag when given, else derived from the gRPC port
 * (see companionAdminPort), so two instances on one host given only `--port` never collide.
 */
export function adminPortOf(flags: ReadonlyMap<string, string | true>, flag: string, grpcPort: number): number {
  return intFlag({ positionals: [], flags: new Map(flags) }, flag, companionAdminPort(grpcPort));
}

export interface RunningCompanion {
  /** The bound gRPC port. */
  port: number;
  /** True once the first policy from the control plane is loaded. */
  ready(): boolean;
  stop(): Promise<void>;
}

export interface CompanionDefinition {
  name: string;
  defaultPort: number;
  /** The flag naming the port of the companion's admin HTTP server, when it has one. */
  adminPortFlag?: string;
  /** One line for the usage text: flags beyond --xds/--port. */
  usage: string;
  /**
   * The Envoy API files the companion uses (their imports come with them), when it runs alone in
   * its process (`frontdesk <companion>`): loading only these keeps its memory small. Absent: all.
   */
  envoyProtos?: readonly string[];
  start(o: CompanionOptions): Promise<RunningCompanion>;
}
