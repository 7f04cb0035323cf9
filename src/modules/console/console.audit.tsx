// The audit log in the console: `/console/{cluster}/audit`, filtered by who, what and when (a GET form:
// the filter is in the address, so a view can be bookmarked or sent), newest first, a page at a time.
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { isAppError } from '../../errors.js';
import { dates, messages } from '../../shared/messages.js';
import { problemInWords } from '../../shared/pages.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { ConsoleContext } from './console.context.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;
const PAGE = 50;

/** The filter as typed in the form (kept to show it again). */
interface AuditForm {
  actor: string;
  action: string;
  from: string;
  to: string;
}

type AuditRow = ReturnType<AuditService['list']>['items'][number];

/** "status pending, slot 3": a change's fields as a person reads them (nested values as JSON). */
function compact(value: Record<string, unknown> | null): string {
  if (!value) return '';
  return Object.entries(value)
    .map(([key, field]) => `${key} ${typeof field === 'string' ? field : JSON.stringify(field)}`)
    .join(', ');
}

function AuditPage(props: {
  frame: ConsoleFrameData;
  form: AuditForm;
  actions: string[];
  rows: AuditRow[];
  zone: string;
  older: string | null;
  error: string | null;
}) {
  const { form } = props;
  return (
    <ConsoleFrame title={m.audit} frame={props.frame} section="audit" error={props.error}>
      <p>{m.auditIntro}</p>
      <form method="get" action={`/console/${props.frame.current!.clusterSlug}/audit`} class="inline">
        <span>
          <label for="actor">{m.auditWho}</label>
          <input id="actor" name="actor" type="search" value={form.actor} maxlength="200" />
        </span>
        <span>
          <label for="action">{m.auditWhat}</label>
          <select id="action" name="action">
            <option value="">{m.auditAnything}</option>
            {props.actions.map((action) => (
              <option value={action} selected={action === form.action} safe>
                {action}
              </option>
            ))}
          </select>
        </span>
        <span>
          <label for="from">{m.auditFrom}</label>
          <input id="from" name="from" type="date" value={form.from} />
        </span>
        <span>
          <label for="to">{m.auditTo}</label>
          <input id="to" name="to" type="date" value={form.to} />
        </span>
        <button type="submit">{m.auditFilter}</button>
      </form>
      {props.rows.length === 0 ? <p>{m.auditNone}</p> : ''}
      <ol class="cards">
        {props.rows.map((row) => (
          <li>
            <strong safe>{row.action}</strong>
            <br />
            <span safe>
              {m.auditLine(
                dates.moment(row.at, props.zone),
                row.actorLabel ?? m.actorTypes[row.actorType as keyof typeof m.actorTypes] ?? row.actorType,
              )}
            </span>
            <p class="slot" safe>
              {m.auditTarget(row.targetType, row.targetId ?? '')}
            </p>
            {row.before || row.after ? (
              <p class="slot" safe>
                {row.before ? m.auditChanged(compact(row.before), compact(row.after)) : m.auditAfter(compact(row.after))}
              </p>
            ) : (
              ''
            )}
          </li>
        ))}
      </ol>
      {props.older ? (
        <p>
          <a href={props.older}>{m.auditOlder}</a>
        </p>
      ) : (
        ''
      )}
    </ConsoleFrame>
  );
}

/** A day typed as YYYY-MM-DD, as the instant it starts in the cluster's zone; null if it is no such day. */
function dayStart(day: string, zone: string): Date | null {
  if (!/^\d{4}-\d\d-\d\d$/.test(day)) return null;
  const start = DateTime.fromISO(day, { zone });
  return start.isValid ? start.toJSDate() : null;
}

export function consoleAuditRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: { audit: AuditService; clusters: ClustersService },
) {
  app.get('/console/:cluster/audit', { schema: { hide: true } }, async (request, reply) => {
    const here = context.inCluster(request, reply);
    if (!here) return reply;
    const query = request.query as Record<string, unknown>;
    const text = (name: string, max: number) => (typeof query[name] === 'string' ? (query[name] as string).trim().slice(0, max) : '');
    const form: AuditForm = { actor: text('actor', 200), action: text('action', 60), from: text('from', 10), to: text('to', 10) };
    const cursor = text('cursor', 200);
    const zone = deps.clusters.getById(here.principal.clusterId).timezone;
    const from = form.from ? dayStart(form.from, zone) : undefined;
    const toDay = form.to ? dayStart(form.to, zone) : undefined;
    const to = toDay ? DateTime.fromJSDate(toDay, { zone }).plus({ days: 1 }).toJSDate() : toDay;
    const actions = deps.audit.actions(here.principal.clusterId);
    const action = actions.includes(form.action) ? form.action : undefined;
    if (from === null || to === null) {
      return context
        .noStore(reply)
        .code(400)
        .html(<AuditPage frame={here.frame} form={form} actions={actions} rows={[]} zone={zone} older={null} error={m.auditBadDay} />);
    }
    let page;
    try {
      page = deps.audit.list(here.principal.clusterId, {
        limit: PAGE,
        ...(cursor ? { cursor } : {}),
        ...(form.actor ? { actor: form.actor } : {}),
        ...(action ? { action } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      });
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      return context
        .noStore(reply)
        .code(error.statusCode)
        .html(
          <AuditPage frame={here.frame} form={form} actions={actions} rows={[]} zone={zone} older={null} error={problemInWords(error)} />,
        );
    }
    const older = page.nextCursor ? `?${new URLSearchParams({ ...form, cursor: page.nextCursor }).toString()}` : null;
    return context
      .noStore(reply)
      .html(<AuditPage frame={here.frame} form={form} actions={actions} rows={page.items} zone={zone} older={older} error={null} />);
  });
}
