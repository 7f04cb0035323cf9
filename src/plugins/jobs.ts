// Runs the modules' timed jobs inside the server: each every `intervalMs` (one at a time, in order),
// stopping with the server. Jobs are idempotent, so a second server running them too only repeats a query.
// A tick takes a write turn first, as a request that writes does (src/plugins/write-turns.ts): while the
// mail thread writes, the jobs wait for it as a promise, not on the event loop where requests would wait too.
import fp from 'fastify-plugin';
import { inWriteTurn } from '../db/client.js';
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
    const waiting = new Set<TimedJob[]>();
    let closed = false;
    async function tick(group: TimedJob[]): Promise<void> {
      // A tick still waiting for its turn is not doubled by the next.
      if (waiting.has(group)) return;
      waiting.add(group);
      await inWriteTurn(app.sqlite, () => {
        waiting.delete(group);
        if (!closed) runJobs(group, app.log);
      });
    }
    app.addHook('onReady', async () => {
      for (const [every, group] of byInterval) timers.push(setInterval(() => void tick(group), every).unref());
    });
    app.addHook('onClose', async () => {
      closed = true;
      for (const timer of timers) clearInterval(timer);
    });
  },
  { name: 'jobs', dependencies: ['db'] },
);
