// Build step after tsc: bundles the server (scripts/server.ts and everything it imports) into the one
// file dist/scripts/server.js that `npm start` runs. Loading ~1,200 modules one by one was about half
// of the start-up time on Node 20 (bench/FINDINGS.md); one file loads in a fraction of that.
// The CLI and the rest of dist/ stay as tsc wrote them.
import { build } from 'esbuild';

await build({
  entryPoints: ['scripts/server.ts'],
  outfile: 'dist/scripts/server.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Loaded from node_modules at run time: the native SQLite drivers, and swagger-ui, which serves its
  // static folder found relative to its own files (a bundled copy would look in dist/ for it).
  // Our own files found at run time (drizzle/, package.json) are found from the project root (src/lib/paths.ts).
  external: ['better-sqlite3', 'better-sqlite3-napi', '@fastify/swagger-ui'],
  // CommonJS packages inside an ES module bundle still call require() for Node's built-in modules.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
});
