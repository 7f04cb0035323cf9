// convene cluster create|show
import type { Command } from 'commander';
import { clusterProfile } from '../modules/clusters/clusters.view.js';
import { cliActor, output, withServices, type CliContext } from './context.js';

export function clusterCommands(program: Command, context: CliContext): void {
  const cluster = program.command('cluster').description('Create and inspect clusters');

  cluster
    .command('create')
    .description('Create a cluster')
    .requiredOption('--slug <slug>', 'short lower-case name used in addresses, e.g. north-west-healthtec')
    .requiredOption('--name <name>', 'display name')
    .option('--timezone <zone>', 'IANA time zone the cluster meets in', 'Europe/London')
    .action(async (options: { slug: string; name: string; timezone: string }, command: Command) => {
      const { json } = command.optsWithGlobals<{ json?: boolean }>();
      await withServices(context, (services) => {
        const created = services.clusters.create(options, cliActor());
        output(context.io, Boolean(json), clusterProfile(created, context.config.publicBaseUrl), [
          `Created cluster "${created.name}" (${created.slug}), time zone ${created.timezone}.`,
          `Next: npm run convene -- organiser create --cluster ${created.slug} --email <email> --name <name>`,
        ]);
      });
    });

  cluster
    .command('show')
    .description("Show a cluster's settings")
    .argument('<slug>', "the cluster's slug")
    .action(async (slug: string, _options: unknown, command: Command) => {
      const { json } = command.optsWithGlobals<{ json?: boolean }>();
      await withServices(context, (services) => {
        const profile = clusterProfile(services.clusters.get(slug), context.config.publicBaseUrl);
        output(
          context.io,
          Boolean(json),
          profile,
          Object.entries(profile).map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
        );
      });
    });
}
