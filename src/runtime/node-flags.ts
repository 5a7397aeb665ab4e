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

