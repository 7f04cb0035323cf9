// The write gate between the server's connection and its mail thread's (src/db/write-gate.ts): the side
// with priority goes first when both wait, so a thread that commits one transaction after another cannot
// keep the server's request waiting; a wait at the gate counts as a lock wait in /metrics; a gate left
// shut by a thread that died opens again.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import t from 'tap';
import { immediate, lockWaits, openDatabase, shareWriteGate } from '../src/db/client.js';
import { enterGate, leaveGate, newWriteGateMemory, resetGate, writeGate } from '../src/db/write-gate.js';
import { tempDir } from './helper.js';

/** A thread running `body` (JavaScript, with `workerData` and the imported `gate` and `client` modules in scope). */
function thread(body: string, workerData: unknown): Worker {
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const gateModule = new URL('../src/db/write-gate.ts', import.meta.url).href;
  const clientModule = new URL('../src/db/client.ts', import.meta.url).href;
  const code =
    `const { workerData, parentPort } = require('node:worker_threads');` +
    `import(${JSON.stringify(tsx)}).then(async (api) => { api.register();` +
    ` const gate = await import(${JSON.stringify(gateModule)}); const client = await import(${JSON.stringify(clientModule)});` +
    ` ${body} });`;
  return new Worker(code, { eval: true, workerData });
}

const exited = (worker: Worker) => new Promise<number>((resolve) => worker.once('exit', resolve));

t.test('a thread that takes the gate again and again keeps the side with priority out for one turn at most', async (t) => {
  const memory = newWriteGateMemory();
  // turns[0]: the thread's entries so far; turns[1]: 1 once the thread has begun.
  const turns = new Int32Array(new SharedArrayBuffer(8));
  const worker = thread(
    `const g = gate.writeGate(workerData.memory, { priority: false }); const turns = new Int32Array(workerData.turns);` +
      ` const pause = new Int32Array(new SharedArrayBuffer(4));` +
      // 400 turns of 1 ms inside, each straight after the last, as the mail thread's transactions follow one another.
      ` for (let i = 0; i < 400; i++) { gate.enterGate(g); Atomics.add(turns, 0, 1); Atomics.store(turns, 1, 1);` +
      ` Atomics.wait(pause, 0, 0, 1); gate.leaveGate(g); }`,
    { memory, turns: turns.buffer },
  );
  const main = writeGate(memory, { priority: true });
  let worst = 0;
  for (let round = 0; round < 20; round++) {
    while (Atomics.load(turns, 1) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const before = Atomics.load(turns, 0);
    t.equal(enterGate(main), true);
    worst = Math.max(worst, Atomics.load(turns, 0) - before);
    leaveGate(main);
  }
  t.ok(worst <= 2, `in 20 rounds the main thread waited through at most ${worst} of the thread's turns (the one it was in)`);
  t.equal(await exited(worker), 0);
});

t.test('a wait at the gate is a lock wait; a gate left shut by a thread that died opens again', async (t) => {
  const dataDir = tempDir(t);
  const path = join(dataDir, 'gate.db');
  const database = openDatabase(path);
  database.sqlite.exec('CREATE TABLE notes (text TEXT)');
  t.teardown(() => database.sqlite.close());
  const memory = newWriteGateMemory();
  shareWriteGate(database.sqlite, memory, { priority: true });

  // The thread holds the gate alone for 150 ms (no SQLite transaction: SQLite's busy handler has nothing to wait for).
  const worker = thread(
    `const g = gate.writeGate(workerData.memory, { priority: false }); gate.enterGate(g); parentPort.postMessage('inside');` +
      ` Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150); gate.leaveGate(g);`,
    { memory },
  );
  await new Promise((resolve) => worker.once('message', resolve));
  const before = { ...lockWaits(database.sqlite) };
  immediate(database.db, () => database.sqlite.prepare("INSERT INTO notes VALUES ('written after the wait')").run());
  const after = lockWaits(database.sqlite);
  t.equal(after.count, before.count + 1, 'one wait counted');
  t.ok(
    after.seconds - before.seconds > 0.05,
    `it lasted while the thread was inside (${Math.round((after.seconds - before.seconds) * 1000)} ms)`,
  );
  t.equal(await exited(worker), 0);

  // A thread ended while inside: the gate stays shut until it is reset (the mail thread's handle does on exit).
  const dead = thread(`const g = gate.writeGate(workerData.memory, { priority: false }); gate.enterGate(g); process.exit(3);`, { memory });
  t.equal(await exited(dead), 3);
  t.equal(new Int32Array(memory)[0], 1, 'left shut');
  resetGate(memory);
  const main = writeGate(memory, { priority: true });
  t.equal(enterGate(main), true, 'open again');
  leaveGate(main);
});
