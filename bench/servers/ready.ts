// Shared by the bench servers: listen on an ephemeral loopback port and tell the runner (one JSON line on stdout).
import type { FastifyInstance } from 'fastify';

export async function announce(app: FastifyInstance, extra: Record<string, unknown> = {}): Promise<void> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(JSON.stringify({ url: address, ...extra }) + '\n');
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
