import { unwatchFile, watchFile } from 'node:fs';

/**
 * Watches the PEM files a config names (certificates' cert_file / key_file, CA certificates'
 * cert_file) by polling their status, as a mesh agent (Istio, Linkerd, SPIRE) rewrites them: in
 * place, by renaming a new file over the old, or by swapping a Kubernetes secret volume's
 * symlinks (polling follows the links, a folder watch would see only the link change). One
 * callback per change; the set follows each compile's list.
 */
export class PemWatcher {
  private watched = new Set<string>();

  constructor(private readonly onChange: (file: string) => void, private readonly intervalMs = 1000) {}

  /** Watches exactly these files from now on. */
  follow(files: readonly string[]): void {
    const next = new Set(files);
    for (const f of this.watched) if (!next.has(f)) unwatchFile(f);
    for (const f of next) {
      if (this.watched.has(f)) continue;
      watchFile(f, { interval: this.intervalMs, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) this.onChange(f);
      });
    }
    this.watched = next;
  }

  close(): void {
    for (const f of this.watched) unwatchFile(f);
    this.watched.clear();
  }
}
