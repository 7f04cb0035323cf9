#!/usr/bin/env node
// The `convene` command line (npm run convene -- <command>, or the installed bin).
import { runCli } from '../src/cli/index.js';

process.exitCode = await runCli(process.argv.slice(2));
