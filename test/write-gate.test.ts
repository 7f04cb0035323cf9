// The write gate between the server's connection and its mail thread's (src/db/write-gate.ts): the side
// with priority goes first when both wait, so a thread that commits one transaction after another cannot
// keep the server's request waiting; a wait at the gate counts as a lock wait in /metrics; a gate left
// shut by a thread that died opens again. A request that writes waits for its turn as a promise
// (src/plugins/write-turns.ts): the server answers others meanwhile, and nothing waits on its event loop.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import Fastify from 'fastify';
import t from 'tap';
import { immediate, lockWaits, openDatabase, shareWriteGate, writeSoon, writeTurn, writeTurnWaits } from '../src/db/client.js';
import { endTurn, enterGate, leaveGate, newWriteGateMemory, resetGate, takeTurn, writeGate } from '../src/db/write-gate.js';
import type { TimedJob } from '../src/lib/jobs.js';
import dbPlugin from '../src/plugins/db.js';
import jobsPlugin from '../src/plugins/jobs.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { buildTestApp, tempDir, until } from './helper.js';

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

/**
 * A thread that writes as a sending mail thread does: takes the gate `times` times (until stopped, when
 * absent), holds it `holdMs` and lets it go for `gapMs`. Setting cells[0] to 1 stops it; cells[1] counts
 * its entries. It exits with 4 if it ever gives up waiting for the gate.
 */
function busyThread(memory: SharedArrayBuffer, cells: Int32Array, options: { holdMs: number; gapMs?: number; times?: number }): Worker {
  const more = options.times === undefined ? 'Atomics.load(cells, 0) === 0' : `Atomics.load(cells, 1) < ${options.times}`;
  const gap = options.gapMs ? ` Atomics.wait(pause, 0, 0, ${options.gapMs});` : '';
  return thread(
    `const g = gate.writeGate(workerData.memory, { priority: false }); const cells = new Int32Array(workerData.cells);` +
      ` const pause = new Int32Array(new SharedArrayBuffer(4));` +
      ` while (${more}) { if (!gate.enterGate(g)) process.exit(4); Atomics.add(cells, 1, 1);` +
      ` Atomics.wait(pause, 0, 0, ${options.holdMs}); gate.leaveGate(g);${gap} }`,
    { memory, cells: cells.buffer },
  );
}

t.test('a thread that takes the gate again and again keeps the side with priority out for one turn at most', async (t) => {
  const memory = newWriteGateMemory();
  const cells = new Int32Array(new SharedArrayBuffer(8));
  // 400 turns of 1 ms inside, each straight after the last, as the mail thread's transactions follow one another.
  const worker = busyThread(memory, cells, { holdMs: 1, times: 400 });
  const main = writeGate(memory, { priority: true });
  let worst = 0;
  for (let round = 0; round < 20; round++) {
    while (Atomics.load(cells, 1) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const before = Atomics.load(cells, 1);
    t.equal(enterGate(main), true);
    worst = Math.max(worst, Atomics.load(cells, 1) - before);
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

  // The thread holds the gate alone (no SQLite transaction: SQLite's busy handler has nothing to wait for)
  // until this side waits at the gate ([1], 10 s at most), and 100 ms more.
  const worker = thread(
    `const g = gate.writeGate(workerData.memory, { priority: false }); gate.enterGate(g); parentPort.postMessage('inside');` +
      ` const cells = new Int32Array(workerData.memory); const pause = new Int32Array(new SharedArrayBuffer(4));` +
      ` const cap = Date.now() + 10000; while (Atomics.load(cells, 1) !== 1 && Date.now() < cap) Atomics.wait(pause, 0, 0, 1);` +
      ` Atomics.wait(pause, 0, 0, 100); gate.leaveGate(g);`,
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
  const main = writeGate(memory, { priority: true });
  resetGate(main);
  t.equal(enterGate(main), true, 'open again');
  leaveGate(main);
});

const said = (worker: Worker, word: string) =>
  new Promise<number>((resolve) => worker.on('message', (message) => message === word && resolve(performance.now())));

/**
 * A thread that takes the gate (the mail thread's side), holds it until `release()` is called or `ms` have
 * passed, whichever comes first, and lets it go: when it got in and when it left (performance.now() on this
 * thread, as its messages arrive), whether it has let go (`hasLeft`, read from memory: a promise its letting
 * go resolves may run before its message arrives), and its exit code, all listened for from the start. A test whose assertions must come while the
 * thread is inside releases it itself (with a long `ms` as the cap), so a slow machine cannot reorder them.
 */
function holder(memory: SharedArrayBuffer, ms: number) {
  // [0]: set to let go; [1]: set by the thread just before it lets go (read where the order of messages is not enough).
  const hold = new Int32Array(new SharedArrayBuffer(8));
  const worker = thread(
    `const g = gate.writeGate(workerData.memory, { priority: false }); gate.enterGate(g); parentPort.postMessage('inside');` +
      ` const hold = new Int32Array(workerData.hold); Atomics.wait(hold, 0, 0, ${ms}); Atomics.store(hold, 1, 1);` +
      ` gate.leaveGate(g); parentPort.postMessage('left');`,
    { memory, hold: hold.buffer },
  );
  const hasLeft = () => Atomics.load(hold, 1) === 1;
  const release = () => {
    Atomics.store(hold, 0, 1);
    Atomics.notify(hold, 0);
  };
  return { inside: said(worker, 'inside'), left: said(worker, 'left'), exit: exited(worker), release, hasLeft };
}

t.test('a write turn is waited for as a promise; its transactions then wait for nothing', async (t) => {
  const database = openDatabase(join(tempDir(t), 'turn.db'));
  database.sqlite.exec('CREATE TABLE notes (text TEXT)');
  t.teardown(() => database.sqlite.close());
  const memory = newWriteGateMemory();
  shareWriteGate(database.sqlite, memory, { priority: true });
  // The thread holds the gate until the event loop has gone on a while (10 s at most).
  const { inside: gotIn, exit: workerExit, release, hasLeft } = holder(memory, 10_000);
  await gotIn;

  let ticked = 0;
  const ticking = setInterval(() => (ticked += 1), 5);
  const asked = performance.now();
  let came = 0;
  let leftFirst = false;
  const waiting = writeTurn(database.sqlite).then((turn) => {
    came = performance.now();
    leftFirst = hasLeft();
    return turn;
  });
  await until('the event loop ticks while the turn waits', () => ticked >= 5 && performance.now() - asked > 60);
  t.equal(came, 0, `the turn still waits after ${ticked} ticks of the event loop`);
  release();
  const turn = await waiting;
  clearInterval(ticking);
  t.ok(turn, 'the turn came');
  t.ok(leftFirst, 'once the thread had let go');
  const waits = { ...lockWaits(database.sqlite) };
  immediate(database.db, () => database.sqlite.prepare("INSERT INTO notes VALUES ('in the turn')").run());
  // (A wait at the gate would last the thread's next turn; a fraction of a millisecond is the machine.)
  t.ok(lockWaits(database.sqlite).seconds - waits.seconds < 0.02, 'the transaction in the turn did not wait');
  t.equal(writeTurnWaits(database.sqlite).count, 1, 'the turn wait counted apart');
  t.ok(writeTurnWaits(database.sqlite).seconds > 0.05, 'for as long as the thread was inside');

  // The gate stays this side's until the turn ends: the other side waits for it, then gets in.
  const { inside, exit: secondExit } = holder(memory, 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const ended = performance.now();
  turn!.end();
  turn!.end(); // ending twice is harmless
  t.ok((await inside) >= ended, 'the other side got in only once the turn ended');
  t.equal(await workerExit, 0);
  t.equal(await secondExit, 0);
});

t.test('turns are shared by the side that holds the gate, but a waiting thread goes first', async (t) => {
  const memory = newWriteGateMemory();
  const main = writeGate(memory, { priority: true });
  t.equal(await takeTurn(main), true, 'first turn: the gate was free');
  t.equal(await takeTurn(main), true, 'second turn: shared at once');
  t.equal(main.turns, 2);
  // The thread waits for the gate (it marks itself waiting); a third turn now waits behind it.
  const { inside, exit: workerExit } = holder(memory, 30);
  await until('the thread waits', () => new Int32Array(memory)[2] === 1);
  let entered = 0;
  void inside.then((at) => (entered = at));
  const third = takeTurn(main).then((ok) => ({ ok, at: performance.now() }));
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(entered, 0, 'the thread is not in while the two turns last');
  endTurn(main);
  endTurn(main);
  const got = await third;
  t.equal(got.ok, true);
  t.ok(entered > 0 && got.at >= entered, 'the third turn came after the thread had its transaction');
  t.equal(main.turns, 1);
  endTurn(main);
  t.equal(await workerExit, 0);
});

t.test("a request that writes waits for its turn without holding up the server's other answers", async (t) => {
  const { app, database, clock } = await buildTestApp(t);
  createClusterWithOrganiser(database, 'north-west', clock);
  const memory = newWriteGateMemory();
  shareWriteGate(database.sqlite, memory, { priority: true });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  // The thread holds the gate until the read has been answered (10 s at most: a read stuck behind the gate
  // would be answered only then, after the thread left, and fail below).
  const { left, inside: gotIn, exit: workerExit, release, hasLeft } = holder(memory, 10_000);
  await gotIn;

  let signUpAnswered = false;
  const signUp = fetch(`${base}/v1/clusters/north-west/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'waits@example.org' }),
  }).then(async (response) => {
    signUpAnswered = true;
    return { status: response.status, afterTheThread: hasLeft() };
  });
  await until('the sign-up waits for its turn', () => new Int32Array(memory)[1] === 1); // [1]: the priority side waits
  const read = await fetch(`${base}/v1/clusters/north-west`);
  const readAt = performance.now();
  t.equal(read.status, 200);
  t.equal(signUpAnswered, false, 'the sign-up was still waiting when the read was answered');
  release();
  const signedUp = await signUp;
  const leftAt = await left;
  t.ok(readAt < leftAt, 'the read was answered while the thread still held the gate');
  t.equal(signedUp.status, 202, 'the sign-up was taken');
  t.ok(signedUp.afterTheThread, 'once the thread had let the gate go');
  t.ok(lockWaits(database.sqlite).seconds < 0.05, 'no transaction waited on the event loop (the thread held the gate meanwhile)');
  t.equal(writeTurnWaits(database.sqlite).count, 1, 'the sign-up waited for its turn');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /^convene_db_write_turn_waits_total 1$/m, '/metrics counts it');
  t.match(metrics, /^convene_db_lock_wait_seconds_total /m);
  t.equal(await workerExit, 0);
});

t.test("the server's timed jobs wait for their write turn as a promise too", async (t) => {
  const database = openDatabase(join(tempDir(t), 'jobs.db'));
  database.sqlite.exec('CREATE TABLE notes (text TEXT)');
  const memory = newWriteGateMemory();
  shareWriteGate(database.sqlite, memory, { priority: true });
  let runs = 0;
  const job: TimedJob = {
    name: 'note',
    everyMs: 10,
    run: () => {
      immediate(database.db, () => database.sqlite.prepare("INSERT INTO notes VALUES ('a job ran')").run());
      runs += 1;
      return 1;
    },
  };
  const app = Fastify();
  await app.register(dbPlugin, { database });
  await app.register(jobsPlugin, { jobs: [job], enabled: true, intervalMs: 10 });
  t.teardown(() => app.close());
  await app.ready();
  await until('the job runs', () => runs > 0);
  const waits = { ...lockWaits(database.sqlite) };

  // The thread holds the gate until this side has seen the event loop go on (10 s at most).
  const { left, inside: gotIn, exit: workerExit, release } = holder(memory, 10_000);
  await gotIn;
  const before = runs;
  let ticked = 0;
  const ticking = setInterval(() => (ticked += 1), 5);
  // The jobs (due every 10 ms) are waiting for their turn; the event loop is not.
  await until('the event loop ticks 20 times', () => ticked >= 20);
  clearInterval(ticking);
  t.equal(runs, before, `no run while the thread held the gate (${ticked} ticks of the event loop meanwhile)`);
  t.equal(new Int32Array(memory)[1], 1, 'a job waits for its turn'); // [1]: the priority side waits
  release();
  await left;
  await until('the job runs again', () => runs > before);
  t.ok(lockWaits(database.sqlite).seconds - waits.seconds < 0.05, 'no job waited on the event loop (the thread held the gate meanwhile)');
  t.ok(writeTurnWaits(database.sqlite).count >= 1, 'the job waited for its turn');
  t.equal(await workerExit, 0);
});

t.test('turns against a thread that takes the gate again and again: neither side waits long, neither starves', async (t) => {
  const memory = newWriteGateMemory();
  const cells = new Int32Array(new SharedArrayBuffer(8));
  // The thread goes on until stopped (a fixed number of turns could run out before the second half, on a slow machine).
  const worker = busyThread(memory, cells, { holdMs: 1 });
  t.teardown(() => Atomics.store(cells, 0, 1)); // stopped even when an assertion throws first
  const workerExit = exited(worker);
  const main = writeGate(memory, { priority: true });
  await until('the thread begins', () => Atomics.load(cells, 1) > 0);
  let worst = 0;
  for (let round = 0; round < 20; round++) {
    const asked = performance.now();
    t.equal(await takeTurn(main), true);
    worst = Math.max(worst, performance.now() - asked);
    endTurn(main);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  t.ok(
    worst < 4_000,
    `each turn came within ${Math.round(worst)} ms (a turn and the thread waiting for each other would give up after 5 s)`,
  );

  // Requests one after another, each taking its turn before the last ends: the gate stays this side's, but
  // once it has held it 10 ms with the thread waiting, the next turn lets the thread in first.
  const before = Atomics.load(cells, 1);
  const began = performance.now();
  let held = await takeTurn(main);
  for (let i = 0; i < 30 || performance.now() - began < 300; i++) {
    const next = takeTurn(main);
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (held) endTurn(main);
    held = await next;
  }
  if (held) endTurn(main);
  const took = performance.now() - began;
  const got = Atomics.load(cells, 1) - before;
  // It gets in about every 15 ms (the 10 ms a turn is shared, and the hand-overs); a thread kept out gets in never.
  t.ok(got >= Math.max(1, Math.floor(took / 100)), `the thread got in ${got} times in the ${Math.round(took)} ms of overlapping turns`);
  Atomics.store(cells, 0, 1);
  t.equal(await workerExit, 0, 'the thread never gave up waiting');
});

t.test('a write that can wait (a token marked used) is made in a turn of its own, not at the gate', async (t) => {
  const database = openDatabase(join(tempDir(t), 'soon.db'));
  database.sqlite.exec('CREATE TABLE notes (text TEXT)');
  t.teardown(() => database.sqlite.close());
  const notes = () => (database.sqlite.prepare('SELECT count(*) AS n FROM notes').get() as { n: number }).n;
  const note = () => database.sqlite.prepare("INSERT INTO notes VALUES ('used')").run();
  const failures: unknown[] = [];
  writeSoon(database.db, note, (error) => failures.push(error));
  t.equal(notes(), 1, 'no gate: written at once');

  const memory = newWriteGateMemory();
  shareWriteGate(database.sqlite, memory, { priority: true });
  // The thread holds the gate until released (10 s at most: a caller that waited for the gate would wait until it gave up, 5 s).
  const { left, inside: gotIn, exit: workerExit, release } = holder(memory, 10_000);
  await gotIn;
  const asked = performance.now();
  writeSoon(database.db, note, (error) => failures.push(error));
  const took = performance.now() - asked;
  t.ok(took < 2_000, `the caller did not wait for the gate (${Math.round(took)} ms)`);
  t.equal(notes(), 1, 'not yet written');
  release();
  const leftAt = await left;
  await until('the write is made', () => notes() === 2);
  t.ok(performance.now() >= leftAt, 'written once the thread had let the gate go');
  t.same(failures, []);
  t.equal(await workerExit, 0);
});

t.test('work a route does after its answer (a sign-up) takes a write turn of its own', async (t) => {
  const { app, database, clock } = await buildTestApp(t, { env: { FORM_RATE_LIMIT_PER_MINUTE: '1000' } });
  createClusterWithOrganiser(database, 'north-west', clock);
  const memory = newWriteGateMemory();
  shareWriteGate(database.sqlite, memory, { priority: true });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  // The thread writes as a sending mail thread does: inside 2 ms, out a moment, again and again.
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const worker = busyThread(memory, cells, { holdMs: 2, gapMs: 0.3 });
  t.teardown(() => Atomics.store(cells, 0, 1)); // stopped even when an assertion throws first
  const workerExit = exited(worker);
  await until('the thread writes', () => Atomics.load(cells, 1) > 0);
  for (let i = 0; i < 30; i++) {
    const response = await fetch(`${base}/v1/clusters/north-west/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `after-${i}@example.org` }),
    });
    t.equal(response.status, 202);
  }
  await until('every sign-up is recorded', () => {
    const row = database.sqlite.prepare("SELECT count(*) AS n FROM subscribers WHERE email LIKE 'after-%'").get() as { n: number };
    return row.n === 30;
  });
  Atomics.store(cells, 0, 1);
  t.equal(await workerExit, 0, 'the thread never gave up waiting for the gate');
  const waited = lockWaits(database.sqlite);
  t.ok(
    waited.count <= 1,
    `no sign-up waited at the gate on the event loop (${waited.count} waits, ${Math.round(waited.seconds * 1000)} ms)`,
  );
  t.ok(writeTurnWaits(database.sqlite).count > 0, 'they waited for turns instead');
});
