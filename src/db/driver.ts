// Chooses the better-sqlite3 build for the running Node.
//
// better-sqlite3 12 wraps its objects in Node's raw ObjectWrap. Compiled against Node 24's headers,
// a Statement collected by the garbage collector when no JavaScript context is entered aborts the
// process (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook), which happened
// in our test runs on Node 24. Version 13 moved to Node-API and does not have that crash, but it
// segfaults on opening a database under Node 20. So Node 20 loads 12 (compiled at install) and
// Node 22 and later load 13 (the Node-API build it ships), installed side by side under an alias.
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);

export const nodeMajor = Number(process.versions.node.split('.')[0]);

/** The npm package this process loads: `better-sqlite3` (12) on Node 20, `better-sqlite3-napi` (13) from Node 22. */
export const driverPackage = nodeMajor >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';

const Database = require(driverPackage) as typeof BetterSqlite3;

export default Database;
