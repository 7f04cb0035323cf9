// convene subscribers unsubscribe: an organiser acting on someone who asked by phone or email.
import type { Command } from 'commander';
import { cliActor, output, withServices, type CliContext } from './context.js';

export function subscribersCommands(program: Command, context: CliContext): void {
  const subscribers = program.command('subscribers').description("Act on a newsletter subscriber's request");
  const jsonOf = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

  subscribers
    .command('unsubscribe')
    .description('Unsubscribe an address from all of a cluster\'s emails (their consent record is kept; "erase" is the API\'s DELETE)')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', 'the address that asked')
    .action(async (options: { cluster: string; email: string }, command: Command) => {
      await withServices(context, (services) => {
        const cluster = services.clusters.get(options.cluster);
        const subscriber = services.subscribers.findByEmail(cluster, options.email);
        const wasAlready = subscriber.status === 'unsubscribed';
        const after = services.subscribers.unsubscribe(subscriber, { source: 'organiser' }, cliActor());
        output(context.io, jsonOf(command), { subscriberId: after.id, email: after.email, status: after.status }, [
          wasAlready
            ? `${after.email} was already unsubscribed from ${cluster.slug}.`
            : `${after.email} is unsubscribed from ${cluster.slug}: they receive nothing more.`,
        ]);
      });
    });
}
