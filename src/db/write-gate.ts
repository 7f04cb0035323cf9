// A write gate between two connections of one process on different threads (the server's and its mail
// thread's), in memory they share: each takes it before its write transaction and lets it go after.
//
// Why: SQLite keeps their writes apart anyway, but a writer that finds the lock taken sleeps in its busy
// handler for 1, 2, 5, 10, 15, 20, 25 ms..., and looks again only then. The mail thread commits many
// short transactions one after another, so the server's request, looking now and then, could find the
// lock taken again each time and sleep through 78 ms on the event loop for a lock held a millisecond at
// a time. At the gate a waiter is woken the moment it is free, and the side with priority (the server's
// requests) goes first: it waits at most for the one transaction the other side is in.
//
// The priority side also takes turns without blocking its thread (takeTurn): a request that will write
// waits for the gate before its handler, as a promise, so the event loop goes on serving the others, and
// holds it until its answer is sent; requests of that thread that come meanwhile share the turn, unless
// the other side has waited while this side held the gate for SHARE_MS (then it goes first, for one
// transaction: a stream of overlapping requests cannot keep it out). Transactions inside a turn do not
// wait at all.
//
// Cells: [0] 1 while a side is inside, [1] 1 while the priority side waits, [2] 1 while the other side
// waits. A side that cannot get in within GIVE_UP_MS goes on without the gate (SQLite's lock still keeps
// the writes apart).

const INSIDE = 0;
const PRIORITY_WAITING = 1;
const OTHER_WAITING = 2;
/** The same as the connections' busy_timeout. */
const GIVE_UP_MS = 5_000;
/** Waits are cut into slices this long, so a give-up is noticed. */
const SLICE_MS = 50;
/** Turns held this long while the other side waits are no longer shared with new ones. */
const SHARE_MS = 10;

export interface WriteGate {
  cells: Int32Array;
  /** This side goes first when both wait (the server's requests). */
  priority: boolean;
  /** Turns this thread holds (takeTurn): while there are any, the gate is this side's. */
  turns: number;
  /** Since when (performance.now()) the turns have held the gate. */
  heldSince: number;
}

/** The shared memory of a new gate, to hand to both sides (a thread gets it in its workerData). */
export function newWriteGateMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
}

export function writeGate(memory: SharedArrayBuffer, options: { priority: boolean }): WriteGate {
  return { cells: new Int32Array(memory), priority: options.priority, turns: 0, heldSince: 0 };
}

/** Takes the gate, blocking this thread until it is free; false if it gave up waiting (then it must not leave). */
export function enterGate(gate: WriteGate): boolean {
  const { cells } = gate;
  const deadline = performance.now() + GIVE_UP_MS;
  const left = () => deadline - performance.now();
  if (gate.priority) {
    if (Atomics.compareExchange(cells, INSIDE, 0, 1) === 0) return true;
    Atomics.store(cells, PRIORITY_WAITING, 1);
    try {
      while (Atomics.compareExchange(cells, INSIDE, 0, 1) !== 0) {
        if (left() <= 0) return false;
        Atomics.wait(cells, INSIDE, 1, Math.min(left(), SLICE_MS));
      }
      return true;
    } finally {
      Atomics.store(cells, PRIORITY_WAITING, 0);
      Atomics.notify(cells, PRIORITY_WAITING);
    }
  }
  if (Atomics.load(cells, PRIORITY_WAITING) === 0 && Atomics.compareExchange(cells, INSIDE, 0, 1) === 0) return true;
  // Waiting: the priority side's next turn lets this side in first (takeTurn).
  Atomics.store(cells, OTHER_WAITING, 1);
  try {
    for (;;) {
      while (Atomics.load(cells, PRIORITY_WAITING) === 1) {
        if (left() <= 0) return false;
        Atomics.wait(cells, PRIORITY_WAITING, 1, Math.min(left(), SLICE_MS));
      }
      if (Atomics.compareExchange(cells, INSIDE, 0, 1) === 0) {
        if (Atomics.load(cells, PRIORITY_WAITING) === 0) return true;
        leaveGate(gate); // the priority side began to wait meanwhile: it goes first
        continue;
      }
      if (left() <= 0) return false;
      Atomics.wait(cells, INSIDE, 1, Math.min(left(), SLICE_MS));
    }
  } finally {
    Atomics.store(cells, OTHER_WAITING, 0);
    Atomics.notify(cells, OTHER_WAITING);
  }
}

/** Waits, without blocking this thread, until `cells[index]` is no longer `value` or `ms` pass. */
async function waitWhile(cells: Int32Array, index: number, value: number, ms: number): Promise<void> {
  const waiting = Atomics.waitAsync(cells, index, value, ms);
  if (waiting.async) await waiting.value;
}

/**
 * The priority side's turn, waited for as a promise (its thread goes on meanwhile): true once the gate
 * is this side's until endTurn; false if it gave up waiting (then no endTurn). A turn already held by
 * this thread is shared, unless the other side has waited while it was held for SHARE_MS: then the other
 * side has its one transaction first.
 */
export async function takeTurn(gate: WriteGate): Promise<boolean> {
  const { cells } = gate;
  const deadline = performance.now() + GIVE_UP_MS;
  const left = () => deadline - performance.now();
  for (;;) {
    if (turnNow(gate)) return true;
    if (left() <= 0) {
      Atomics.store(cells, PRIORITY_WAITING, 0);
      Atomics.notify(cells, PRIORITY_WAITING);
      return false;
    }
    // This side has held the gate a while and the other waits for it: wait until it has got in (not as
    // priority, which would keep it out while this waits for it).
    if (gate.turns > 0) await waitWhile(cells, OTHER_WAITING, 1, Math.min(left(), SLICE_MS));
    else {
      // The other side is inside: it starts no further transaction while this side waits.
      Atomics.store(cells, PRIORITY_WAITING, 1);
      await waitWhile(cells, INSIDE, 1, Math.min(left(), SLICE_MS));
    }
  }
}

/** The priority side's turn if it can have one without waiting (see takeTurn); false if it would wait. */
export function turnNow(gate: WriteGate): boolean {
  const { cells } = gate;
  if (gate.turns > 0) {
    if (Atomics.load(cells, OTHER_WAITING) === 1 && performance.now() - gate.heldSince >= SHARE_MS) return false;
    gate.turns += 1;
    return true;
  }
  if (Atomics.compareExchange(cells, INSIDE, 0, 1) !== 0) return false;
  gate.turns = 1;
  gate.heldSince = performance.now();
  if (Atomics.load(cells, PRIORITY_WAITING) === 1) {
    Atomics.store(cells, PRIORITY_WAITING, 0);
    Atomics.notify(cells, PRIORITY_WAITING);
  }
  return true;
}

/** Ends a turn taken with takeTurn; the last one lets the gate go. */
export function endTurn(gate: WriteGate): void {
  gate.turns -= 1;
  if (gate.turns === 0) leaveGate(gate);
}

/** Lets the gate go and wakes a waiter. */
export function leaveGate(gate: WriteGate): void {
  Atomics.store(gate.cells, INSIDE, 0);
  Atomics.notify(gate.cells, INSIDE);
}

/**
 * The priority side's gate after the other side's thread ended, maybe mid-transaction or waiting: opened,
 * unless this side's turns hold it.
 */
export function resetGate(gate: WriteGate): void {
  Atomics.store(gate.cells, OTHER_WAITING, 0);
  Atomics.notify(gate.cells, OTHER_WAITING);
  if (gate.turns === 0) leaveGate(gate);
}
