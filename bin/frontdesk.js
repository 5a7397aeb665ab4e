#!/usr/bin/env node
// The frontdesk command; the TypeScript is compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/src/runtime/cli.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err); process.exit(1); },
);
