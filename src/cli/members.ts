// convene members import|list
import type { Command } from 'commander';
import { parseMembersCsv } from '../modules/members/members.import.js';
import { CliFailure } from './db.js';
import { cliActor, output, withServices, type CliContext } from './context.js';
import { readTextFile } from './files.js';

export function membersCommands(program: Command, context: CliContext): void {
  const members = program.command('members').description("Manage a cluster's members");
  const jsonOf = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

  members
    .command('import')
    .description(
      'Add members from a CSV file with a header row: email,name,organisation,organisation_type. Each new member is emailed a ' +
        'welcome with a sign-in link. Rejected rows are listed with their reasons; the exit code is 1 if any row was rejected.',
    )
    .argument('<file.csv>', 'the CSV file')
    .requiredOption('--cluster <slug>', 'the cluster')
    .option('--dry-run', 'check the file and report what would happen, changing nothing')
    .action(async (file: string, options: { cluster: string; dryRun?: boolean }, command: Command) => {
      const parsed = parseMembersCsv(readTextFile(file));
      if (parsed.error) throw new CliFailure(`${file}: ${parsed.error}`);
      const result = await withServices(context, async (services) => {
        const cluster = services.clusters.get(options.cluster);
        const actor = { ...cliActor(), label: `${cliActor().label} (import ${file})` };
        return {
          cluster: cluster.slug,
          ...(await services.members.importRows(cluster, parsed, actor, { dryRun: Boolean(options.dryRun) })),
        };
      });
      const verb = result.dryRun ? 'would import' : 'imported';
      output(context.io, jsonOf(command), result, [
        `${file}: ${verb} ${result.imported} member${result.imported === 1 ? '' : 's'} into ${result.cluster}, rejected ` +
          `${result.rejected.length} row${result.rejected.length === 1 ? '' : 's'}.`,
        ...result.rejected.map((r) => `  line ${r.line}${r.email ? ` (${r.email})` : ''}: ${r.reason}`),
        ...(result.dryRun
          ? ['Dry run: nothing was changed and no email was queued.']
          : result.imported > 0
            ? ['Welcome emails are queued; the server sends them.']
            : []),
      ]);
      if (result.rejected.length > 0) throw new PartialImport();
    });

  members
    .command('list')
    .description("List a cluster's members")
    .requiredOption('--cluster <slug>', 'the cluster')
    .option('--status <status>', 'only active or suspended members')
    .action(async (options: { cluster: string; status?: string }, command: Command) => {
      if (options.status !== undefined && options.status !== 'active' && options.status !== 'suspended') {
        throw new CliFailure('--status must be active or suspended');
      }
      await withServices(context, (services) => {
        const cluster = services.clusters.get(options.cluster);
        const rows = services.members.list(cluster, {
          ...(options.status ? { status: options.status as 'active' | 'suspended' } : {}),
          limit: 1_000_000,
        }).items;
        output(
          context.io,
          jsonOf(command),
          rows.map((m) => ({
            id: m.id,
            email: m.email,
            name: m.name,
            organisation: m.organisation,
            organisationType: m.organisationType,
            status: m.status,
          })),
          rows.length === 0
            ? [`${cluster.slug} has no members${options.status ? ` (${options.status})` : ''}.`]
            : rows.map((m) => `${m.email}  ${m.name}  ${m.organisation} (${m.organisationType})  ${m.status}`),
        );
      });
    });
}

/** Some rows were rejected: the report is printed already, the exit code says so. */
export class PartialImport extends Error {}
