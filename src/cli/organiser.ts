// convene organiser create|new-key|revoke|list
import type { Command } from 'commander';
import { cliActor, output, withDatabase, type CliContext } from './context.js';
import { cliServices } from './services.js';

interface Target {
  cluster: string;
  email: string;
}

const KEY_WARNING = 'Store this key now: it is shown once and cannot be shown again.';

export function organiserCommands(program: Command, context: CliContext): void {
  const organiser = program.command('organiser').description('Manage organisers and their API keys');
  const jsonOf = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

  organiser
    .command('create')
    .description('Add an organiser to a cluster and print their first API key (once)')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', 'the organiser\'s email address')
    .requiredOption('--name <name>', 'the organiser\'s name')
    .action(async (options: Target & { name: string }, command: Command) => {
      await withDatabase(context, (database) => {
        const issued = cliServices(database, context.clock).organisers.create(options.cluster, options, cliActor());
        output(
          context.io,
          jsonOf(command),
          { organiserId: issued.organiser.id, cluster: options.cluster, email: issued.organiser.email, apiKey: issued.apiKey, keyPrefix: issued.prefix },
          [`Organiser ${issued.organiser.email} added to ${options.cluster}.`, `API key: ${issued.apiKey}`, KEY_WARNING],
        );
      });
    });

  organiser
    .command('new-key')
    .description('Issue another API key for an existing organiser (printed once)')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', 'the organiser\'s email address')
    .action(async (options: Target, command: Command) => {
      await withDatabase(context, (database) => {
        const issued = cliServices(database, context.clock).organisers.issueKey(options.cluster, options.email, cliActor());
        output(context.io, jsonOf(command), { organiserId: issued.organiser.id, apiKey: issued.apiKey, keyPrefix: issued.prefix }, [
          `API key: ${issued.apiKey}`,
          KEY_WARNING,
        ]);
      });
    });

  organiser
    .command('revoke')
    .description('Revoke an organiser\'s API keys (all of them, or one by its prefix)')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', 'the organiser\'s email address')
    .option('--key <prefix>', 'revoke only the key starting with this prefix (as shown by organiser list)')
    .action(async (options: Target & { key?: string }, command: Command) => {
      await withDatabase(context, (database) => {
        const result = cliServices(database, context.clock).organisers.revoke(options.cluster, options.email, cliActor(), options.key);
        output(context.io, jsonOf(command), result, [
          result.revoked.length ? `Revoked ${result.revoked.join(', ')}.` : 'No active keys to revoke.',
        ]);
      });
    });

  organiser
    .command('list')
    .description('List a cluster\'s organisers and their keys (prefixes only)')
    .requiredOption('--cluster <slug>', 'the cluster')
    .action(async (options: { cluster: string }, command: Command) => {
      await withDatabase(context, (database) => {
        const organisers = cliServices(database, context.clock).organisers.list(options.cluster);
        const lines = organisers.flatMap((o) => [
          `${o.name} <${o.email}>`,
          ...o.keys.map(
            (k) => `  ${k.prefix}…  created ${k.createdAt.toISOString()}  ${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : k.lastUsedAt ? `last used ${k.lastUsedAt.toISOString()}` : 'never used'}`,
          ),
        ]);
        output(context.io, jsonOf(command), organisers, lines.length ? lines : ['No organisers yet.']);
      });
    });
}
