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
// Cells: [0] 1 while a side is inside, [1] 1 while the priority side waits. A side that cannot get in
// within GIVE_UP_MS goes on without the gate (SQLite's lock still keeps the writes apart).

const INSIDE = 0;
const PRIORITY_WAITING = 1;
/** The same as the connections' busy_timeout. */
const GIVE_UP_MS = 5_000;
/** Waits are cut into slices this long, so a give-up is noticed. */
const SLICE_MS = 50;

export interface WriteGate {
  cells: Int32Array;
  /** This side goes first when both wait (the server's requests). */
  priority: boolean;
}

/** The shared memory of a new gate, to hand to both sides (a thread gets it in its workerData). */
export function newWriteGateMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

export function writeGate(memory: SharedArrayBuffer, options: { priority: boolean }): WriteGate {
  return { cells: new Int32Array(memory), priority: options.priority };
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
}

/** Lets the gate go and wakes a waiter. */
export function leaveGate(gate: WriteGate): void {
  Atomics.store(gate.cells, INSIDE, 0);
  Atomics.notify(gate.cells, INSIDE);
}

/** Opens a gate that a side left shut by ending mid-transaction (a thread that died). */
export function resetGate(memory: SharedArrayBuffer): void {
  leaveGate(writeGate(memory, { priority: false }));
}
