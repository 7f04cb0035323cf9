// convene newsletter send|digest|resume|status|list: the organiser's newsletter script.
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { Database_ } from '../db/client.js';
import { TOPICS, type Cluster, type Topic } from '../db/schema.js';
import { thisProcess } from '../lib/processes.js';
import { parseMailbox } from '../lib/text.js';
import { outboxWaiting, sendCampaign } from '../modules/campaigns/campaigns.sender.js';
import type { Campaign, CampaignDraft, CampaignStats } from '../modules/campaigns/campaigns.service.js';
import { DEFAULT_RATE, MAX_RATE, SENDER_LEASE_MS } from '../modules/campaigns/campaigns.service.js';
import type { Services } from '../services.js';
import { writeFileSync } from 'node:fs';
import { pitchDigest } from '../modules/campaigns/campaigns.digest.js';
import { deliverabilityProblems } from '../modules/campaigns/campaigns.deliverability.js';
import { huddlePageUrl } from '../shared/calendar-links.js';
import { placeText, whenText } from '../shared/huddle-text.js';
import { CliFailure } from './db.js';
import { cliActor, output, withServices, type CliContext } from './context.js';
import { readTextFile } from './files.js';
import { followOnServer, progressDisplay, statsLine, stopOnSignal } from './follow.js';

function parseRate(value: string): number {
  const rate = Number(value);
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE)
    throw new InvalidArgumentError(`a whole number of messages per second, 1 to ${MAX_RATE}`);
  return rate;
}

function parseTopic(value: string): Topic {
  if (!(TOPICS as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${TOPICS.join(', ')}`);
  return value as Topic;
}

async function confirm(context: CliContext, question: string): Promise<boolean> {
  if (!context.io.isTTY || !process.stdin.isTTY) throw new CliFailure('not a terminal, so nobody can confirm: add --yes to send');
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

/** Runs the sending loop for a started campaign in this process, with a progress bar (terminal) or lines (otherwise). */
async function run(context: CliContext, services: Services, campaign: Campaign, json: boolean) {
  const cluster = services.clusters.getById(campaign.clusterId);
  const rendered = services.campaigns.render(campaign, cluster);
  const worker = services.mail.worker({ pollIntervalMs: 500 });
  const stop = new AbortController();
  const release = stopOnSignal(context, stop, 'finishing the messages being sent');
  const display = progressDisplay(context, json, services.campaigns.progress(campaign.id).recipients);
  try {
    return await sendCampaign({
      campaigns: services.campaigns,
      campaign,
      rendered,
      worker,
      rate: campaign.rate,
      signal: stop.signal,
      outboxBacklog: () => outboxWaiting(services.outbox),
      concurrency: services.config.mailConcurrency,
      onProgress: (stats) => display.update(stats),
    });
  } finally {
    display.stop();
    release();
  }
}

function report(
  context: CliContext,
  json: boolean,
  campaign: Campaign,
  result: { stats: CampaignStats; stopped: boolean; drained: boolean },
) {
  const state = result.stopped ? 'paused' : result.stats.pending > 0 ? 'paused' : 'sent';
  output(context.io, json, { campaignId: campaign.id, status: state, ...result.stats }, [
    `Campaign ${campaign.id}: ${statsLine(result.stats)}.`,
    ...(state === 'paused' ? [`Stopped. Carry on with: convene newsletter resume ${campaign.id}`] : []),
    ...(!result.stopped && !result.drained
      ? ["Some messages are still being retried; the server's mail worker carries on with them."]
      : []),
  ]);
  if (result.stopped) throw new Interrupted();
}

/** A scheduled time in the cluster's zone and in UTC, for organisers. */
function whenScheduled(at: Date, zone: string): string {
  const local = new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone: zone }).format(at);
  return `${local} (${zone}; ${at.toISOString()})`;
}

interface SendOptions {
  at?: string;
  cluster: string;
  subject: string;
  body: string;
  topic: Topic;
  theme?: string;
  testTo?: string;
  dryRun?: boolean;
  rate: number;
  yes?: boolean;
  here?: boolean;
}

/** What `newsletter send` has worked out before it does one of its three things. */
interface Send {
  context: CliContext;
  services: Services;
  cluster: Cluster;
  options: SendOptions;
  preview: ReturnType<Services['campaigns']['preview']>;
  /** What is wrong with sending now (DNS records, links, the daily limit): reported, and confirmed before a real send. */
  checks: string[];
  json: boolean;
}

/** The problems with sending as this cluster now (campaigns.deliverability.ts). */
async function sendingChecks(context: CliContext, services: Services, cluster: Cluster, recipients: number): Promise<string[]> {
  const from = services.sending.fromOf(cluster.id);
  return deliverabilityProblems(
    {
      from,
      dkim: services.sending.keyFor(from, cluster.id),
      publicBaseUrl: context.config.publicBaseUrl,
      recipients,
      sentToday: services.outbox.sentSince(new Date(context.clock.now().getTime() - 86_400_000)),
      dailyLimit: context.config.mailDailyLimit,
      returnPathDomain: context.config.returnPathDomain,
    },
    context.resolveTxt,
  );
}

const subscribersText = (n: number) => `${n} subscriber${n === 1 ? '' : 's'}`;

/** --dry-run: every message rendered, counts and problems reported, nothing sent or written; exit 1 when a send would be refused. */
function reportDryRun({ context, cluster, options, preview, checks, json }: Send): void {
  output(
    context.io,
    json,
    {
      dryRun: true,
      recipients: preview.recipients,
      problems: preview.problems,
      checks,
      averageBytes: preview.averageBytes,
      first: preview.first,
    },
    [
      `Dry run: ${preview.recipients} confirmed ${preview.recipients === 1 ? 'subscriber' : 'subscribers'} of "${options.topic}"` +
        `${options.theme ? ` (theme ${options.theme})` : ''} in ${cluster.slug} would receive "${options.subject}".`,
      `Every message rendered; about ${preview.averageBytes} bytes each.`,
      ...(preview.problems.length ? preview.problems.map((p) => `Problem: ${p}`) : ['No problems with the message.']),
      ...(checks.length
        ? ['Before sending, check (a real send asks first):', ...checks.map((c) => `- ${c}`)]
        : ['Sending checks: DKIM, SPF and DMARC records, links and the daily limit are in order.']),
      ...(preview.first
        ? [`The first message, to ${preview.first.to}:`, `Subject: ${preview.first.subject}`, '', preview.first.text.trimEnd(), '']
        : []),
      'Nothing was sent or written.',
    ],
  );
  if (preview.blocking.length > 0) throw new CliFailure(`a real send would be refused: ${preview.blocking.join('; ')}`);
}

/** --test-to: one copy to that address, sent now, and nothing else. */
async function sendTestCopy({ context, services, cluster, preview, json }: Send, testTo: string, database: Database_): Promise<void> {
  const mailbox = parseMailbox(testTo);
  if (!mailbox) throw new CliFailure(`--test-to ${testTo} is not an email address`);
  const message = services.campaigns.messageFor(preview.rendered, { id: 'test', name: null });
  const id = services.outbox.enqueue(database.db, {
    kind: 'newsletter.test',
    to: mailbox.address,
    clusterId: cluster.id,
    ...message,
    subject: `[Test] ${message.subject}`,
  });
  await services.mail.worker({ concurrency: 1 }).drain();
  const status = services.outbox.statusOf([id]).get(id)?.status;
  if (status !== 'sent')
    throw new CliFailure(`the test copy to ${mailbox.address} was not sent (${status ?? 'unknown'}): see the warning above`);
  output(context.io, json, { testTo: mailbox.address, recipients: preview.recipients }, [
    `Sent one test copy to ${mailbox.address}. The real send would reach ${subscribersText(preview.recipients)}.`,
  ]);
}

/** The real send, once confirmed: a campaign is created, started and sent at the rate. */
async function sendToAll({ context, services, cluster, options, preview, checks, json }: Send, draft: CampaignDraft): Promise<void> {
  if (preview.recipients === 0)
    throw new CliFailure(`nobody to send to: ${cluster.slug} has no confirmed subscribers of "${options.topic}"`);
  // A time that cannot be scheduled is refused before anything is asked or written.
  if (options.at) services.campaigns.scheduleTime(options.at, cluster.id);
  const what = `"${options.subject}" to ${subscribersText(preview.recipients)} of ${cluster.name} at ${options.rate}/s`;
  let question = options.at ? `Schedule ${what} for ${options.at}?` : `Send ${what}?`;
  if (checks.length > 0) {
    context.io.stderr(
      `${checks.length === 1 ? 'A problem' : `${checks.length} problems`} with sending now:\n${checks.map((c) => `- ${c}`).join('\n')}\n`,
    );
    if (options.yes) context.io.stderr('Sending anyway (--yes).\n');
    question = `${question} (despite the problems above)`;
  }
  if (!options.yes && !(await confirm(context, question))) throw new CliFailure('not sent');
  const campaign = services.campaigns.createDraft(cluster, draft, cliActor());
  if (options.at) {
    const scheduled = services.campaigns.schedule(campaign.id, options.at, cliActor());
    output(context.io, json, { campaignId: campaign.id, status: 'draft', scheduledAt: scheduled.scheduledAt!.toISOString() }, [
      `Campaign ${campaign.id} is scheduled for ${whenScheduled(scheduled.scheduledAt!, cluster.timezone)}: the server sends it then ` +
        `(with TIMED_JOBS on). Change it with: convene newsletter schedule ${campaign.id} --at <time> (or --cancel)`,
    ]);
    return;
  }
  const server = options.here ? undefined : services.campaigns.senders.live();
  if (server) {
    services.campaigns.sendNow(cluster, campaign.id, cliActor());
    if (!json) context.io.stdout(`Campaign ${campaign.id}: the server (${server}) sends it to ${subscribersText(preview.recipients)}.\n`);
    report(context, json, campaign, await followOnServer(context, services, campaign.id, server, json));
    return;
  }
  services.campaigns.start(campaign.id, cliActor());
  if (!json) context.io.stdout(`Campaign ${campaign.id}: sending to ${subscribersText(preview.recipients)}.\n`);
  report(context, json, campaign, await run(context, services, services.campaigns.get(campaign.id), json));
}

export function newsletterCommands(program: Command, context: CliContext): void {
  const newsletter = program.command('newsletter').description('Send newsletters to confirmed subscribers');
  const jsonOf = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

  newsletter
    .command('send')
    .description('Send a Markdown file to the confirmed subscribers of a topic. Shows the count and asks first, unless --yes.')
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--subject <text>', 'the subject line')
    .requiredOption('--body <file.md>', 'the message, in Markdown')
    .option('--topic <topic>', `who receives it: ${TOPICS.join(', ')}`, parseTopic, 'newsletter' as Topic)
    .option('--theme <theme>', 'only subscribers who follow this theme (or all themes)')
    .option('--test-to <email>', 'send one copy to this address only, and nothing else')
    .option('--dry-run', 'render every message and report counts and problems; send and write nothing')
    .option('--rate <per-second>', 'messages per second', parseRate, DEFAULT_RATE)
    .option('--yes', 'do not ask for confirmation: send even when a sending check found a problem')
    .option('--at <time>', "don't send now: the server sends it at this local time in the cluster's zone (2026-12-01T09:00)")
    .option('--here', 'send from this process even when a server is running (which would otherwise send it)')
    .action(async (options: SendOptions, command: Command) => {
      const json = jsonOf(command);
      const body = readTextFile(options.body);
      await withServices(context, async (services, database) => {
        const cluster = services.clusters.get(options.cluster);
        const draft = {
          subject: options.subject,
          body,
          topic: options.topic,
          rate: options.rate,
          ...(options.theme ? { theme: options.theme } : {}),
        };
        const preview = services.campaigns.preview(cluster, draft, { renderAll: Boolean(options.dryRun) });
        const checks = options.testTo ? [] : await sendingChecks(context, services, cluster, preview.recipients);
        const send = { context, services, cluster, options, preview, checks, json };
        if (options.dryRun) reportDryRun(send);
        else if (preview.blocking.length > 0) throw new CliFailure(`not sent: ${preview.blocking.join('; ')} (see --dry-run)`);
        else if (options.testTo) await sendTestCopy(send, options.testTo, database);
        else await sendToAll(send, draft);
      });
    });

  newsletter
    .command('digest')
    .description("Draft a newsletter in Markdown from a huddle's confirmed pitches, by theme (edit it, then send it with newsletter send)")
    .requiredOption('--cluster <slug>', 'the cluster')
    .requiredOption('--huddle <id>', 'the huddle')
    .option('--follow-up', 'after the huddle: who pitched, with the addresses of presenters who agreed to share them')
    .option('--out <file.md>', 'write the draft to this file (never over an existing one) instead of printing it')
    .action(async (options: { cluster: string; huddle: string; followUp?: boolean; out?: string }, command: Command) => {
      const json = jsonOf(command);
      await withServices(context, (services, database) => {
        const cluster = services.clusters.get(options.cluster);
        const huddle = services.huddles.find(options.huddle);
        if (!huddle || huddle.clusterId !== cluster.id) throw new CliFailure(`${cluster.slug} has no huddle ${options.huddle}`);
        if (huddle.status !== 'published') throw new CliFailure(`the huddle is ${huddle.status}: there is nothing to announce`);
        const over = huddle.endsAt.getTime() <= context.clock.now().getTime();
        if (options.followUp && !over) throw new CliFailure('the huddle has not taken place yet: draft the follow-up after it');
        const agenda = services.bookings.agenda(database.db, huddle.id);
        const markdown = pitchDigest({
          huddleTitle: huddle.title,
          when: whenText(huddle),
          where: placeText(huddle),
          pageUrl: huddlePageUrl(context.config.publicBaseUrl, huddle.id),
          themes: huddle.themes,
          followUp: Boolean(options.followUp),
          pitches: agenda.map(({ booking, slot, member }) => ({
            position: slot.position,
            organisation: member.organisation,
            title: booking.title,
            summary: booking.summary,
            theme: booking.theme,
            contact: booking.shareContact ? member.email : null,
          })),
        });
        if (options.out) writeFileSync(options.out, markdown, { flag: 'wx' });
        const next = `npm run convene -- newsletter send --cluster ${cluster.slug} --topic pitch-digest --subject "..." --body ${options.out ?? '<file.md>'}`;
        if (json) output(context.io, true, { pitches: agenda.length, markdown, file: options.out ?? null }, []);
        else if (options.out) context.io.stdout(`Wrote the draft (${agenda.length} pitches) to ${options.out}. Edit it, then: ${next}\n`);
        else context.io.stdout(markdown);
      });
    });

  newsletter
    .command('resume')
    .description('Carry on sending a campaign that was stopped or interrupted; nobody is mailed twice')
    .argument('<campaignId>', 'the campaign')
    .option('--here', 'send from this process even when a server is running (which would otherwise carry on with it)')
    .action(async (campaignId: string, options: { here?: boolean }, command: Command) => {
      const json = jsonOf(command);
      await withServices(context, async (services) => {
        const campaign = services.campaigns.get(campaignId);
        if (campaign.status === 'draft') throw new CliFailure('this campaign was never started: use newsletter send');
        if (services.campaigns.state(campaign) === 'sending' && campaign.sender !== thisProcess)
          throw new CliFailure(
            `${campaign.sender ?? 'another process'} is sending this campaign now: stop it with Ctrl-C first ` +
              `(or, if it hangs, resume once it has been silent for ${SENDER_LEASE_MS / 1000} s)`,
          );
        const { released, heldByLiveProcess } = services.campaigns.releaseInterrupted(campaign.id);
        if (released > 0 && !json)
          context.io.stdout(
            `${released} message${released === 1 ? ' was' : 's were'} being sent when the last run stopped; sending again.\n`,
          );
        if (heldByLiveProcess > 0) {
          context.io.stderr(
            `${heldByLiveProcess} message${heldByLiveProcess === 1 ? ' is' : 's are'} claimed by a process that may still be ` +
              `running (another send or resume, or the server); ` +
              'they are left to it, or to their lease if it has stopped (up to 5 minutes).\n',
          );
        }
        const server = options.here ? undefined : services.campaigns.senders.live();
        if (server) {
          services.campaigns.resumeOnServer(campaign.id, cliActor());
          if (!json) context.io.stdout(`Campaign ${campaign.id}: the server (${server}) carries on with it.\n`);
          report(context, json, campaign, await followOnServer(context, services, campaign.id, server, json));
          return;
        }
        services.campaigns.start(campaign.id, cliActor());
        report(context, json, campaign, await run(context, services, services.campaigns.get(campaign.id), json));
      });
    });

  newsletter
    .command('schedule')
    .description("Schedule a draft campaign: the server sends it at that time (local time in the cluster's zone), or --cancel")
    .argument('<campaignId>', 'the campaign')
    .option('--at <time>', 'when, e.g. 2026-12-01T09:00 (or with an offset: 2026-12-01T09:00+00:00)')
    .option('--cancel', 'not scheduled any more (it stays a draft)')
    .action(async (campaignId: string, options: { at?: string; cancel?: boolean }, command: Command) => {
      if (Boolean(options.at) === Boolean(options.cancel)) throw new CliFailure('give either --at <time> or --cancel');
      await withServices(context, (services) => {
        const campaign = services.campaigns.schedule(campaignId, options.cancel ? null : options.at!, cliActor());
        const zone = services.clusters.getById(campaign.clusterId).timezone;
        output(context.io, jsonOf(command), { campaignId: campaign.id, scheduledAt: campaign.scheduledAt?.toISOString() ?? null }, [
          campaign.scheduledAt
            ? `Campaign ${campaign.id} is scheduled for ${whenScheduled(campaign.scheduledAt, zone)}.`
            : `Campaign ${campaign.id} is not scheduled any more; it stays a draft.`,
        ]);
      });
    });

  newsletter
    .command('pause')
    .description('Pause a campaign being sent, by the server or another command line; resume carries on')
    .argument('<campaignId>', 'the campaign')
    .action(async (campaignId: string, _options: unknown, command: Command) => {
      await withServices(context, (services) => {
        const campaign = services.campaigns.pause(campaignId, cliActor());
        const stats = services.campaigns.stats(campaign.id);
        output(context.io, jsonOf(command), { campaignId: campaign.id, status: 'paused', ...stats }, [
          `Paused: ${statsLine(stats)}. Carry on with: convene newsletter resume ${campaign.id}`,
        ]);
      });
    });

  newsletter
    .command('status')
    .description('Show how far a campaign has got: queued, sent, failed and skipped')
    .argument('<campaignId>', 'the campaign')
    .action(async (campaignId: string, _options: unknown, command: Command) => {
      await withServices(context, (services) => {
        const campaign = services.campaigns.get(campaignId);
        const stats = services.campaigns.stats(campaign.id);
        const state = services.campaigns.state(campaign);
        output(context.io, jsonOf(command), { campaignId: campaign.id, subject: campaign.subject, status: state, ...stats }, [
          `${campaign.subject} (${state}): ${statsLine(stats)}`,
          ...(state === 'interrupted'
            ? [`Nobody is sending it: its sender stopped without pausing it. Carry on with: convene newsletter resume ${campaign.id}`]
            : []),
        ]);
      });
    });

  newsletter
    .command('list')
    .description("List a cluster's campaigns, newest first")
    .requiredOption('--cluster <slug>', 'the cluster')
    .action(async (options: { cluster: string }, command: Command) => {
      await withServices(context, (services) => {
        const rows = services.campaigns
          .list(services.clusters.get(options.cluster))
          .map((c) => ({ campaign: c, state: services.campaigns.state(c), stats: services.campaigns.stats(c.id) }));
        output(
          context.io,
          jsonOf(command),
          rows.map(({ campaign, state, stats }) => ({
            campaignId: campaign.id,
            subject: campaign.subject,
            status: state,
            createdAt: campaign.createdAt.toISOString(),
            scheduledAt: campaign.scheduledAt?.toISOString() ?? null,
            ...stats,
          })),
          rows.length === 0
            ? ['No campaigns yet.']
            : rows.map(
                ({ campaign, state, stats }) =>
                  `${campaign.id}  ${campaign.createdAt.toISOString().slice(0, 10)}  ${state}  "${campaign.subject}"  ` +
                  `${stats.sent}/${stats.recipients} sent` +
                  (state === 'draft' && campaign.scheduledAt ? `  (scheduled for ${campaign.scheduledAt.toISOString()})` : '') +
                  (state === 'interrupted' ? `  (nobody is sending it: convene newsletter resume ${campaign.id})` : ''),
              ),
        );
      });
    });
}

/** Stopped by Ctrl-C: the report is printed already; the exit code says so. */
export class Interrupted extends Error {}
