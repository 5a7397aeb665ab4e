/**
 * The timeline of one file edit through the control plane, every step in the same wall clock
 * (performance.timeOrigin + performance.now(), sub-millisecond) so a benchmark can set its own
 * steps (the file's rename, the first request served) beside them: the watcher's first event,
 * the check that the file parses, the debounce firing, the read, each build stage, the snapshot
 * handed to the streams, and per resource type the first response queued, written to the
 * transport and ACKed, until the first node holds the whole snapshot.
 */
export class EditTrace {
  private readonly steps: [step: string, at: number][] = [];
  /** The snapshot version the edit produced, once applied. */
  version?: string;

  constructor(readonly origin: number) {}

  /** Records `step` now (or at `at`); a step seen before keeps its first time. */
  mark(step: string, at = wallNow()): void {
    if (!this.steps.some(([s]) => s === step)) this.steps.push([step, at]);
  }

  has(step: string): boolean {
    return this.steps.some(([s]) => s === step);
  }

  /** The steps in milliseconds since the first event, in the order they happened, and the origin (epoch ms). */
  toJSON(): { at: number; steps: Record<string, number> } {
    const sorted = [...this.steps].sort((a, b) => a[1] - b[1]);
    return { at: Math.round(this.origin * 10) / 10, steps: Object.fromEntries(sorted.map(([s, t]) => [s, Math.round((t - this.origin) * 10) / 10])) };
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
