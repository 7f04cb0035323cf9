// Runs the modules' timed jobs inside the server: each every `intervalMs` (one at a time, in order),
// stopping with the server. Jobs are idempotent, so a second server running them too only repeats a query.
import fp from 'fastify-plugin';
import { jobInterval, runJobs, type TimedJob } from '../lib/jobs.js';

export interface JobsPluginOptions {
  jobs: TimedJob[];
  /** TIMED_JOBS: a deployment may run the jobs in one process only. */
  enabled: boolean;
  intervalMs: number;
}

export default fp<JobsPluginOptions>(
  async (app, { jobs, enabled, intervalMs }) => {
    if (!enabled) return;
    const timers: NodeJS.Timeout[] = [];
    // Jobs that run as often go in one tick; every job is synchronous, so a tick ends before the next starts.
    const byInterval = new Map<number, TimedJob[]>();
    for (const job of jobs) {
      const every = jobInterval(job, intervalMs);
      byInterval.set(every, [...(byInterval.get(every) ?? []), job]);
    }
    app.addHook('onReady', async () => {
      for (const [every, group] of byInterval) timers.push(setInterval(() => runJobs(group, app.log), every).unref());
    });
    app.addHook('onClose', async () => {
      for (const timer of timers) clearInterval(timer);
    });
  },
  { name: 'jobs' },
);
