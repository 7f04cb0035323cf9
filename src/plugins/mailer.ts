// Runs the outbox's mail worker inside the server: started when the server is ready, stopped (sends in
// flight finishing) when it closes. The worker and its transport are built by createServices.
import fp from 'fastify-plugin';

/** What the plugin needs of a mail worker. */
export interface MailRunner {
  start(): void;
  /** Resolves once the sends in flight are recorded; aborts the ones still running after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export interface MailerPluginOptions {
  worker: MailRunner;
  /** MAIL_WORKER: a deployment may run the worker in another process instead. */
  enabled: boolean;
  /** Time the sends in flight get when the server closes. */
  graceMs: number;
  /** Stops what else sends mail (scheduled sends) and closes the transport, once the worker has stopped. */
  close: () => void | Promise<void>;
}

export default fp<MailerPluginOptions>(
  async (app, { worker, enabled, graceMs, close }) => {
    app.addHook('onReady', async () => {
      if (enabled) worker.start();
    });
    app.addHook('onClose', async () => {
      await worker.stop(graceMs);
      await close();
    });
  },
  { name: 'mailer', fastify: '5.x' },
);
