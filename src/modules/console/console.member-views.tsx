// The members pages of the console (pure): the list with search, adding one, a CSV upload checked
// before anything is saved, one member's page, and suspending with what it will do said first.
import { ORGANISATION_TYPES, type Booking, type Huddle, type Member } from '../../db/schema.js';
import { ActionForm } from '../../shared/forms.js';
import { dates, messages } from '../../shared/messages.js';
import type { CsvRejection } from '../members/members.types.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

function membersBase(frame: ConsoleFrameData): string {
  return `/console/${frame.current!.clusterSlug}/members`;
}

export function MembersPage(props: {
  frame: ConsoleFrameData;
  q: string;
  status: string;
  rows: Member[];
  more: string | null;
  done?: string | null;
}) {
  const base = membersBase(props.frame);
  return (
    <ConsoleFrame title={m.members} frame={props.frame} section="members" done={props.done}>
      <p>{m.membersIntro}</p>
      {props.frame.current!.role === 'viewer' ? (
        ''
      ) : (
        <ul class="links">
          <li>
            <a href={`${base}/new`}>{m.addMember}</a>
          </li>
          <li>
            <a href={`${base}/import`}>{m.importMembers}</a>
          </li>
        </ul>
      )}
      <form method="get" action={base} class="inline">
        <span>
          <label for="q">{m.search}</label>
          <input id="q" name="q" type="search" value={props.q} maxlength="200" />
        </span>
        <span>
          <label for="status">{m.statusFilter}</label>
          <select id="status" name="status">
            <option value="">{m.anyStatus}</option>
            <option value="active" selected={props.status === 'active'}>
              {m.memberStatuses.active}
            </option>
            <option value="suspended" selected={props.status === 'suspended'}>
              {m.memberStatuses.suspended}
            </option>
          </select>
        </span>
        <button type="submit">{m.auditFilter}</button>
      </form>
      {props.rows.length === 0 ? <p>{m.noMembers}</p> : ''}
      <ul class="cards">
        {props.rows.map((member) => (
          <li>
            <a href={`${base}/${member.id}`} safe>
              {member.name}
            </a>{' '}
            <span safe>{member.email}</span>
            <br />
            <span safe>
              {m.memberLine(member.organisation, m.organisationTypes[member.organisationType], m.memberStatuses[member.status])}
            </span>
          </li>
        ))}
      </ul>
      {props.more ? (
        <p>
          <a href={props.more}>{m.moreMembers}</a>
        </p>
      ) : (
        ''
      )}
    </ConsoleFrame>
  );
}

export interface MemberFormValues {
  email: string;
  name: string;
  organisation: string;
  organisationType: string;
}

/** A labelled field whose error sits next to it, tied to it for screen readers. */
function Field(props: {
  id: keyof MemberFormValues;
  label: string;
  value: string;
  error?: string | undefined;
  type?: string;
  autocomplete?: string;
}) {
  const errorId = `${props.id}-error`;
  return (
    <>
      <label for={props.id} safe>
        {props.label}
      </label>
      {props.error ? (
        <p class="field-error" id={errorId} safe>
          {props.error}
        </p>
      ) : (
        ''
      )}
      <input
        id={props.id}
        name={props.id}
        type={props.type ?? 'text'}
        required
        maxlength={props.type === 'email' ? '254' : '200'}
        value={props.value}
        autocomplete={props.autocomplete}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? errorId : undefined}
      />
    </>
  );
}

export function AddMemberPage(props: {
  frame: ConsoleFrameData;
  values: MemberFormValues;
  errors: Partial<Record<keyof MemberFormValues, string>>;
  error?: string | null;
}) {
  const { values, errors } = props;
  return (
    <ConsoleFrame title={m.addMember} frame={props.frame} section="members" error={props.error}>
      <form method="post" action={membersBase(props.frame)} novalidate>
        <input type="hidden" name="_csrf" value={props.frame.csrf} />
        <Field id="email" label={m.memberEmail} value={values.email} error={errors.email} type="email" autocomplete="off" />
        <Field id="name" label={m.memberName} value={values.name} error={errors.name} autocomplete="off" />
        <Field id="organisation" label={m.memberOrganisation} value={values.organisation} error={errors.organisation} autocomplete="off" />
        <label for="organisationType">{m.memberType}</label>
        <select id="organisationType" name="organisationType">
          {ORGANISATION_TYPES.map((type) => (
            <option value={type} selected={type === values.organisationType}>
              {m.organisationTypes[type]}
            </option>
          ))}
        </select>
        <p>
          <button type="submit">{m.add}</button>
        </p>
      </form>
    </ConsoleFrame>
  );
}

export function ImportPage(props: { frame: ConsoleFrameData; error?: string | null }) {
  return (
    <ConsoleFrame title={m.importMembers} frame={props.frame} section="members" error={props.error}>
      <p>{m.importIntro}</p>
      <form method="post" action={`${membersBase(props.frame)}/import`} enctype="multipart/form-data">
        <input type="hidden" name="_csrf" value={props.frame.csrf} />
        <label for="file">{m.importFile}</label>
        <input id="file" name="file" type="file" accept=".csv,text/csv" required />
        <p>
          <button type="submit">{m.check}</button>
        </p>
      </form>
    </ConsoleFrame>
  );
}

function Rejections(props: { rejected: CsvRejection[] }) {
  if (props.rejected.length === 0) return '';
  return (
    <>
      <p safe>{m.rejectedRows(props.rejected.length)}</p>
      <ul>
        {props.rejected.map((row) => (
          <li safe>{m.rejectedRow(row.line, row.email, row.reason)}</li>
        ))}
      </ul>
    </>
  );
}

/** What the file would do, with the button that does it (the file's text travels with the form). */
export function ImportPreviewPage(props: { frame: ConsoleFrameData; csv: string; imported: number; rejected: CsvRejection[] }) {
  return (
    <ConsoleFrame title={m.importPreviewTitle} frame={props.frame} section="members">
      <p safe>{m.wouldImport(props.imported)}</p>
      <Rejections rejected={props.rejected} />
      {props.imported > 0 ? (
        <form method="post" action={`${membersBase(props.frame)}/import`} enctype="multipart/form-data">
          <input type="hidden" name="_csrf" value={props.frame.csrf} />
          <input type="hidden" name="confirm" value="yes" />
          <input type="hidden" name="csv" value={props.csv} />
          <button type="submit" safe>
            {m.importConfirm(props.imported)}
          </button>
        </form>
      ) : (
        ''
      )}
      <p>
        <a href={`${membersBase(props.frame)}/import`}>{m.importMembers}</a>
      </p>
    </ConsoleFrame>
  );
}

export function ImportDonePage(props: { frame: ConsoleFrameData; imported: number; rejected: CsvRejection[] }) {
  return (
    <ConsoleFrame title={m.members} frame={props.frame} section="members" done={m.imported(props.imported)}>
      <Rejections rejected={props.rejected} />
      <p>
        <a href={membersBase(props.frame)}>{m.members}</a>
      </p>
    </ConsoleFrame>
  );
}

export interface MemberPlans {
  pitches: { booking: Booking; huddle: Huddle }[];
  places: { huddle: Huddle }[];
}

export function MemberPage(props: { frame: ConsoleFrameData; member: Member; zone: string; done?: string | null; error?: string | null }) {
  const { member } = props;
  const base = `${membersBase(props.frame)}/${member.id}`;
  const organiser = props.frame.current!.role !== 'viewer';
  return (
    <ConsoleFrame title={member.name} frame={props.frame} section="members" done={props.done} error={props.error}>
      <dl class="facts">
        <dt>{m.memberEmail}</dt>
        <dd safe>{member.email}</dd>
        <dt>{m.memberOrganisation}</dt>
        <dd safe>{`${member.organisation} (${m.organisationTypes[member.organisationType]})`}</dd>
        <dt>{m.statusFilter}</dt>
        <dd>{m.memberStatuses[member.status]}</dd>
      </dl>
      <p class="note" safe>
        {m.memberSince(dates.day(member.createdAt, props.zone))}
      </p>
      {!organiser ? (
        ''
      ) : member.status === 'active' ? (
        <p>
          <a class="button" href={`${base}/suspend`}>
            {m.suspend}
          </a>
        </p>
      ) : (
        <ActionForm action={`${base}/reactivate`} csrf={props.frame.csrf} button={m.reactivate} />
      )}
      <p>
        <a href={membersBase(props.frame)}>{m.members}</a>
      </p>
    </ConsoleFrame>
  );
}

/** The confirmation step: what suspending will do to this member's plans, before it does it. */
export function SuspendPage(props: { frame: ConsoleFrameData; member: Member; plans: MemberPlans }) {
  const { member, plans } = props;
  return (
    <ConsoleFrame title={m.suspendTitle(member.name)} frame={props.frame} section="members">
      <p>{m.suspendIntro}</p>
      <ul>
        <li>
          <span safe>{m.suspendPitches(plans.pitches.length)}</span>
          {plans.pitches.length > 0 ? (
            <ul>
              {plans.pitches.map(({ booking, huddle }) => (
                <li safe>{m.pitchAt(booking.title, huddle.title)}</li>
              ))}
            </ul>
          ) : (
            ''
          )}
        </li>
        <li>
          <span safe>{m.suspendPlaces(plans.places.length)}</span>
          {plans.places.length > 0 ? (
            <ul>
              {plans.places.map(({ huddle }) => (
                <li safe>{huddle.title}</li>
              ))}
            </ul>
          ) : (
            ''
          )}
        </li>
        <li>{m.suspendSessions}</li>
      </ul>
      <ActionForm
        action={`${membersBase(props.frame)}/${member.id}/suspend`}
        csrf={props.frame.csrf}
        button={m.suspendConfirm(member.name)}
      />
      <p>
        <a href={`${membersBase(props.frame)}/${member.id}`} safe>
          {m.keepActive(member.name)}
        </a>
      </p>
    </ConsoleFrame>
  );
}
