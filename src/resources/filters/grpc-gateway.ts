import type { FeatureOf, IrListener, IrRoute } from '../../ir/types.js';
import { anyMessage, setHeader, type JsonObject } from '../builders.js';
import { optionsAnswerFilter } from './options-answer.js';
import type { HttpFilter } from './registry.js';

type GrpcGateway = FeatureOf<'grpc-gateway'>;

/**
 * Kong's grpc-gateway (kong/plugins/grpc-gateway/handler.lua), in Envoy:
 * - envoy.filters.http.grpc_json_transcoder, per route, with the descriptor set built from the
 *   plugin's .proto at load time (runtime/proto-descriptors.ts): a REST call matching one of the
 *   proto's google.api.http rules becomes a gRPC call to the HTTP/2 upstream, the answer JSON;
 *   field names as written in the .proto, as Kong's decoder prints them;
 * - the upstream gets the gRPC method's path (Kong sets the URI to it), so the route's own
 *   path rewrite is dropped; the route stays the one the REST path matched;
 * - Kong answers OPTIONS itself (200 "OK" with its CORS headers) and names Access-Control-
 *   Allow-Origin: * on every answer.
 */

export const GRPC_GATEWAY_FILTER = 'frontdesk.grpc_gateway';
export const GRPC_GATEWAY_OPTIONS_FILTER = 'frontdesk.grpc_gateway.options';

/** Kong's CORS_HEADERS for OPTIONS. */
export const GRPC_GATEWAY_OPTIONS_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET,POST,PATCH,DELETE',
  'access-control-allow-headers': 'content-type',
};

const TRANSCODER = 'envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder';

function configOf(r: IrRoute): GrpcGateway | undefined {
  return r.service ? r.plugins['grpc-gateway']?.feature : undefined;
}

function transcoder(c: GrpcGateway): JsonObject {
  if (!c.descriptor) throw new Error(`grpc-gateway: the proto ${c.proto} was not compiled (runtime/compile.ts resolves protos before translating)`);
  return {
    proto_descriptor_bin: c.descriptor.descriptorSetBase64,
    services: c.descriptor.services,
    // Keep the route the REST path matched (by default the transcoder re-matches on the gRPC path).
    match_incoming_request_route: true,
    print_options: { preserve_proto_field_names: true },
    // A REST call no rule matches is refused here, not passed to the gRPC upstream as is.
    request_validation_options: { reject_unknown_method: true },
    // A gRPC error (the upstream's, or Envoy's for a failed upstream) becomes its HTTP status
    // (Envoy's table; Kong's grpc_status_map differs only for 12: 501 here, 500 in Kong) and a
    // JSON google.rpc.Status body.
    convert_grpc_status: true,
  };
}

function firstConfig(l: IrListener): GrpcGateway | undefined {
  for (const r of l.routes) {
    const c = configOf(r);
    if (c) return c;
  }
  return undefined;
}

export const grpcGatewayFilter: HttpFilter = {
  name: GRPC_GATEWAY_FILTER,
  httpFilter(l) {
    const c = firstConfig(l);
    // The listener-level config must be a valid one; each route with the plugin names its own.
    return c ? { name: GRPC_GATEWAY_FILTER, disabled: true, typed_config: anyMessage(TRANSCODER, transcoder(c)) } : undefined;
  },
  perRoute(r) {
    const c = configOf(r);
    return c ? anyMessage(TRANSCODER, transcoder(c)) : undefined;
  },
  patchRoute(r, envoyRoute) {
    const action = envoyRoute.route as JsonObject | undefined;
    if (!configOf(r) || !action) return;
    delete action.regex_rewrite;
    const headers = (envoyRoute.response_headers_to_add as JsonObject[] | undefined) ?? [];
    envoyRoute.response_headers_to_add = [...headers, setHeader('access-control-allow-origin', '*')];
  },
};

/** OPTIONS, answered by the plugin as Kong's handler does. */
export const grpcGatewayOptionsFilter: HttpFilter = optionsAnswerFilter(GRPC_GATEWAY_OPTIONS_FILTER, 'grpc-gateway', (r) => (configOf(r) ? GRPC_GATEWAY_OPTIONS_HEADERS : undefined));
