#!/usr/bin/env node
// The `convene` command line (npm run convene -- <command>, or the installed bin).
import { relaunchForSending } from '../src/cli/relaunch.js';

// Before anything else is loaded: `newsletter send` may start again on its own heap settings.
relaunchForSending(process as Parameters<typeof relaunchForSending>[0]);
const { runCli } = await import('../src/cli/index.js');
process.exitCode = await runCli(process.argv.slice(2));
