// Timed jobs: work that falls due with the clock (offers expiring, reminders, lapsed sign-ups). The
// module that owns the work declares its jobs on its service (`jobs`); createServices gathers them
// and the server's jobs plugin runs them every TIMED_JOB_INTERVAL_MS.

export interface TimedJob {
  /** Names the job in logs. */
  name: string;
  /**
   * Does the work that is due now (by the service's clock) and returns how many things it handled.
   * It must be idempotent: a second server, or a run after a crash, repeats it without harm.
   */
  run: () => number;
}
