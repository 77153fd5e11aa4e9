#!/usr/bin/env node
/** The `vaultex` command. */
import { run } from './program.js';

const code = await run(process.argv);
// Commands close what they open; exiting here also ends stray handles (a retry timer of
// a relay that went away) instead of hanging.
process.exit(code);
