import type { Logger } from '../logger.js';
import { isAddressInUse } from './port-check.js';

/** Something a command started and must stop: the control plane, a companion, Envoy. */
export interface Stoppable {
  /** How the stop line names it: "envoy (pid 4242)", "the authz companion (port 18001)". */
  label: string;
  stop(): Promise<void>;
}

/**
 * What a long-running command has started, stopped in the reverse order (Envoy before the
 * companions it calls, those before the control plane that feeds them), one line each.
 */
export class Processes {
  private readonly started: Stoppable[] = [];
  private stopping?: Promise<void>;

  /** `logger` says what stopped; `onStopping` runs when stopping begins (to quiet the rest). */
  constructor(private readonly logger: Logger, private readonly onStopping?: () => void) {}

  add(p: Stoppable): void {
    this.started.push(p);
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Stops everything once; a second call waits for the first. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      this.onStopping?.();
      for (const p of this.started.reverse()) {
        await p.stop();
        this.logger.info(`stopped ${p.label}`);
      }
    })();
    return this.stopping;
  }

  /**
   * Ctrl-C (SIGINT) or SIGTERM: stop everything, then exit 0 (1 when a stop failed). A second
   * Ctrl-C while stopping exits at once.
   */
  stopOnSignals(): void {
    const handler = (signal: NodeJS.Signals) => {
      if (this.stopping) { this.logger.warn(`${signal} again: exiting without waiting`); process.exit(130); }
      this.stopAll().then(() => process.exit(0), (e: unknown) => {
        this.logger.error({ err: e instanceof Error ? e : String(e) }, 'stopping failed');
        process.exit(1);
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }
}

/** One line for a part that failed to start: a port taken after the check, or the error's first line. */
export function whyNotStarted(what: string, e: unknown): string {
  const first = String((e as Error)?.message ?? e).split('\n')[0];
  return isAddressInUse(e) ? `${what} could not listen: a port is in use (${first})` : `${what} did not start: ${first}`;
}
