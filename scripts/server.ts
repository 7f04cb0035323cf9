#!/usr/bin/env node
// Starts the Convene server from source (npm run dev). npm start runs dist/scripts/server.js instead,
// which the build makes from src/server.ts as one bundle with a code cache (scripts/bundle-server.mjs).
import module from 'node:module';

// Node 22.1 and later can keep the compiled code of every module on disk between starts, which
// shortens start-up (bench/FINDINGS.md); older Node starts as before.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import('../src/server.js');
await main();
