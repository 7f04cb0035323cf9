// Chooses the better-sqlite3 build for the running Node.
//
// Convene supports Node 24 (the first choice) and Node 20.19+ (out of support since April 2026, still
// tested); package.json's engines and CI test exactly these two.
//
// better-sqlite3 12 wraps its objects in Node's raw ObjectWrap. Compiled against Node 24's headers,
// a Statement collected by the garbage collector when no JavaScript context is entered aborts the
// process (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook), which happened
// in our test runs on Node 24. Version 13 moved to Node-API and does not have that crash, but it
// segfaults on opening a database under Node 20. So Node 20 loads 12 (compiled at install by
// scripts/build-sqlite-driver.mjs, an optional dependency) and Node 24 loads 13 (the Node-API build
// it ships, nothing to compile), installed side by side under the alias better-sqlite3-napi. The
// rule is "22 or later loads 13"; only 20 and 24 are tested.
//
// 13 is pinned to 13.0.3: the SQLite of 13.1 and 13.2 (3.54.1) re-prepares a statement each time its
// parameters are bound, ten times the cost of a join (bench/sqlite-driver.ts, which CI runs on Node 24).
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);

export const nodeMajor = Number(process.versions.node.split('.')[0]);

/** The npm package this process loads: `better-sqlite3` (12) on Node 20, `better-sqlite3-napi` (13) on Node 24. */
export const driverPackage = nodeMajor >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';

const what =
  nodeMajor >= 22
    ? `better-sqlite3 13 (${driverPackage}), the SQLite driver Node ${nodeMajor} loads,`
    : `better-sqlite3 12, the SQLite driver Node ${nodeMajor} loads,`;
const remedy =
  nodeMajor >= 22
    ? 'run `npm install`'
    : 'run `npm install` on this Node, which compiles it (it needs python3, make and g++), or use Node 24, which needs no compiler';

/** Loads the driver and opens an in-memory database once, so a missing or broken build fails here in one line. */
function load(): typeof BetterSqlite3 {
  let Database: typeof BetterSqlite3;
  try {
    Database = require(driverPackage) as typeof BetterSqlite3;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'MODULE_NOT_FOUND' && message.includes(`'${driverPackage}'`))
      throw new Error(`${what} is not installed: ${remedy}.`, { cause: error });
    throw error;
  }
  try {
    new Database(':memory:').close();
  } catch (error) {
    const reason = String((error as Error).message ?? error)
      .split('\n')[0]!
      .replace(/\.? Tried:$/, '');
    throw new Error(`${what} is installed but does not load (${reason}): ${remedy}.`, { cause: error });
  }
  return Database;
}

const Database = load();

export default Database;
