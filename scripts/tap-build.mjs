// Brings tap's compiled plugin set in line with .taprc before any test runs (npm's prepare and pretest).
//
// .taprc removes tap's TypeScript plugin (the tests run through tsx instead). tap compiles its Test
// class for a set of plugins; when the compiled set differs from .taprc's, tap rebuilds it but runs
// that first run with the old set: on a fresh clone 26 of 29 test files failed with
// `Cannot find module .../addressparser/index.js.js`. Reinstalling tap resets the set too. So the set
// is compared here (a fraction of a second) and rebuilt with `tap build` (a few seconds) only when it
// differs. `--check` only compares (exit code 1 when it differs).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const checkOnly = process.argv.includes('--check');
process.argv.splice(2); // tap's config reads the command line as tap's own

let tapPackage;
try {
  tapPackage = require.resolve('tap/package.json');
} catch {
  process.exit(0); // tap is a devDependency: an install without dev dependencies has no tests to run
}

/** Whether the plugin set tap has compiled is the one .taprc asks for (false when it cannot tell). */
async function upToDate() {
  try {
    const { TapConfig } = await import('@tapjs/config');
    const { signature } = await import('@tapjs/test');
    const config = await TapConfig.load();
    return config.pluginSignature === signature;
  } catch {
    return false;
  }
}

const current = await upToDate();
if (checkOnly) process.exit(current ? 0 : 1);
if (!current) {
  process.stdout.write("tap's compiled plugin set differs from .taprc's: running `tap build`\n");
  const tapBin = join(dirname(tapPackage), JSON.parse(readFileSync(tapPackage, 'utf8')).bin.tap);
  const built = spawnSync(process.execPath, [tapBin, 'build'], { stdio: 'inherit' });
  // A new process, because this one has the old Test class loaded.
  const checked = built.status === 0 && spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--check']).status === 0;
  if (!checked) {
    process.stderr.write(`tap build did not bring tap's plugin set in line with .taprc (exit code ${built.status ?? built.signal})\n`);
    process.exit(1);
  }
}
