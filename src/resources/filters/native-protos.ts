import { protoRoot } from '../../xds/proto-registry.js';

/**
 * Envoy API files the native-plugin filters use beyond the registry's list: the custom_response
 * filter and its local-response policy, the composite filter and its matcher wrapper, and the
 * matching inputs (response status, request headers, source IP) and the IP input matcher.
 * They ship with @grpc/grpc-js-xds like the rest; the registry's include path finds them.
 */
const FILES = [
  'envoy/extensions/filters/http/custom_response/v3/custom_response.proto',
  'envoy/extensions/http/custom_response/local_response_policy/v3/local_response_policy.proto',
  'envoy/extensions/filters/http/composite/v3/composite.proto',
  'envoy/extensions/common/matching/v3/extension_matcher.proto',
  'envoy/type/matcher/v3/status_code_input.proto',
  'envoy/type/matcher/v3/http_inputs.proto',
  'envoy/extensions/matching/common_inputs/network/v3/network_inputs.proto',
  'envoy/extensions/matching/input_matchers/ip/v3/ip.proto',
];

let loaded = false;

/**
 * Makes sure the process-wide proto root knows the messages above, so that resources holding
 * them encode (ADS) and round-trip (golden files). Idempotent; called by the filters' hooks
 * before they return such a message.
 */
export function ensureNativeProtos(): void {
  if (loaded) return;
  const root = protoRoot();
  try {
    root.lookupType('envoy.extensions.filters.http.custom_response.v3.CustomResponse');
    root.lookupType('envoy.extensions.matching.input_matchers.ip.v3.Ip');
  } catch {
    root.loadSync(FILES, { keepCase: true });
    root.resolveAll();
  }
  loaded = true;
}
