// Timed jobs: work that falls due with the clock (offers expiring, reminders, lapsed sign-ups). The
// module that owns the work declares its jobs on its service (`jobs`); createServices gathers them
// and the server's jobs plugin runs them every TIMED_JOB_INTERVAL_MS.

export interface TimedJob {
  /** Names the job in logs. */
  name: string;
  /** Runs this often instead, when shorter than TIMED_JOB_INTERVAL_MS (a job whose work should not wait half a minute). */
  everyMs?: number;
  /**
   * Does the work that is due now (by the service's clock) and returns how many things it handled.
   * It must be idempotent: a second server, or a run after a crash, repeats it without harm.
   */
  run: () => number;
}

/** Where a run of the jobs reports: what each handled, and a job that failed (it runs again next time). */
export interface JobsLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Runs each job once, in order; a job that throws is logged and the next one still runs. */
export function runJobs(jobs: readonly TimedJob[], log: JobsLog): void {
  for (const job of jobs) {
    try {
      const handled = job.run();
      if (handled > 0) log.info({ job: job.name, handled }, 'job ran');
    } catch (error) {
      log.error({ err: error, job: job.name }, 'job failed; it runs again next time');
    }
  }
}

/** How often a job runs, given TIMED_JOB_INTERVAL_MS. */
export function jobInterval(job: TimedJob, intervalMs: number): number {
  return Math.min(job.everyMs ?? intervalMs, intervalMs);
}
