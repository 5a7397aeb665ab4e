import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import protobuf from 'protobufjs';
import { PROJECT_ROOT } from '../project-root.js';
import { takeEnvoyProtoScope } from './proto-scope.js';

/**
 * Loads Envoy's v3 API from the .proto files shipped by @grpc/grpc-js-xds (deps/), our own
 * companion protos from proto/, and the google/protobuf well-known types from protobufjs.
 * One Root per process; loading takes a few hundred milliseconds, so it is done once.
 */

const require = createRequire(import.meta.url);
const XDS_DEPS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
export const PROJECT_PROTO_DIR = join(PROJECT_ROOT, 'proto');

const PROTOBUFJS_DIR = dirname(require.resolve('protobufjs/package.json'));

const INCLUDE_DIRS = [
  join(XDS_DEPS, 'envoy-api'),
  join(XDS_DEPS, 'xds'),
  join(XDS_DEPS, 'googleapis'),
  join(XDS_DEPS, 'protoc-gen-validate'),
  PROTOBUFJS_DIR, // google/protobuf/descriptor.proto and friends
];

/** Envoy API files the resources and services use; their imports are loaded with them. */
export const ENVOY_PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/ratelimit/v3/rate_limit.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/buffer/v3/buffer.proto',
  'envoy/extensions/filters/http/header_mutation/v3/header_mutation.proto',
  'envoy/extensions/filters/http/header_to_metadata/v3/header_to_metadata.proto',
  'envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/grpc_web/v3/grpc_web.proto',
  'envoy/extensions/filters/http/grpc_json_transcoder/v3/transcoder.proto',
  'envoy/extensions/filters/http/lua/v3/lua.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/basic_auth/v3/basic_auth.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.proto',
  'envoy/extensions/resource_monitors/fixed_heap/v3/fixed_heap.proto',
  'envoy/extensions/filters/http/adaptive_concurrency/v3/adaptive_concurrency.proto',
  'envoy/extensions/access_loggers/filters/cel/v3/cel.proto',
  // custom_response (Kong's error bodies), composite and matchers, for the native plugins
  'envoy/extensions/filters/http/custom_response/v3/custom_response.proto',
  'envoy/extensions/http/custom_response/local_response_policy/v3/local_response_policy.proto',
  'envoy/extensions/filters/http/composite/v3/composite.proto',
  'envoy/extensions/common/matching/v3/extension_matcher.proto',
  'envoy/extensions/filters/common/matcher/action/v3/skip_action.proto',
  // the CEL matcher over a request's attributes (native auth's accepted path)
  'xds/type/matcher/v3/cel.proto',
  'xds/type/matcher/v3/http_inputs.proto',
  'envoy/type/matcher/v3/status_code_input.proto',
  'envoy/type/matcher/v3/http_inputs.proto',
  'envoy/extensions/matching/common_inputs/network/v3/network_inputs.proto',
  'envoy/extensions/matching/input_matchers/ip/v3/ip.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  // file-log (the client's path kept in filter state) and the tracers
  'envoy/extensions/filters/http/set_filter_state/v3/set_filter_state.proto',
  'envoy/config/trace/v3/opentelemetry.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/extensions/tracers/opentelemetry/resource_detectors/v3/static_config_resource_detector.proto',
  // http-log: Envoy's gRPC access-log service and its logger
  'envoy/extensions/access_loggers/grpc/v3/als.proto',
  'envoy/service/accesslog/v3/als.proto',
  'envoy/service/auth/v3/external_auth.proto',
  'envoy/service/ratelimit/v3/rls.proto',
  'envoy/service/ext_proc/v3/external_processor.proto',
  'envoy/service/health/v3/hds.proto',
];

/** Every .proto file under `base`, as paths relative to it (sorted). */
function listProtoFiles(base: string, dir = base): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listProtoFiles(base, p));
    else if (entry.endsWith('.proto')) out.push(relative(base, p));
  }
  return out;
}

let cached: protobuf.Root | undefined;

export { loadOnlyEnvoyProtos } from './proto-scope.js';

/** The process-wide Root holding Envoy's API and Frontdesk's own companion messages. */
export function protoRoot(): protobuf.Root {
  if (cached) return cached;
  const root = new protobuf.Root();
  const includes = [...INCLUDE_DIRS, PROJECT_PROTO_DIR];
  root.resolvePath = (_origin, target) => {
    if (target.startsWith('google/protobuf/') && protobuf.common.get(target)) return target;
    for (const dir of includes) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  const files = [...takeEnvoyProtoScope(ENVOY_PROTO_FILES), ...listProtoFiles(PROJECT_PROTO_DIR)];
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  ownOptionStrings(root);
  cached = root;
  return root;
}

/**
 * protobufjs keeps each option's string value (`go_package`, `previous_message_type`,
 * `well_known_regex`...) as a slice of its .proto file's text, which keeps every loaded file's
 * whole text alive (~1.5 MiB for Envoy's API). A copy of each such string lets the texts go.
 */
function ownOptionStrings(root: protobuf.Root): void {
  const own = (v: unknown): unknown => {
    if (typeof v === 'string') return v.length >= 13 ? Buffer.from(v, 'utf8').toString('utf8') : v;
    if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) v[i] = own(v[i]); return v; }
    if (v !== null && typeof v === 'object') { for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = own((v as Record<string, unknown>)[k]); return v; }
    return v;
  };
  const visit = (o: protobuf.ReflectionObject): void => {
    const r = o as protobuf.ReflectionObject & { parsedOptions?: unknown; extend?: string; comment?: string | null };
    if (r.options) own(r.options);
    if (r.parsedOptions) own(r.parsedOptions);
    if (typeof r.extend === 'string') r.extend = own(r.extend) as string;
    if (typeof r.comment === 'string') r.comment = null;
    if (o instanceof protobuf.Type) { for (const f of o.fieldsArray) visit(f); for (const x of o.oneofsArray) visit(x); }
    if (o instanceof protobuf.Service) for (const m of o.methodsArray) visit(m);
    if (o instanceof protobuf.Enum) {
      const e = o as protobuf.Enum & { valuesOptions?: unknown };
      if (e.valuesOptions) own(e.valuesOptions);
      e.comments = {};
    }
    if (o instanceof protobuf.Namespace) for (const n of o.nestedArray) visit(n);
  };
  visit(root);
}

/** Looks a message type up by its full name (`envoy.config.route.v3.RouteConfiguration`). */
export function messageType(fullName: string): protobuf.Type {
  return protoRoot().lookupType(fullName);
}

/** `type.googleapis.com/<full name>` → the message type, or undefined when not loaded. */
export function typeForUrl(typeUrl: string): protobuf.Type | undefined {
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  try {
    return protoRoot().lookupType(name);
  } catch {
    return undefined;
  }
}
