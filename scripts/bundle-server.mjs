// Build step after tsc: bundles the server (scripts/server.ts and everything it imports) into the one
// file dist/scripts/server.js that `npm start` runs. Loading ~1,200 modules one by one was about half
// of the start-up time on Node 20 (bench/FINDINGS.md); one file loads in a fraction of that.
// Packages the server loads only when first needed (nodemailer) go into files of their own beside
// it, loaded then. The CLI and the rest of dist/ stay as tsc wrote them.
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { build } from 'esbuild';

// Every output file goes in this one folder, which the paths worked out below are relative to.
const outdir = 'dist/scripts';
const chunkPrefix = 'server-chunk.';

// CommonJS packages that find their own files through __dirname or __filename (swagger-ui's static
// folder and logo, pino's worker thread) still get the file's own place in node_modules, worked out
// at run time relative to the bundle, so they read the same files as before bundling.
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

// Chunk names carry a content hash, so the previous build's chunks would otherwise pile up.
for (const name of await readdir(outdir).catch(() => [])) if (name.startsWith(chunkPrefix)) await rm(`${outdir}/${name}`);

await build({
  entryPoints: ['scripts/server.ts'],
  outdir,
  entryNames: '[name]',
  chunkNames: `${chunkPrefix}[name].[hash]`,
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Paths through node_modules as installed (not a symlink's target), so the ones above stay valid.
  preserveSymlinks: true,
  // The native SQLite drivers load from node_modules at run time. Our own files found at run time
  // (drizzle/, package.json) are found from the project root (src/lib/paths.ts).
  external: ['better-sqlite3', 'better-sqlite3-napi'],
  plugins: [ownLocation],
  // CommonJS packages inside an ES module bundle still call require() for Node's built-in modules.
  banner: {
    js: [
      "import { createRequire as __bundleRequire } from 'node:module';",
      "import { dirname as __bundleDirname } from 'node:path';",
      "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
      'const require = __bundleRequire(import.meta.url);',
      'const __bundleLocate = (path) => __bundleFileURLToPath(new URL(path, import.meta.url));',
    ].join(' '),
  },
});
