// convene organiser create|new-key|revoke|list
import { InvalidArgumentError, type Command } from 'commander';
import { cliActor, output, withServices, type CliContext } from './context.js';
import { DEFAULT_KEY_DAYS } from '../modules/organisers/organisers.service.js';
import { ORGANISER_ROLES, type OrganiserRole } from '../db/schema.js';

interface Target {
  cluster: string;
  email: string;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError('a whole number of days, at least 1');
  return days;
}

function parseRole(value: string): OrganiserRole {
  if (!(ORGANISER_ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${ORGANISER_ROLES.join(', ')}`);
  return value as OrganiserRole;
}

function keyLine(key: { prefix: string; createdAt: Date; expiresAt: Date | null; lastUsedAt: Date | null; revokedAt: Date | null }) {
  const day = (date: Date) => date.toISOString().slice(0, 10);
  const state = key.revokedAt
    ? `revoked ${day(key.revokedAt)}`
    : `expires ${key.expiresAt ? day(key.expiresAt) : 'never'}, ` +
      `${key.lastUsedAt ? `last used ${key.lastUsedAt.toISOString()}` : 'never used'}`;
  return `  ${key.prefix}…  created ${day(key.createdAt)}  ${state}`;
}

const KEY_WARNING = 'Store this key now: it is shown once and cannot be shown again.';

export function organiserCommands(program: Command, context: CliContext): void {
  const organiser = program.command('organiser').description('Manage organisers and their API keys');
  const jsonOf = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

  organiser
    .command('create')
    .description('Add an organiser to a cluster and print their first API key (once)')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', "the organiser's email address")
    .requiredOption('--name <name>', "the organiser's name")
    .option('--valid-days <days>', 'days until the key expires', parseDays, DEFAULT_KEY_DAYS)
    .option(
      '--role <role>',
      'organiser (runs the cluster) or viewer (a board member or funder: sees everything, changes nothing)',
      parseRole,
      'organiser' as OrganiserRole,
    )
    .action(async (options: Target & { name: string; validDays: number; role: OrganiserRole }, command: Command) => {
      await withServices(context, (services) => {
        const issued = services.organisers.create(options.cluster, options, cliActor());
        output(
          context.io,
          jsonOf(command),
          {
            organiserId: issued.organiser.id,
            cluster: options.cluster,
            email: issued.organiser.email,
            role: issued.organiser.role,
            apiKey: issued.apiKey,
            keyPrefix: issued.prefix,
            expiresAt: issued.expiresAt.toISOString(),
          },
          [
            `${issued.organiser.role === 'viewer' ? 'Viewer' : 'Organiser'} ${issued.organiser.email} added to ${options.cluster}.`,
            `API key: ${issued.apiKey}`,
            `It expires on ${issued.expiresAt.toISOString().slice(0, 10)}. ${KEY_WARNING}`,
          ],
        );
      });
    });

  organiser
    .command('new-key')
    .description('Issue another API key for an existing organiser (printed once)')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', "the organiser's email address")
    .option('--valid-days <days>', 'days until the key expires', parseDays, DEFAULT_KEY_DAYS)
    .action(async (options: Target & { validDays: number }, command: Command) => {
      await withServices(context, (services) => {
        const issued = services.organisers.issueKey(options.cluster, options.email, cliActor(), options.validDays);
        output(
          context.io,
          jsonOf(command),
          { organiserId: issued.organiser.id, apiKey: issued.apiKey, keyPrefix: issued.prefix, expiresAt: issued.expiresAt.toISOString() },
          [`API key: ${issued.apiKey}`, `It expires on ${issued.expiresAt.toISOString().slice(0, 10)}. ${KEY_WARNING}`],
        );
      });
    });

  organiser
    .command('revoke')
    .description("Revoke an organiser's API keys (all of them, or one by its prefix)")
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--email <email>', "the organiser's email address")
    .option('--key <prefix>', 'revoke only the key starting with this prefix (as shown by organiser list)')
    .action(async (options: Target & { key?: string }, command: Command) => {
      await withServices(context, (services) => {
        const result = services.organisers.revoke(options.cluster, options.email, cliActor(), options.key);
        output(context.io, jsonOf(command), result, [
          result.revoked.length ? `Revoked ${result.revoked.join(', ')}.` : 'No active keys to revoke.',
        ]);
      });
    });

  organiser
    .command('list')
    .description("List a cluster's organisers and their keys (prefixes only)")
    .requiredOption('--cluster <slug>', 'the cluster')
    .action(async (options: { cluster: string }, command: Command) => {
      await withServices(context, (services) => {
        const organisers = services.organisers.list(options.cluster);
        const lines = organisers.flatMap((o) => [
          `${o.name} <${o.email}>${o.role === 'viewer' ? ' (viewer)' : ''}`,
          ...o.keys.map(keyLine),
        ]);
        output(context.io, jsonOf(command), organisers, lines.length ? lines : ['No organisers yet.']);
      });
    });
}
