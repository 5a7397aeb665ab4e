/**
 * The Node flags every Frontdesk process runs with: bin/frontdesk.js's first line (`env -S`),
 * `npm start` and the compose file's NODE_OPTIONS carry them (a test keeps the three equal to
 * this list), and the benchmarks start their control plane with them.
 *
 * `--max-semi-space-size=1` (MiB): V8's young generation grows to 16 MiB semi-spaces during a
 * compile and keeps them; capped at 1 MiB the control plane idles ~25 MiB lower with one Envoy
 * for the same CPU per edit (docs/scale.md, Memory at idle). The flag must be given when the
 * process starts: set later (v8.setFlagsFromString) it leaves the heap as it was configured.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * Flags a companion run alone in its process adds on its command line, beyond NODE_FLAGS (the
 * compose file's command for it carries them; `frontdesk <companion>` through bin/frontdesk.js's
 * first line cannot, docs/operations.md says how to give them). V8 takes these at start only:
 * set later they abort the process.
 *
 * `--single-threaded` for ratelimit: V8's collector and its optimising compiler on the main
 * thread. Its four worker threads otherwise keep the malloc arenas their compile and marking
 * work grew (~3 MiB after a load). Same runs, against NODE_FLAGS alone (bench/ratelimit,
 * docs/benchmarks.md): RSS 30 s after a load 57.3-57.4 MiB against 58.5-58.8, under load
 * 61.5-62.7 against 66.7-67.4, CPU per decision 40.7-42.7 µs against 38.3-50.6 (within the runs'
 * spread), p99 no worse. Not for the control plane: its builds' p90 rose from 33-52 to 106-120 ms
 * with it (bench/propagation/build-stages.ts), nor measured yet for the other companions.
 */
export const COMPANION_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = { ratelimit: ['--single-threaded'] };

/** Every flag a process running the companion `name` alone starts with: NODE_FLAGS, then its own. */
export function companionNodeFlags(name: string): string[] {
  return [...NODE_FLAGS, ...(COMPANION_NODE_FLAGS[name] ?? [])];
}
