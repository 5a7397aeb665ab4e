import { EventEmitter } from 'node:events';
import { watch, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * Watches the config file (or folder) and says "changed" once a burst of events has settled:
 * after `quietMs` without events, and at the latest `maxDelayMs` after the first. It watches
 * the folder, not the file, so editors' atomic rename-over-the-file is seen too.
 */
export class ConfigWatcher extends EventEmitter<{ change: [] }> {
  private watcher?: FSWatcher;
  private quietTimer?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;

  constructor(private readonly path: string, private readonly quietMs = 20, private readonly maxDelayMs = 150) {
    super();
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
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.fire(), this.quietMs);
    this.maxTimer ??= setTimeout(() => this.fire(), this.maxDelayMs);
  }

  private fire(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    this.emit('change');
  }

  close(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.watcher?.close();
  }
}
