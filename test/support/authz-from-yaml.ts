/**
 * The authz companion's decisions for a YAML config, without Envoy: the config compiles as
 * `frontdesk` compiles it, the companion's Consumer and RoutePolicy resources cross protobufjs
 * (as they cross the ADS stream) and load into the engine the companion runs. The one place
 * that knows how those pieces fit, so tests of Kong semantics stay written in YAML.
 */
import { AuthzEngine } from '../../src/authz/engine.js';
import { snapshotFromResources } from '../../src/authz/policy.js';
import type { AuthzDecision } from '../../src/authz/types.js';
import { AUTHZ_TYPE, type AuthzMessages, type AuthzTypeUrl } from '../../src/contracts/authz.js';
import { formatDiagnostic } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { compileConfig } from '../../src/runtime/compile.js';
import type { JsonObject } from '../../src/json.js';
import { decodeResource } from '../../src/xds/companion-decode.js';
import { encodeJson } from '../../src/xds/proto-json.js';
import { typeForUrl } from '../../src/xds/proto-registry.js';
import { policyIdsOf } from './policy-ids.js';

export interface YamlAuthz {
  /** The decision for a GET on `route` (a Kong route name) with these request headers. */
  check(route: string, headers?: Record<string, string>, path?: string): Promise<AuthzDecision>;
}

function overTheWire<U extends AuthzTypeUrl>(typeUrl: U, resources: Map<string, JsonObject> | undefined): Map<string, AuthzMessages[U]> {
  const type = typeForUrl(typeUrl);
  if (!type) throw new Error(`no protobuf type for ${typeUrl}`);
  return new Map([...(resources ?? new Map<string, JsonObject>())].map(([name, body]) => [name, decodeResource<AuthzMessages, U>(typeUrl, encodeJson(type, body))]));
}

/** Compiles `yaml` (throwing with the diagnostics when it does not load) into an authz engine. */
export function authzFromYaml(yaml: string): YamlAuthz {
  const r = compileConfig([{ file: 'gateway.yaml', text: yaml }], { settings: DEFAULT_SETTINGS });
  if (!r.ok || !r.translation) throw new Error(`config does not load:\n${r.diagnostics.map(formatDiagnostic).join('\n')}`);
  const consumers = overTheWire(AUTHZ_TYPE.consumer, r.translation.companions.get(AUTHZ_TYPE.consumer));
  const policies = overTheWire(AUTHZ_TYPE.routePolicy, r.translation.companions.get(AUTHZ_TYPE.routePolicy));
  const engine = new AuthzEngine({ logger: silentLogger() });
  engine.update(snapshotFromResources(consumers, policies));
  // Envoy names a route's policy by its content hash (the context extension it sends).
  const ids = policyIdsOf(r.translation);
  return {
    check: (route, headers = {}, path = '/') => engine.check(ids.get(route)?.authz ?? route, {
      method: 'GET', path, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    }),
  };
}
