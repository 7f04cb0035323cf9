// The process: config -> database -> services -> app -> listen; on SIGTERM/SIGINT close gracefully and exit 0.
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { migrateDatabase, openDatabase } from './db/client.js';
import { systemClock } from './lib/clock.js';
import { loggerOptions } from './lib/logging.js';
import { createMailThread } from './mail-thread.js';
import { createServices } from './services.js';

export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = pino(loggerOptions(config.logLevel));
  const database = openDatabase(config.databasePath);
  migrateDatabase(database.db);
  const mailLogger = logger.child({ component: 'mailer' });
  const services = createServices({ db: database.db, clock: systemClock, config, mail: { logger: mailLogger } });
  // A database in memory is this connection's alone: a thread's would be another, empty one.
  const mailRunner =
    config.mailWorker && config.mailThread && config.databasePath !== ':memory:'
      ? createMailThread({ services, sqlite: database.sqlite, logger: mailLogger, log: true })
      : undefined;
  // From here the app owns the database and the services, and closes them when it closes.
  const app = await buildApp({ database, services, logger, mailRunner });

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    // Stops accepting, lets in-flight requests finish, stops the mail worker after its current message, closes the database.
    await app.close();
  });

  await app.listen({ host: config.host, port: config.port });

  // `npm start` runs the server as its child. If npm is stopped without passing the signal on (a
  // supervisor's SIGTERM that arrives as npm is busy), the server is left with another parent: it then
  // stops as if it had been told to, rather than running on unsupervised.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    app.log.warn({ parent }, 'the process that started the server has exited');
    process.kill(process.pid, 'SIGTERM');
  }, 1000);
  watch.unref();
}
