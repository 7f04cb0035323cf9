// Timed jobs inside the server: each runs every TIMED_JOB_INTERVAL_MS (one run at a time), reads "now"
// from the app's clock, and stops with the server. Jobs are idempotent, so a second server running
// them too would only repeat a query.
import fp from 'fastify-plugin';

export interface Job {
  name: string;
  /** Does the due work; returns how many things it handled (for the log). */
  run: () => number;
}

export default fp<{ jobs: Job[] }>(
  async (app, opts) => {
    if (!app.config.jobs) return;
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    const tick = () => {
      if (running) return;
      running = true;
      for (const job of opts.jobs) {
        try {
          const handled = job.run();
          if (handled > 0) app.log.info({ job: job.name, handled }, 'job ran');
        } catch (error) {
          app.log.error({ err: error, job: job.name }, 'job failed; it runs again next time');
        }
      }
      running = false;
    };
    app.addHook('onReady', async () => {
      timer = setInterval(tick, app.config.jobIntervalMs);
      timer.unref();
    });
    app.addHook('onClose', async () => clearInterval(timer));
  },
  { name: 'jobs', dependencies: ['db'] },
);
