/**
 * Which of Envoy's API files the proto registry loads, set before it first loads: a module of
 * its own (no protobufjs), so that `frontdesk <companion>` can say it without loading the
 * registry, which a companion reading its messages by hand never does.
 */

let scope: readonly string[] | undefined;
let taken = false;

/**
 * For a process that runs one companion alone: load only these Envoy API files (with their
 * imports) instead of every file the control plane needs. Call it before anything uses the
 * registry; once the registry is loaded it changes nothing (returns false).
 */
export function loadOnlyEnvoyProtos(files: readonly string[]): boolean {
  if (taken) return false;
  scope = files;
  return true;
}

/** The files to load (the scope set, else `all`); the registry calls it once, as it loads. */
export function takeEnvoyProtoScope(all: readonly string[]): readonly string[] {
  taken = true;
  return scope ?? all;
}
