import type { z } from 'zod';

/** Where a plugin may be attached: globally, on a service, on a route, or on a consumer. */
export type PluginScope = 'global' | 'service' | 'route' | 'consumer';

/**
 * Who enforces a plugin per request: Envoy's own filters (`envoy`), or a companion service
 * asked by Envoy (`authz` over ext_authz, `ratelimit` over Envoy's rate-limit service,
 * `transform` over ext_proc).
 */
export type Enforcer = 'envoy' | 'authz' | 'ratelimit' | 'transform';

/**
 * One Kong plugin, the single place that says everything about it outside its Envoy filter:
 * its name, the zod schema of its `config` (strict, with Kong's defaults; the loader removes
 * deck dump's `null`s before parsing so a default applies), where it may be attached, who
 * enforces it, and the typed IR feature its validated config becomes (ir/build.ts puts that
 * feature on every route the plugin applies to; resources/ reads only the feature).
 *
 * A plugin that loads but is not applied yet is not defined here but named in kong-plugins.ts: loading one is a warning
 * (FD_PLUGIN_PENDING), never silence.
 *
 * Adding a plugin: a file beside this one and a line in PLUGINS (index.ts); its Envoy filter,
 * if it has one, a file under resources/filters/ and a line in the filter-order table.
 */
/** A config field that loads without effect: the loader warns (FD_FIELD_NOT_APPLIED) when a file asks for it. */
export interface Warned {
  why: string;
  /** When the value asks for what is not applied; by default, any value other than Kong's default. */
  when?: (value: unknown) => boolean;
  default?: unknown;
}

/**
 * What becomes of each field of a schema (see model/field-audit.ts): applied, refused (loads
 * only at Kong's default), or warned.
 */
export interface FieldAudit {
  applied: readonly string[];
  refused?: readonly string[];
  warned?: Readonly<Record<string, Warned>>;
}

export interface PluginDefinition<Name extends string = string, Config = unknown, Feature = unknown> {
  name: Name;
  config: z.ZodType<Config>;
  scopes: readonly PluginScope[];
  /** What becomes of each field of its config (a unit test checks every schema field is sorted). */
  fields: FieldAudit;
  /** Who serves it, for this config (the transformers' header parts are Envoy's, their body parts the transform companion's). */
  enforcers(config: Config): readonly Enforcer[];
  /** The validated config as the IR carries it. */
  feature(config: Config): Feature;
  /** Where this config is served differently from Kong (a warning at load each), by field path under `config`. */
  differences?(config: Config): readonly PluginDifference[];
}

/** One field whose behaviour differs from Kong's: FD_PLUGIN_DIFFERS at that field. */
export interface PluginDifference {
  path: readonly (string | number)[];
  message: string;
}

/** A plugin definition, with its name kept as a literal type so the IR can be typed by name. */
export function definePlugin<const Name extends string, Config, Feature = Config>(
  def: PluginDefinition<Name, Config, Feature>,
): PluginDefinition<Name, Config, Feature> {
  return def;
}

/** The feature of a plugin whose IR feature is its validated config, unchanged. */
export function asIs<Config>(config: Config): Config {
  return config;
}
