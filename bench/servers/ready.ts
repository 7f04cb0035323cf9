// Shared by the bench servers: listen on an ephemeral loopback port and tell the runner (one JSON line on stdout).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { FastifyInstance } from 'fastify';

export async function announce(app: FastifyInstance, extra: Record<string, unknown> = {}): Promise<void> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(JSON.stringify({ url: address, ...extra }) + '\n');
  const stop = () =>
    void app.close().then(async () => {
      await beforeExit?.();
      process.exit(0);
    });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

let beforeExit: (() => Promise<void>) | undefined;

/** Starts the V8 CPU profiler now; the profile is written to `file` when the server is stopped. */
export async function profileUntilExit(file: string): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  beforeExit = async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
  };
}
