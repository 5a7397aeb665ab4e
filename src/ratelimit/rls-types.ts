import type protobuf from 'protobufjs';
import { messageType } from '../xds/proto-registry.js';

let types: { req: protobuf.Type; res: protobuf.Type } | undefined;

/**
 * The RateLimitRequest/RateLimitResponse message types from Envoy's rls.proto, for clients
 * (tests, benchmarks) that build or read the messages with protobufjs; the server itself uses
 * rls-codec.ts and never loads them.
 */
export function rlsTypes(): { req: protobuf.Type; res: protobuf.Type } {
  types ??= {
    req: messageType('envoy.service.ratelimit.v3.RateLimitRequest'),
    res: messageType('envoy.service.ratelimit.v3.RateLimitResponse'),
  };
  return types;
}
