#!/usr/bin/env -S node --max-semi-space-size=1
// The frontdesk command; the TypeScript is compiled to dist/ by `npm install` (prepare).
// The first line's Node flags are src/runtime/node-flags.ts's NODE_FLAGS (given at start: V8
// sizes its heap then). `node bin/frontdesk.js` skips that line: `npm start` and the compose
// file pass the same flags on the command line or in NODE_OPTIONS.
import { main } from '../dist/src/runtime/cli.js';

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err); process.exit(1); },
);
