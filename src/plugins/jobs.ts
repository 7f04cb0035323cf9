// Runs the modules' timed jobs inside the server: each every `intervalMs` (one at a time, in order),
// stopping with the server. Jobs are idempotent, so a second server running them too only repeats a query.
import fp from 'fastify-plugin';
import { runJobs, type TimedJob } from '../lib/jobs.js';

export interface JobsPluginOptions {
  jobs: TimedJob[];
  /** TIMED_JOBS: a deployment may run the jobs in one process only. */
  enabled: boolean;
  intervalMs: number;
}

export default fp<JobsPluginOptions>(
  async (app, { jobs, enabled, intervalMs }) => {
    if (!enabled) return;
    let timer: NodeJS.Timeout | undefined;
    // Every job is synchronous, so one tick always ends before the next can start.
    const tick = () => runJobs(jobs, app.log);
    app.addHook('onReady', async () => {
      timer = setInterval(tick, intervalMs);
      timer.unref();
    });
    app.addHook('onClose', async () => clearInterval(timer));
  },
  { name: 'jobs' },
);
