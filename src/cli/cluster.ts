// convene cluster create|show|dkim
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DKIM_SELECTOR, dkimRecord, domainOf, generateDkimPrivateKey, isAligned } from '../lib/dkim.js';
import { parseMailbox } from '../lib/text.js';
import { clusterProfile } from '../modules/clusters/clusters.view.js';
import { cliActor, output, withServices, type CliContext } from './context.js';
import { CliFailure } from './db.js';

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

  cluster
    .command('dkim')
    .description("Make a DKIM signing key for a cluster's mail (or the instance's) and print the DNS record to publish")
    .option('--cluster <slug>', 'the cluster whose mail is signed')
    .option('--instance', "a key for the instance's own mail (MAIL_FROM), written to --out")
    .option('--domain <domain>', "with --cluster: the signing domain (default: the domain of the cluster's sender address)")
    .option('--selector <selector>', 'the DKIM selector (default: convene and the time to the minute, e.g. convene202611301405)')
    .option('--out <file>', 'with --instance: where to write the private key (PEM, readable by you only)')
    .action(
      async (options: { cluster?: string; instance?: boolean; domain?: string; selector?: string; out?: string }, command: Command) => {
        const { json } = command.optsWithGlobals<{ json?: boolean }>();
        if (Boolean(options.cluster) === Boolean(options.instance)) throw new CliFailure('give either --cluster <slug> or --instance');
        if (options.instance && options.domain) throw new CliFailure("--instance signs MAIL_FROM's domain: leave out --domain");
        // A new selector each run (to the minute), so a new key never replaces a record mail in transit was signed with.
        const selector = options.selector ?? `convene${context.clock.now().toISOString().slice(0, 16).replace(/[-T:]/g, '')}`;
        if (!DKIM_SELECTOR.test(selector)) throw new CliFailure(`--selector ${selector} is not DNS labels (letters, digits, hyphens)`);
        const privateKey = generateDkimPrivateKey();
        if (options.instance) {
          if (!options.out) throw new CliFailure('--instance needs --out <file> for the private key');
          const mailFrom = parseMailbox(context.config.mailFrom, { allowLocalhost: true });
          const domain = domainOf(mailFrom?.address ?? '');
          writeFileSync(options.out, privateKey, { mode: 0o600, flag: 'wx' });
          const record = dkimRecord({ domainName: domain, keySelector: selector, privateKey });
          output(
            context.io,
            Boolean(json),
            { domain, selector, keyFile: options.out, record: { name: record.name, value: record.value } },
            [
              `Wrote the private key to ${options.out}. Publish this DNS record for ${domain}:`,
              '',
              record.zoneLine,
              '',
              `Then set DKIM_SELECTOR=${selector} and DKIM_KEY_FILE=${options.out} and restart: mail from ${domain} is signed.`,
            ],
          );
          return;
        }
        await withServices(context, (services) => {
          const current = services.clusters.get(options.cluster!);
          const domain = options.domain ?? (current.senderAddress ? domainOf(current.senderAddress) : undefined);
          if (!domain) {
            throw new CliFailure(
              `${current.slug} has no sender of its own: set one first (PATCH /v1/clusters/${current.slug} {"sender": ...}) or give --domain`,
            );
          }
          const updated = services.clusters.setDkimKey(current.slug, { domainName: domain, keySelector: selector, privateKey }, cliActor());
          const record = dkimRecord({ domainName: updated.dkimDomain!, keySelector: selector, privateKey });
          const aligned = updated.senderAddress !== null && isAligned(domainOf(updated.senderAddress), updated.dkimDomain!);
          output(
            context.io,
            Boolean(json),
            {
              cluster: updated.slug,
              domain: updated.dkimDomain,
              selector,
              record: { name: record.name, value: record.value },
              signing: aligned,
            },
            [
              `${updated.slug} now signs its mail from ${updated.dkimDomain} with selector ${selector}. Publish this DNS record:`,
              '',
              record.zoneLine,
              '',
              aligned
                ? `Its sender ${updated.senderAddress} is on that domain: every message of ${updated.slug} is signed from now on.`
                : `Its messages are signed once its sender is an address on ${updated.dkimDomain} (now: ${updated.senderAddress ?? "the instance's MAIL_FROM"}).`,
              'Signing starts now: publish the record at once (mail signed before it is published fails the DKIM check).',
            ],
          );
        });
      },
    );
}
