import type { Json, JsonObject } from '../json.js';

/**
 * Small builders for the proto3 JSON shapes Envoy's messages use, so the resource files read
 * like Envoy's documentation.
 */

export type { JsonObject };

/** Milliseconds → a Duration string (`"1.5s"`). */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const rest = ms % 1000;
  return rest ? `${s}.${String(rest).padStart(3, '0').replace(/0+$/, '')}s` : `${s}s`;
}

/** `{"@type": ..., ...fields}`: a google.protobuf.Any in proto3 JSON. */
export function anyMessage(typeName: string, fields: JsonObject): JsonObject {
  return { '@type': `type.googleapis.com/${typeName}`, ...fields };
}

/** A ConfigSource pointing at the ADS stream. */
export function adsSource(): JsonObject {
  return { ads: {}, resource_api_version: 'V3' };
}

/**
 * A literal for Envoy's header formatter: the value of every header Envoy adds is a format
 * string, where "%" starts a command (an unescaped "%" makes Envoy refuse the whole resource).
 */
export function formatterLiteral(value: string): string {
  return value.replace(/%/g, '%%');
}

/** A HeaderValueOption that sets (overwrites) a header to the literal `value`. */
export function setHeader(key: string, value: string): JsonObject {
  return setHeaderFormat(key, formatterLiteral(value));
}

/** A HeaderValueOption that sets (overwrites) a header to a format string (%REQ(...)% and the like). */
export function setHeaderFormat(key: string, format: string): JsonObject {
  return { header: { key, value: format }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

/** An Envoy SocketAddress. */
export function socketAddress(address: string, port: number): JsonObject {
  return { socket_address: { address, port_value: port } };
}

/** Removes undefined fields, so optional parts can be written inline. */
export function compact<T extends Record<string, unknown>>(o: T): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v as Json;
  return out;
}
