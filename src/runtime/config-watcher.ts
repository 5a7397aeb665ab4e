import { EventEmitter } from 'node:events';
import { watch, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** Why a change was reported: at once, after a quiet spell, or because edits kept coming. */
export type ChangeReason = 'immediate' | 'quiet' | 'max-delay';

/**
 * When the reported burst of events began and, for a change reported at once, when the check
 * that the file is complete finished: wall-clock milliseconds (performance.timeOrigin +
 * performance.now(), sub-millisecond), so that another process's clock can be set beside them.
 */
export interface ChangeBurst { firstEventAt: number; checkedAt?: number }

export interface ConfigWatcherOptions {
  /** A burst of events ends after this long without one (default 20 ms). */
  quietMs?: number;
  /** A burst is reported this long after its first event at the latest (default 150 ms). */
  maxDelayMs?: number;
  /**
   * Whether the config as it is on disk now is complete (it parses): an event that comes after
   * a quiet spell is reported at once when it is, and waits for the burst to settle when it is
   * not (an editor half-way through writing). Without it, nothing is reported at once.
   */
  settled?: () => boolean;
}

/**
 * Watches the config file (or folder) and says "changed", in the manner of Contour's
 * hold-off/max-delay debouncer: the first event after a quiet spell is reported at once when
 * the file parses; events that follow it within `quietMs` are coalesced and reported once the
 * burst has been quiet for `quietMs`, and at the latest `maxDelayMs` after its first event. It
 * watches the folder, not the file, so editors' atomic rename-over-the-file is seen too.
 */
export class ConfigWatcher extends EventEmitter<{ change: [reason: ChangeReason, burst: ChangeBurst] }> {
  private watcher?: FSWatcher;
  private quietTimer?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;
  private lastEventAt = -Infinity;
  private burstAt?: number;
  private readonly quietMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly path: string, private readonly options: ConfigWatcherOptions = {}) {
    super();
    this.quietMs = options.quietMs ?? 20;
    this.maxDelayMs = options.maxDelayMs ?? 150;
  }

  /** True while events have been seen and not reported yet. */
  get pending(): boolean {
    return this.quietTimer !== undefined;
  }

  start(): this {
    const full = resolve(this.path);
    const isDir = statSync(full).isDirectory();
    const dir = isDir ? full : dirname(full);
    const file = isDir ? undefined : basename(full);
    this.watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (file && name && name !== file) return;
      if (!file && name && !/\.ya?ml$/.test(name)) return;
      this.poke();
    });
    return this;
  }

  private poke(): void {
    const now = performance.now();
    const afterQuiet = now - this.lastEventAt >= this.quietMs;
    this.lastEventAt = now;
    this.burstAt ??= performance.timeOrigin + now;
    if (!this.pending && afterQuiet && this.options.settled?.()) {
      const firstEventAt = this.burstAt;
      this.burstAt = undefined;
      this.emit('change', 'immediate', { firstEventAt, checkedAt: performance.timeOrigin + performance.now() });
      return;
    }
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.fire('quiet'), this.quietMs);
    this.maxTimer ??= setTimeout(() => this.fire('max-delay'), this.maxDelayMs);
  }

  private fire(reason: ChangeReason): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    const firstEventAt = this.burstAt ?? performance.timeOrigin + performance.now();
    this.burstAt = undefined;
    this.emit('change', reason, { firstEventAt });
  }

  close(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    this.watcher?.close();
  }
}
