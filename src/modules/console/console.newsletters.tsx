// Newsletters in the console: `/console/{cluster}/newsletters` lists them; a new one is written in
// Markdown with a preview of its text part and recipient count before it is saved; a draft's page shows
// the HTML as an email app would (in a sandboxed frame), the problems to look at, a test copy to oneself,
// Send (the server's worker sends it) and, while it sends, its figures and Pause. The campaigns service
// does the work, as for the API and the command line.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TOPICS, type Campaign, type Cluster, type Topic } from '../../db/schema.js';
import { isAppError } from '../../errors.js';
import { isId } from '../../lib/ids.js';
import { formField } from '../../lib/page.js';
import { ActionForm } from '../../shared/forms.js';
import { dates, messages } from '../../shared/messages.js';
import { problemInWords } from '../../shared/pages.js';
import { consoleActor } from '../../shared/principals.js';
import type { CampaignsService, CampaignState } from '../campaigns/campaigns.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { OrganisersService } from '../organisers/organisers.service.js';
import type { ConsoleContext, InCluster } from './console.context.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

/** The page that frames the preview may frame this site; the preview itself runs nothing and may style itself. */
const FRAMING_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; frame-src 'self'";
const PREVIEW_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'; base-uri 'none'; sandbox allow-same-origin";

interface DraftForm {
  subject: string;
  topic: string;
  theme: string;
  body: string;
}

function ComposePage(props: {
  frame: ConsoleFrameData;
  /** Where the form posts: a new draft, or a change to this one. */
  action: string;
  title: string;
  form: DraftForm;
  themes: string[];
  preview?: DraftPreviewData | null;
  error?: string | null;
}) {
  const { form } = props;
  return (
    <ConsoleFrame title={props.title} frame={props.frame} section="newsletters" error={props.error}>
      <form method="post" action={props.action} novalidate>
        <input type="hidden" name="_csrf" value={props.frame.csrf} />
        <label for="subject">{m.subject}</label>
        <input id="subject" name="subject" type="text" maxlength="200" required value={form.subject} />
        <label for="topic">{m.topic}</label>
        <select id="topic" name="topic">
          {TOPICS.map((topic) => (
            <option value={topic} selected={topic === form.topic}>
              {messages.topicNames[topic]}
            </option>
          ))}
        </select>
        <label for="theme">{m.newsletterTheme}</label>
        <select id="theme" name="theme">
          <option value="">{m.everyTheme}</option>
          {props.themes.map((theme) => (
            <option value={theme} selected={theme === form.theme} safe>
              {theme}
            </option>
          ))}
        </select>
        <label for="body">{m.body}</label>
        <p class="note" id="body-hint">
          {m.bodyHint}
        </p>
        <textarea id="body" name="body" rows="14" aria-describedby="body-hint" safe>
          {form.body}
        </textarea>
        <p>
          <button type="submit" name="intent" value="preview" class="secondary">
            {m.previewNewsletter}
          </button>{' '}
          <button type="submit" name="intent" value="save">
            {m.saveNewsletter}
          </button>
        </p>
      </form>
      {props.preview ? <DraftPreview {...props.preview} /> : ''}
    </ConsoleFrame>
  );
}

interface DraftPreviewData {
  recipients: number;
  problems: string[];
  text: string;
  /** The body as HTML (shown in the compose step; a saved draft shows the whole email in a frame). */
  html?: string;
}

function DraftPreview(props: DraftPreviewData) {
  // Markdown rendered with raw HTML escaped and unsafe links refused (campaigns.render): markup to show as
  // it is, its headings moved below the page's own (h1 to h4), so the page's outline stays in order.
  const safeBody = (props.html ?? '').replace(
    /<(\/?)h([1-6])>/g,
    (_, slash: string, level: string) => `<${slash}h${Math.min(6, Number(level) + 3)}>`,
  );
  return (
    <section aria-labelledby="draft-preview">
      <h2 id="draft-preview" safe>
        {m.recipientsNow(props.recipients)}
      </h2>
      {props.problems.length > 0 ? (
        <>
          <h3>{m.problemsHeading}</h3>
          <ul>
            {props.problems.map((problem) => (
              <li safe>{problem}</li>
            ))}
          </ul>
        </>
      ) : (
        ''
      )}
      {props.html ? (
        <>
          <h3>{m.htmlPreview}</h3>
          <div class="email-body">{safeBody}</div>
        </>
      ) : (
        ''
      )}
      <h3>{m.textPreview}</h3>
      <pre class="description" safe>
        {props.text}
      </pre>
    </section>
  );
}

function CampaignPage(props: {
  frame: ConsoleFrameData;
  campaign: Campaign;
  state: CampaignState;
  stats: Record<string, number>;
  preview: DraftPreviewData;
  zone: string;
  resume: string;
  done?: string | null;
  error?: string | null;
}) {
  const { campaign, state } = props;
  const base = `/console/${props.frame.current!.clusterSlug}/newsletters/${campaign.id}`;
  const organiser = props.frame.current!.role !== 'viewer';
  return (
    <ConsoleFrame title={campaign.subject} frame={props.frame} section="newsletters" done={props.done} error={props.error}>
      <p>
        <span>{m.campaignStatuses[state]}</span>
        {campaign.startedAt ? <span safe>{`, ${dates.moment(campaign.startedAt, props.zone)}`}</span> : ''}
      </p>
      {organiser && state !== 'sent' ? (
        <p>
          {state === 'draft' ? (
            <a class="button" href={`${base}/edit`}>
              {m.edit}
            </a>
          ) : (
            ''
          )}{' '}
          {state === 'draft' ? <ActionForm action={`${base}/test`} csrf={props.frame.csrf} button={m.sendTest} secondary /> : ''}
          {state === 'draft' ? <ActionForm action={`${base}/send`} csrf={props.frame.csrf} button={m.sendNow} /> : ''}
          {state === 'sending' || state === 'interrupted' ? (
            <ActionForm action={`${base}/pause`} csrf={props.frame.csrf} button={m.pause} />
          ) : (
            ''
          )}
          {state === 'paused' || state === 'interrupted' ? (
            <ActionForm action={`${base}/resume`} csrf={props.frame.csrf} button={m.resume} />
          ) : (
            ''
          )}
        </p>
      ) : (
        ''
      )}
      {state === 'draft' ? <p class="note">{m.sendNowNote}</p> : ''}
      {state === 'paused' || state === 'interrupted' ? (
        <p class="note" safe>
          {m.resumeNote(props.resume)}
        </p>
      ) : (
        ''
      )}
      {state === 'draft' ? (
        ''
      ) : (
        <section aria-labelledby="figures">
          <h2 id="figures">{m.figuresHeading}</h2>
          <dl class="facts inline">
            {Object.entries(m.figureNames).map(([key, label]) => (
              <>
                <dt>{label}</dt>
                <dd safe>{String(props.stats[key] ?? 0)}</dd>
              </>
            ))}
          </dl>
          <p>
            <a href={base}>{m.refresh}</a>
          </p>
        </section>
      )}
      <h2>{m.htmlPreview}</h2>
      <iframe
        src={`${base}/preview.html`}
        title={m.previewFrame(campaign.subject)}
        sandbox="allow-same-origin"
        class="email-preview"
      ></iframe>
      <DraftPreview {...props.preview} html={undefined} />
    </ConsoleFrame>
  );
}

export function consoleNewsletterRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: { campaigns: CampaignsService; clusters: ClustersService; organisers: OrganisersService },
) {
  const { campaigns } = deps;
  const { noStore, inCluster } = context;
  const clusterOf = (here: InCluster): Cluster => deps.clusters.getById(here.principal.clusterId);
  const path = (here: InCluster) => `/console/${here.principal.clusterSlug}/newsletters`;

  function formOf(request: FastifyRequest): DraftForm {
    return {
      subject: (formField(request, 'subject') ?? '').trim().slice(0, 200),
      topic: formField(request, 'topic') ?? 'newsletter',
      theme: (formField(request, 'theme') ?? '').slice(0, 40),
      body: (formField(request, 'body') ?? '').slice(0, 200_000),
    };
  }
  const draftOf = (form: DraftForm) => ({
    subject: form.subject,
    body: form.body,
    topic: ((TOPICS as readonly string[]).includes(form.topic) ? form.topic : 'newsletter') as Topic,
    ...(form.theme ? { theme: form.theme } : {}),
  });
  const previewOf = (cluster: Cluster, draft: ReturnType<typeof draftOf>) => {
    const preview = campaigns.preview(cluster, draft);
    return { recipients: preview.recipients, problems: preview.problems, text: preview.rendered.text, html: preview.rendered.bodyHtml };
  };

  /** The cluster's campaign of the request, or null after answering 404 in the console's frame. */
  function campaignOf(here: InCluster, request: FastifyRequest, reply: FastifyReply): Campaign | null {
    const id = (request.params as { id: string }).id;
    const campaign = isId(id) ? campaigns.find(id) : undefined;
    if (campaign && campaign.clusterId === here.principal.clusterId) return campaign;
    void noStore(reply)
      .code(404)
      .html(
        <ConsoleFrame title={m.campaignNotFound} frame={here.frame} section="newsletters">
          <p>
            <a href={path(here)}>{m.newsletters}</a>
          </p>
        </ConsoleFrame>,
      );
    return null;
  }

  app.get('/console/:cluster/newsletters', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here) return reply;
    const rows = campaigns.list(clusterOf(here));
    return noStore(reply).html(
      <ConsoleFrame title={m.newsletters} frame={here.frame} section="newsletters">
        <p>{m.newslettersIntro}</p>
        {here.principal.role === 'viewer' ? (
          ''
        ) : (
          <p>
            <a class="button" href={`${path(here)}/new`}>
              {m.writeNewsletter}
            </a>
          </p>
        )}
        {rows.length === 0 ? <p>{m.noNewsletters}</p> : ''}
        <ul class="cards">
          {rows.map((campaign) => {
            const stats = campaigns.stats(campaign.id);
            return (
              <li>
                <a href={`${path(here)}/${campaign.id}`} safe>
                  {campaign.subject}
                </a>
                <br />
                <span safe>{m.newsletterLine(m.campaignStatuses[campaigns.state(campaign)], stats.sent, stats.recipients)}</span>
              </li>
            );
          })}
        </ul>
      </ConsoleFrame>,
    );
  });

  /** The compose form for a new draft (campaign null) or a change to one, with a preview or a refusal. */
  function showCompose(
    reply: FastifyReply,
    here: InCluster,
    campaign: Campaign | null,
    form: DraftForm,
    extra: { preview?: DraftPreviewData; error?: string } = {},
    status = 200,
  ) {
    return noStore(reply)
      .code(status)
      .html(
        <ComposePage
          frame={here.frame}
          action={campaign ? `${path(here)}/${campaign.id}/edit` : `${path(here)}/new`}
          title={campaign ? m.editNewsletter(campaign.subject) : m.writeNewsletter}
          form={form}
          themes={clusterOf(here).themes}
          {...extra}
        />,
      );
  }

  /** The form's Preview shows what it would send; its Save makes the draft or changes this one. */
  function composeAction(
    campaignOfRequest: (here: InCluster, request: FastifyRequest, reply: FastifyReply) => Campaign | null | undefined,
  ) {
    return {
      refuse: (reply: FastifyReply, here: InCluster, request: FastifyRequest, error: string, status: number) => {
        const campaign = campaignOfRequest(here, request, reply);
        return campaign === undefined ? reply : showCompose(reply, here, campaign, formOf(request), { error }, status);
      },
      act: (here: InCluster, request: FastifyRequest, reply: FastifyReply) => {
        const campaign = campaignOfRequest(here, request, reply);
        if (campaign === undefined) return reply;
        const form = formOf(request);
        const cluster = clusterOf(here);
        const draft = draftOf(form);
        if (formField(request, 'intent') !== 'save')
          return showCompose(reply, here, campaign, form, { preview: previewOf(cluster, draft) });
        const actor = consoleActor(here.principal);
        if (!campaign) return reply.redirect(`${path(here)}/${campaigns.createDraft(cluster, draft, actor).id}?done=saved`, 303);
        campaigns.updateDraft(cluster, campaign.id, draft, actor);
        return reply.redirect(`${path(here)}/${campaign.id}?done=updated`, 303);
      },
    };
  }

  app.get('/console/:cluster/newsletters/new', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here || context.viewerStop(here, reply, m.writeNewsletter)) return reply;
    return showCompose(reply, here, null, { subject: '', topic: 'newsletter', theme: '', body: '' });
  });

  const creating = composeAction(() => null);
  context.action('/console/:cluster/newsletters/new', { changes: true, refuse: creating.refuse }, creating.act);

  app.get('/console/:cluster/newsletters/:id/edit', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const campaign = here && campaignOf(here, request, reply);
    if (!here || !campaign || context.viewerStop(here, reply, m.editNewsletter(campaign.subject))) return reply;
    if (campaign.status !== 'draft') return reply.redirect(`${path(here)}/${campaign.id}`, 303);
    return showCompose(reply, here, campaign, {
      subject: campaign.subject,
      topic: campaign.topic,
      theme: campaign.theme ?? '',
      body: campaign.bodyMarkdown,
    });
  });

  // A campaign not found has been answered (404) already: undefined stops there.
  const editing = composeAction((here, request, reply) => campaignOf(here, request, reply) ?? undefined);
  context.action('/console/:cluster/newsletters/:id/edit', { changes: true, refuse: editing.refuse }, editing.act);

  function showCampaign(
    reply: FastifyReply,
    here: InCluster,
    campaign: Campaign,
    extra: { done?: string | null; error?: string | null },
    status = 200,
  ) {
    const cluster = clusterOf(here);
    const fresh = campaigns.get(campaign.id);
    return noStore(reply)
      .header('content-security-policy', FRAMING_POLICY)
      .code(status)
      .html(
        <CampaignPage
          frame={here.frame}
          campaign={fresh}
          state={campaigns.state(fresh)}
          stats={campaigns.stats(fresh.id) as unknown as Record<string, number>}
          preview={previewOf(cluster, {
            subject: fresh.subject,
            body: fresh.bodyMarkdown,
            topic: fresh.topic as Topic,
            ...(fresh.theme ? { theme: fresh.theme } : {}),
          })}
          zone={cluster.timezone}
          resume={`npm run convene -- newsletter resume ${fresh.id}`}
          {...extra}
        />,
      );
  }

  app.get('/console/:cluster/newsletters/:id', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const campaign = here && campaignOf(here, request, reply);
    if (!here || !campaign) return reply;
    const { done, to } = request.query as { done?: unknown; to?: unknown };
    const words: Record<string, string> = {
      saved: m.newsletterSaved,
      updated: m.newsletterUpdated,
      sending: m.sendRequested,
      paused: m.paused,
      resumed: m.resumeRequested,
      tested: m.testSent(typeof to === 'string' ? to.slice(0, 254) : ''),
    };
    return showCampaign(reply, here, campaign, { done: typeof done === 'string' ? (words[done] ?? null) : null });
  });

  app.get('/console/:cluster/newsletters/:id/preview.html', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const campaign = here && campaignOf(here, request, reply);
    if (!here || !campaign) return reply;
    const rendered = campaigns.render(campaign, clusterOf(here));
    return noStore(reply)
      .header('content-security-policy', PREVIEW_POLICY)
      .header('x-frame-options', 'SAMEORIGIN')
      .type('text/html; charset=utf-8')
      .send(`${rendered.htmlHead}\n${rendered.htmlTail}`);
  });

  const refuseCampaign = (reply: FastifyReply, here: InCluster, request: FastifyRequest, error: string, status: number) => {
    const campaign = campaignOf(here, request, reply);
    return campaign ? showCampaign(reply, here, campaign, { error }, status) : reply;
  };

  for (const [verb, done] of [
    ['test', 'tested'],
    ['send', 'sending'],
    ['pause', 'paused'],
    ['resume', 'resumed'],
  ] as const) {
    context.action(`/console/:cluster/newsletters/:id/${verb}`, { changes: true, refuse: refuseCampaign }, (here, request, reply) => {
      const campaign = campaignOf(here, request, reply);
      if (!campaign) return reply;
      const actor = consoleActor(here.principal);
      const cluster = clusterOf(here);
      let extra = '';
      try {
        if (verb === 'test') {
          const to = deps.organisers.emailOf(here.principal.organiserId);
          campaigns.sendTest(cluster, campaign.id, to, actor);
          extra = `&to=${encodeURIComponent(to)}`;
        } else if (verb === 'send') campaigns.sendNow(cluster, campaign.id, actor);
        else if (verb === 'pause') campaigns.pause(campaign.id, actor);
        else campaigns.resumeOnServer(campaign.id, actor);
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return showCampaign(reply, here, campaign, { error: problemInWords(error) }, error.statusCode);
      }
      return reply.redirect(`${path(here)}/${campaign.id}?done=${done}${extra}`, 303);
    });
  }
}
