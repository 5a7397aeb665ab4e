import type { RouteRateLimit__Output } from '../contracts/generated/frontdesk/ratelimit/v1/RouteRateLimit.js';
import type { RateLimitPolicy__Output } from '../contracts/generated/frontdesk/ratelimit/v1/RateLimitPolicy.js';
import type { Redis__Output } from '../contracts/generated/frontdesk/ratelimit/v1/Redis.js';
import type { Window__Output } from '../contracts/generated/frontdesk/ratelimit/v1/Window.js';
import type { ConsumerRateLimit__Output } from '../contracts/generated/frontdesk/ratelimit/v1/ConsumerRateLimit.js';
import { WireError, WireReader } from '../proto-wire.js';

/**
 * frontdesk.ratelimit.v1.RouteRateLimit (proto/frontdesk/ratelimit/v1/ratelimit.proto) read by
 * hand, so the ratelimit companion loads no protobuf library: the message as the other
 * companions get theirs from protobufjs (xds/proto-json.ts decodeMessage: field names as in the
 * .proto, enums by name, every field present with proto3's default, null for an absent
 * message), the shape of the generated `__Output` types. Unknown fields are skipped.
 */

const UNIT = ['UNIT_UNSPECIFIED', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'MONTH', 'YEAR'] as const;
const LIMIT_BY = ['LIMIT_BY_UNSPECIFIED', 'CONSUMER', 'CREDENTIAL', 'IP', 'SERVICE', 'HEADER', 'PATH'] as const;
const ALGORITHM = ['ALGORITHM_UNSPECIFIED', 'TOKEN_BUCKET', 'FIXED_WINDOW', 'SLIDING_WINDOW', 'SLIDING_LOG', 'LEAKY_BUCKET'] as const;
const POLICY = ['POLICY_UNSPECIFIED', 'LOCAL', 'CLUSTER', 'REDIS'] as const;

/** An enum value by its name; a number the .proto does not name stays a number (as protobufjs gives it). */
function enumName<T extends string>(names: readonly T[], n: number): T {
  return (names[n] ?? n) as T;
}

/** uint32: the low 32 bits of the varint (protobufjs's `>>> 0`). */
const uint32 = (r: WireReader) => r.varint() % 2 ** 32;
const bool = (r: WireReader) => r.varint() !== 0;

function double(r: WireReader): number {
  if (r.pos + 8 > r.end) throw new WireError('truncated double');
  const v = r.buf.readDoubleLE(r.pos);
  r.pos += 8;
  return v;
}

/** Calls `field` for each (field number, wire type) of the message `r` is over; skips what it does not take. */
function fields(r: WireReader, field: (n: number, wire: number) => boolean): void {
  while (r.more) {
    const tag = r.varint();
    const n = Math.floor(tag / 8);
    const wire = tag & 7;
    if (n === 0) throw new WireError('field number 0');
    if (!field(n, wire)) r.skip(wire);
  }
}

function readWindow(r: WireReader): Window__Output {
  const w: Window__Output = { unit: UNIT[0], limit: 0 };
  fields(r, (n, wire) => {
    if (n === 1 && wire === 0) w.unit = enumName(UNIT, r.varint());
    else if (n === 2 && wire === 1) w.limit = double(r);
    else return false;
    return true;
  });
  return w;
}

function readRedis(r: WireReader): Redis__Output {
  const x: Redis__Output = {
    host: '', port: 0, username: '', password: '', database: 0, ssl: false, ssl_verify: false, server_name: '', connect_timeout_ms: 0, read_timeout_ms: 0,
  };
  fields(r, (n, wire) => {
    if (wire === 2) {
      if (n === 1) x.host = r.string();
      else if (n === 3) x.username = r.string();
      else if (n === 4) x.password = r.string();
      else if (n === 8) x.server_name = r.string();
      else return false;
    } else if (wire === 0) {
      if (n === 2) x.port = uint32(r);
      else if (n === 5) x.database = uint32(r);
      else if (n === 6) x.ssl = bool(r);
      else if (n === 7) x.ssl_verify = bool(r);
      else if (n === 9) x.connect_timeout_ms = uint32(r);
      else if (n === 10) x.read_timeout_ms = uint32(r);
      else return false;
    } else return false;
    return true;
  });
  return x;
}

function readPolicy(r: WireReader): RateLimitPolicy__Output {
  const p: RateLimitPolicy__Output = {
    scope: '', limit_by: LIMIT_BY[0], header_name: '', path: '', windows: [], algorithm: ALGORITHM[0], policy: POLICY[0], redis: null,
    fault_tolerant: false, hide_client_headers: false, error_code: 0, error_message: '', stage: 0,
  };
  fields(r, (n, wire) => {
    if (wire === 2) {
      if (n === 1) p.scope = r.string();
      else if (n === 3) p.header_name = r.string();
      else if (n === 4) p.path = r.string();
      else if (n === 5) p.windows.push(readWindow(r.message()));
      else if (n === 8) p.redis = readRedis(r.message());
      else if (n === 12) p.error_message = r.string();
      else return false;
    } else if (wire === 0) {
      if (n === 2) p.limit_by = enumName(LIMIT_BY, r.varint());
      else if (n === 6) p.algorithm = enumName(ALGORITHM, r.varint());
      else if (n === 7) p.policy = enumName(POLICY, r.varint());
      else if (n === 9) p.fault_tolerant = bool(r);
      else if (n === 10) p.hide_client_headers = bool(r);
      else if (n === 11) p.error_code = uint32(r);
      else if (n === 13) p.stage = uint32(r);
      else return false;
    } else return false;
    return true;
  });
  return p;
}

function readConsumer(r: WireReader): ConsumerRateLimit__Output {
  const c: ConsumerRateLimit__Output = { consumer_id: '', policy: null };
  fields(r, (n, wire) => {
    if (n === 1 && wire === 2) c.consumer_id = r.string();
    else if (n === 2 && wire === 2) c.policy = readPolicy(r.message());
    else return false;
    return true;
  });
  return c;
}

/** RouteRateLimit bytes → the message; throws WireError on malformed bytes. */
export function decodeRouteRateLimit(bytes: Uint8Array): RouteRateLimit__Output {
  const r = WireReader.of(bytes);
  const m: RouteRateLimit__Output = { name: '', service: '', policy: null, consumers: [] };
  fields(r, (n, wire) => {
    if (wire !== 2) return false;
    if (n === 1) m.name = r.string();
    else if (n === 2) m.service = r.string();
    else if (n === 3) m.policy = readPolicy(r.message());
    else if (n === 4) m.consumers.push(readConsumer(r.message()));
    else return false;
    return true;
  });
  return m;
}
