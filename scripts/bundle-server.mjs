// Build step after tsc: the server that `npm start` runs (dist/scripts/server.js), made for a fast start.
//
// Loading the server's modules one by one, and compiling them, was most of its start-up time on Node 20
// (bench/FINDINGS.md). So the server (src/server.ts and everything it
// imports) is bundled into one CommonJS file, dist/scripts/server-app.cjs, and V8's code cache for
// it is made here, at build time, into server-app.cjs.cache. dist/scripts/server.js, written below,
// compiles the bundle with that cache (Node 20 has no module compile cache of its own) and calls main().
// If the cache does not fit the running Node (another version or flags), V8 rejects it and compiles
// as usual. The CLI and the rest of dist/ stay as tsc wrote them.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { Script } from 'node:vm';
import { build } from 'esbuild';

const outdir = 'dist/scripts';
const bundle = `${outdir}/server-app.cjs`;
const cache = `${bundle}.cache`;
// The same function wrapper, with the same parameters, as the loader below compiles.
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';

// CommonJS packages that find their own files through __dirname or __filename (swagger-ui's static
// folder and logo, pino's worker thread) still get the file's own place in node_modules, worked out
// at run time from the bundle's folder, so they read the same files as before bundling.
const ownLocation = {
  name: 'own-location',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (!/\b__(?:dirname|filename)\b/.test(source)) return undefined;
      const fromBundle = relative(outdir, path).split(sep).join('/');
      const location = `var __filename = __bundleLocate(${JSON.stringify(fromBundle)}), __dirname = __bundleDirname(__filename);`;
      // After a hashbang and a "use strict" directive, so the file stays in strict mode.
      const contents = source.replace(/^(#!.*\n)?(\s*(["'])use strict\3;?)?/, (prologue) => `${prologue};${location}`);
      return { contents, loader: 'js', resolveDir: dirname(path) };
    });
  },
};

// A cache left from an earlier build must never meet a new bundle (V8 checks little more than the length).
await rm(cache, { force: true });

const result = await build({
  entryPoints: ['src/server.ts'],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
  // Paths through node_modules as installed (not a symlink's target), so the ones above stay valid.
  preserveSymlinks: true,
  // The native SQLite drivers load from node_modules at run time. Our own files found at run time
  // (drizzle/, package.json) are found from the project root (src/lib/paths.ts).
  external: ['better-sqlite3', 'better-sqlite3-napi'],
  plugins: [ownLocation],
  // src/ finds its files (src/lib/paths.ts) and the SQLite driver (src/db/driver.ts) from import.meta.url.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: {
    js: [
      "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;",
      "const __bundleDirname = require('node:path').dirname;",
      "const __bundleLocate = (path) => require('node:path').join(__dirname, path);",
    ].join(' '),
  },
});

// Bundled dynamic imports become plain requires; one left would need an ES module loader the
// compiled bundle does not have, so it stops the build rather than a request at run time.
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  const dynamic = output.imports.filter((entry) => entry.kind === 'dynamic-import');
  if (dynamic.length > 0) throw new Error(`${file} keeps dynamic imports: ${dynamic.map((entry) => entry.path).join(', ')}`);
}

// The cache is made after running the bundle's top level (every module's own code, which only
// defines things; main() is not called), so it holds the functions that ran too, not only the
// outermost code: V8 compiles the others on first call, which was a good part of the start-up.
const source = await readFile(bundle, 'utf8');
const script = new Script(`${WRAPPER}${source}\n})`, { filename: bundle });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(resolve(bundle)), module, resolve(bundle), resolve(outdir));
if (typeof module.exports.main !== 'function') throw new Error(`${bundle} does not export main()`);
await writeFile(cache, script.createCachedData());

// tsc's source map of scripts/server.ts would describe the wrong file.
await rm(`${outdir}/server.js.map`, { force: true });
await writeFile(
  `${outdir}/server.js`,
  `#!/usr/bin/env node
// Written by scripts/bundle-server.mjs: runs the server bundle with the V8 code cache made when it was built.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const file = fileURLToPath(new URL('./server-app.cjs', import.meta.url));
let cachedData;
try {
  cachedData = readFileSync(\`\${file}.cache\`);
} catch {
  // No cache: V8 compiles the bundle as usual.
}
const script = new Script(\`${WRAPPER}\${readFileSync(file, 'utf8')}\\n})\`, { filename: file, cachedData });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
await module.exports.main();
`,
);
