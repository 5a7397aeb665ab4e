/**
 * `frontdesk control-plane ARGS` in a process of its own, forked by run.ts so that its RSS and
 * CPU are its own. It stops (through the CLI's SIGTERM handling) when the benchmark goes away,
 * even when the benchmark was killed.
 */
import { main } from '../../src/runtime/cli.js';

if (process.send) {
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 5000).unref();
  });
}

main(['control-plane', ...process.argv.slice(2)]).then(
  (code) => { if (typeof code === 'number') process.exit(code); },
  (err: unknown) => { console.error(err); process.exit(1); },
);
