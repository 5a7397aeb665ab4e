import type { z } from 'zod';
import type { Enforcer, PluginDifference, PluginScope } from './definition.js';
import { aclPlugin } from './acl.js';
import { acmePlugin } from './acme.js';
import { basicAuthPlugin } from './basic-auth.js';
import { correlationIdPlugin } from './correlation-id.js';
import { corsPlugin } from './cors.js';
import { grpcGatewayPlugin } from './grpc-gateway.js';
import { grpcWebPlugin } from './grpc-web.js';
import { datadogPlugin } from './datadog.js';
import { fileLogPlugin } from './file-log.js';
import { hmacAuthPlugin } from './hmac-auth.js';
import { httpLogPlugin } from './http-log.js';
import { botDetectionPlugin } from './bot-detection.js';
import { ipRestrictionPlugin } from './ip-restriction.js';
import { redirectPlugin } from './redirect.js';
import { jwtPlugin } from './jwt.js';
import { keyAuthPlugin } from './key-auth.js';
import { ldapAuthPlugin } from './ldap-auth.js';
import { logglyPlugin } from './loggly.js';
import { opentelemetryPlugin } from './opentelemetry.js';
import { KONG_PLUGINS_NOT_SERVED, KONG_PLUGINS_PENDING } from './kong-plugins.js';
import { proxyCachePlugin } from './proxy-cache.js';
import { prometheusPlugin } from './prometheus.js';
import { rateLimiting } from './rate-limiting.js';
import { requestSizeLimitingPlugin } from './request-size-limiting.js';
import { requestTerminationPlugin } from './request-termination.js';
import { requestTransformerPlugin } from './request-transformer.js';
import { responseRateLimitingPlugin } from './response-ratelimiting.js';
import { responseTransformerPlugin } from './response-transformer.js';
import { sessionPlugin } from './session.js';
import { postFunctionPlugin, preFunctionPlugin } from './serverless.js';
import { standardWebhooksPlugin } from './standard-webhooks.js';
import { statsdPlugin } from './statsd.js';
import { syslogPlugin } from './syslog.js';
import { tcpLogPlugin } from './tcp-log.js';
import { udpLogPlugin } from './udp-log.js';
import { zipkinPlugin } from './zipkin.js';

export { KONG_PLUGINS_NOT_SERVED } from './kong-plugins.js';

/**
 * The plugin table: every plugin Frontdesk serves, one definition each (definition.ts says
 * what a definition holds). Every other list of plugins, and the IR's plugin types, are
 * derived from this one.
 */
export const PLUGINS = [
  aclPlugin, acmePlugin, basicAuthPlugin, botDetectionPlugin, correlationIdPlugin, corsPlugin, fileLogPlugin, grpcGatewayPlugin, grpcWebPlugin, hmacAuthPlugin, httpLogPlugin, ipRestrictionPlugin, jwtPlugin, keyAuthPlugin, ldapAuthPlugin,
  opentelemetryPlugin, prometheusPlugin, proxyCachePlugin, rateLimiting, redirectPlugin, requestSizeLimitingPlugin, requestTerminationPlugin, requestTransformerPlugin,
  responseRateLimitingPlugin, responseTransformerPlugin, sessionPlugin, standardWebhooksPlugin, zipkinPlugin, preFunctionPlugin, postFunctionPlugin,
  datadogPlugin, logglyPlugin, statsdPlugin, syslogPlugin, tcpLogPlugin, udpLogPlugin, // the log companion's stream sinks
] as const;

type Definitions = (typeof PLUGINS)[number];

/** The name of a plugin Frontdesk serves. */
export type PluginName = Definitions['name'];

/** Each served plugin's IR feature type, by plugin name. */
export type PluginFeatures = { [D in Definitions as D['name']]: ReturnType<D['feature']> };

/** A definition as the loader and the IR builder see it: looked up by a name read from YAML. */
export interface LoadedPluginDefinition {
  name: PluginName;
  config: z.ZodType<unknown>;
  scopes: readonly PluginScope[];
  enforcers(config: unknown): readonly Enforcer[];
  feature(config: unknown): unknown;
  differences?(config: unknown): readonly PluginDifference[];
}

/**
 * The definitions by name. Each definition's functions take its own schema's output, and the
 * loader hands them nothing else (a plugin's config is parsed with the definition of its
 * name, model/load/scope-plugins.ts), so here their parameter types are widened to what a lookup by name
 * can know.
 */
const byName: ReadonlyMap<string, LoadedPluginDefinition> = new Map(PLUGINS.map((d) => [d.name, d as LoadedPluginDefinition]));

/** The IR feature of a plugin's validated config (the definition's `feature`). */
export function pluginFeature<N extends PluginName>(name: N, config: unknown): PluginFeatures[N] {
  const def = byName.get(name);
  if (!def) throw new Error(`no plugin definition named ${name}`);
  return def.feature(config) as PluginFeatures[N];
}

/** Who enforces a plugin's validated config (the definition's `enforcers`). */
export function pluginEnforcers(name: PluginName, config: unknown): readonly Enforcer[] {
  return byName.get(name)?.enforcers(config) ?? [];
}

/** Plugins an Envoy filter or a companion service enforces: every defined one. */
export const ENFORCED_PLUGINS: ReadonlySet<string> = new Set(byName.keys());

/** Plugins that load: the defined ones and the pending ones (docs/plugins.md). */
export const PENDING_PLUGINS: readonly string[] = [...new Set([...byName.keys(), ...KONG_PLUGINS_PENDING])].sort();

/** The definition of a plugin Frontdesk serves, by name. */
export function pluginDefinition(name: string): LoadedPluginDefinition | undefined {
  return byName.get(name);
}

/** True for the name of a plugin Frontdesk serves. */
export function isPluginName(name: string): name is PluginName {
  return byName.has(name);
}

/** Every plugin name Frontdesk knows how to load (served or pending). */
export function knownPluginNames(): string[] {
  return [...PENDING_PLUGINS];
}
