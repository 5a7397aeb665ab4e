import { decodeMessage } from './proto-json.js';
import { typeForUrl } from './proto-registry.js';

/**
 * Companion resources decoded with protobufjs through the proto registry, for the companions
 * whose messages have no hand decoder (companion-client.ts loads this module only for them).
 */

/** The bytes of a `typeUrl` resource → its message as decodeMessage gives it. */
export function decodeByRegistry(typeUrl: string, bytes: Uint8Array): { [k: string]: unknown } {
  const type = typeForUrl(typeUrl);
  if (!type) throw new Error(`no message type for ${typeUrl}`);
  return decodeMessage(type, bytes);
}

/**
 * The bytes of a `typeUrl` resource → its message as a companion reads it: `M` maps each type
 * URL to the type generated from its .proto (contracts/*.ts), which describes what
 * decodeMessage gives for that URL's protobufjs type.
 */
export function decodeResource<M, U extends keyof M & string>(typeUrl: U, bytes: Uint8Array): M[U] {
  return decodeByRegistry(typeUrl, bytes) as M[U];
}
