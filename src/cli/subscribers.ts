// convene subscribers unsubscribe: an organiser acting on someone who asked by phone or email; suppressions
// and lift: the addresses never mailed (bounced, complained, erased), and mailing one again with a note.
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

  subscribers
    .command('suppressions')
    .description("List the addresses a cluster's emails never go to, newest first, with the reason")
    .requiredOption('--cluster <slug>', 'the cluster')
    .action(async (options: { cluster: string }, command: Command) => {
      await withServices(context, (services) => {
        const entries = services.subscribers.suppressions(services.clusters.get(options.cluster));
        output(
          context.io,
          jsonOf(command),
          entries,
          entries.length === 0
            ? ['No address is suppressed.']
            : entries.map(
                (e) =>
                  `${e.createdAt.toISOString()}  ${e.email ?? (e.reason === 'erased' ? '(erased)' : '(address not kept)')}  ${e.reason}${e.scope === 'everywhere' ? ' (every cluster)' : ''}` +
                  (e.detail ? `  ${e.detail}` : ''),
              ),
        );
      });
    });

  subscribers
    .command('lift')
    .description('Mail a suppressed address again (a bounce or complaint lifts in every cluster); the note goes to the audit log')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', 'the suppressed address')
    .requiredOption('--note <text>', 'why it may be mailed again')
    .action(async (options: { cluster: string; email: string; note: string }, command: Command) => {
      await withServices(context, (services) => {
        const entry = services.subscribers.liftSuppression(services.clusters.get(options.cluster), options.email, options.note, cliActor());
        output(context.io, jsonOf(command), entry, [`${entry.email} may be mailed again (it was ${entry.reason}).`]);
      });
    });
}
