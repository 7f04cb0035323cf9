// npm's postinstall: builds better-sqlite3 12, the SQLite driver Node 20 loads (src/db/driver.ts); nothing on Node 22+.
//
// package.json's allowScripts denies better-sqlite3's own install scripts (npm 11 skips a denied
// package's scripts; older npm runs them, as before), because on a machine that cannot download
// Node's headers they failed the whole install:
// - 13 (installed as better-sqlite3-napi, what Node 24 loads) ships its Node-API binaries and needs
//   no build, but npm ignores its `gypfile: false` (npm/cli#3341) and runs `node-gyp rebuild`, an
//   empty build that still needs Node's headers;
// - 12 would be compiled on Node 24 too, where it is never loaded.
// So 12 is built here, and only on the Node that loads it, with 12's own install command
// (`prebuild-install || node-gyp rebuild --release`). Without a configured nodedir, the headers
// beside the running node are used when they are its own (as node-gyp does for some distributions'
// builds), so no download is needed. A failed build does not fail the install (12 is an optional
// dependency): driver.ts then says what is missing. Quick when 12 is already built and loads.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const say = (line) => process.stdout.write(`build-sqlite-driver: ${line}\n`);
const major = Number(process.versions.node.split('.')[0]);
if (major >= 22) {
  say(`Node ${process.version} loads better-sqlite3 13 (better-sqlite3-napi), which ships its own binaries: nothing to build`);
  process.exit(0);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
let dir;
try {
  dir = dirname(require.resolve('better-sqlite3/package.json'));
} catch {
  say(
    'better-sqlite3 12 is not installed (an optional dependency), so Node 20 has no SQLite driver: run `npm install` again, or use Node 24',
  );
  process.exit(0);
}

const loads = () =>
  spawnSync(process.execPath, ['-e', 'new (require("better-sqlite3"))(":memory:").close()'], { cwd: root, stdio: 'ignore' }).status === 0;
if (loads()) process.exit(0);

/** The headers beside the running node (official tarballs and most packages have them), when they are its own version. */
function ownHeaders() {
  const prefix = resolve(process.execPath, '../..');
  try {
    const header = readFileSync(join(prefix, 'include/node/node_version.h'), 'utf8');
    const part = (name) => new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(header)?.[1];
    return `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}` === process.version ? prefix : undefined;
  } catch {
    return undefined;
  }
}

const { version, scripts } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const headers = ownHeaders();
  if (headers) env.npm_config_nodedir = headers;
}
env.JOBS ??= 'max'; // node-gyp's make -j: about half the time on two cores
// npm puts node_modules/.bin and its own node-gyp on PATH for this script; add ours for a direct run.
env.PATH = [join(dir, 'node_modules/.bin'), join(root, 'node_modules/.bin'), env.PATH].join(delimiter);
say(
  `building better-sqlite3 ${version} for Node ${process.version} (nodedir ` +
    `${env.npm_config_nodedir || 'not set: node-gyp downloads the headers'}); a few minutes`,
);
// The compiler's output (pages of warnings from SQLite's sources) is shown only when the build fails.
const built = spawnSync('sh', ['-c', `exec 2>&1; ${scripts.install}`], {
  cwd: dir,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
if (built.status === 0 && loads()) {
  say(`better-sqlite3 ${version} built and loads`);
} else {
  process.stdout.write(
    `${String(built.stdout ?? '')
      .split('\n')
      .slice(-60)
      .join('\n')}\n`,
  );
  say(
    `could not build better-sqlite3 ${version} (exit code ${built.status ?? built.signal}; the end of its output is above), so Node ` +
      `20 has no SQLite driver. ` +
      "It needs python3, make and g++, and Node's headers (npm_config_nodedir, or a download). Fix that and run `npm install` " +
      'again, or use Node 24.',
  );
}
