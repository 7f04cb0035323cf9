// The process: config -> database -> app -> listen; on SIGTERM/SIGINT close gracefully and exit 0.
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { closeDatabase, migrateDatabase, openDatabase } from './db/client.js';
import { resolveSecretKey } from './lib/secret.js';

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
  const secretKey = resolveSecretKey(config);
  const database = openDatabase(config.databasePath);
  migrateDatabase(database.db);
  const app = await buildApp({ config: { ...config, secretKey }, database });

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    // app.close() stops accepting, lets in-flight requests finish and stops the mail worker after its current message.
    await app.close();
    closeDatabase(database.sqlite, { checkpoint: true });
  });

  await app.listen({ host: config.host, port: config.port });
}
