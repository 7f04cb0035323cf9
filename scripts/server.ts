#!/usr/bin/env node
// Starts the Convene server (npm start runs the built copy of this file).
import module from 'node:module';

// Node 22.1 and later can keep the compiled code of every module on disk between starts, which
// shortens start-up (bench/FINDINGS.md); older Node starts as before.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import('../src/server.js');
await main();
