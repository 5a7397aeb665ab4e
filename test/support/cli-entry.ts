// Runs the frontdesk CLI from source, for tests (bin/frontdesk.js runs the compiled copy).
import { main } from '../../src/runtime/cli.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err); process.exit(1); },
);
