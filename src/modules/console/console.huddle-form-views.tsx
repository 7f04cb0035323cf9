// The huddle form (pure): a new huddle or series, or a change to one; local day and time in the
// cluster's zone; the pitch settings with their rules beside them; every occurrence of a series in
// words before saving (those moved by a clock change or left out marked); and the booking guard's
// "this moves N booked pitches" as a button to confirm.
import type { Huddle } from '../../db/schema.js';
import { dates, messages } from '../../shared/messages.js';
import type { Adjustment } from '../huddles/huddles.recurrence.js';
import { weekdayInWords, type FieldErrors, type HuddleFormValues } from './console.huddle-form.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;
const f = m.form;

/** A labelled input with an optional hint and its error, both tied to it for screen readers. */
function Input(props: {
  name: keyof HuddleFormValues;
  label: string;
  values: HuddleFormValues;
  errors: FieldErrors;
  type?: string;
  hint?: string;
  required?: boolean;
  inputmode?: string;
}) {
  const error = props.errors[props.name];
  const described = [props.hint ? `${props.name}-hint` : '', error ? `${props.name}-error` : ''].filter(Boolean).join(' ');
  return (
    <>
      <label for={props.name} safe>
        {props.label}
      </label>
      {props.hint ? (
        <p class="note" id={`${props.name}-hint`} safe>
          {props.hint}
        </p>
      ) : (
        ''
      )}
      {error ? (
        <p class="field-error" id={`${props.name}-error`} safe>
          {error}
        </p>
      ) : (
        ''
      )}
      <input
        id={props.name}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.values[props.name] as string}
        required={props.required}
        inputmode={props.inputmode}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
    </>
  );
}

function NumberInput(props: Omit<Parameters<typeof Input>[0], 'type' | 'inputmode'>) {
  return <Input {...props} inputmode="numeric" />;
}

export interface SeriesPreviewData {
  starts: Date[];
  adjustments: Adjustment[];
  zone: string;
}

export interface HuddleFormPageData {
  frame: ConsoleFrameData;
  /** null: a new huddle or series; a huddle: a change to it. */
  huddle: Huddle | null;
  values: HuddleFormValues;
  errors: FieldErrors;
  zone: string;
  themes: string[];
  preview?: SeriesPreviewData | null;
  /** The change would move this many booked pitches: say so, and offer to save and move them. */
  movesPitches?: number | null;
  scope?: 'this' | 'following';
  error?: string | null;
}

function Preview(props: { preview: SeriesPreviewData }) {
  const { preview } = props;
  const moved = new Set(preview.adjustments.filter((a) => a.kind === 'moved').map((a) => a.startsAt));
  return (
    <section aria-labelledby="preview" class="done">
      <h2 id="preview" safe>
        {f.previewTitle(preview.starts.length)}
      </h2>
      <ol>
        {preview.starts.map((start) => {
          const local = dates.moment(start, preview.zone);
          const isMoved = [...moved].some((at) => at !== null && new Date(at).getTime() === start.getTime());
          return (
            <li>
              <span safe>{local}</span>
              {isMoved ? <span class="tag">{f.movedMark}</span> : ''}
            </li>
          );
        })}
      </ol>
      {preview.adjustments.length > 0 ? (
        <ul>
          {preview.adjustments.map((adjustment) => (
            <li safe>
              {adjustment.kind === 'moved'
                ? f.moved(adjustment.requested.replace('T', ' '), (adjustment.startsAt ?? '').replace('T', ' '))
                : f.dropped(adjustment.requested.replace('T', ' '), adjustment.detail)}
            </li>
          ))}
        </ul>
      ) : (
        ''
      )}
    </section>
  );
}

export function HuddleFormPage(d: HuddleFormPageData) {
  const { values, errors, huddle } = d;
  const base = `/console/${d.frame.current!.clusterSlug}`;
  const action = huddle ? `${base}/huddles/${huddle.id}/edit` : `${base}/huddles/new`;
  const weekday = weekdayInWords(values.date);
  const repeats: [string, string][] = [
    ['none', f.repeatNone],
    ['weekly', f.repeatWeekly],
    ['monthly-day', f.repeatMonthlyDay],
    ['monthly-weekday', weekday ? f.repeatMonthlyWeekday(weekday) : f.repeatMonthlyWeekdayPlain],
  ];
  return (
    <ConsoleFrame title={huddle ? m.editHuddle(huddle.title) : m.newHuddle} frame={d.frame} section="dashboard" error={d.error}>
      {d.preview ? <Preview preview={d.preview} /> : ''}
      <form method="post" action={action} novalidate>
        <input type="hidden" name="_csrf" value={d.frame.csrf} />
        {d.movesPitches ? (
          <section class="error" role="alert">
            <p safe>{f.movesPitches(d.movesPitches)}</p>
            <button type="submit" name="bookings" value="move">
              {f.moveAndSave}
            </button>
          </section>
        ) : (
          ''
        )}
        <fieldset>
          <legend>{f.about}</legend>
          <Input name="title" label={f.title} values={values} errors={errors} required />
          <label for="description">{f.description}</label>
          <textarea id="description" name="description" rows="4" safe>
            {values.description}
          </textarea>
          {d.themes.length > 0 ? (
            <fieldset>
              <legend>{f.themes}</legend>
              {d.themes.map((theme, index) => (
                <label class="choice">
                  <input type="checkbox" name="themes" value={theme} id={`theme-${index}`} checked={values.themes.includes(theme)} />{' '}
                  <span safe>{theme}</span>
                </label>
              ))}
            </fieldset>
          ) : (
            ''
          )}
        </fieldset>
        <fieldset>
          <legend>{f.when}</legend>
          <p class="note" safe>
            {f.whenHint(d.zone)}
          </p>
          <Input name="date" label={f.date} values={values} errors={errors} type="date" required />
          <Input name="time" label={f.time} values={values} errors={errors} type="time" required />
          <NumberInput name="duration" label={f.duration} values={values} errors={errors} required />
          {huddle ? (
            huddle.seriesId ? (
              <fieldset>
                <legend>{f.scope}</legend>
                <label class="choice">
                  <input type="radio" name="scope" value="this" id="scope-this" checked={d.scope !== 'following'} /> {f.scopeThis}
                </label>
                <label class="choice">
                  <input type="radio" name="scope" value="following" id="scope-following" checked={d.scope === 'following'} />{' '}
                  {f.scopeFollowing}
                </label>
              </fieldset>
            ) : (
              ''
            )
          ) : (
            <fieldset>
              <legend>{f.repeat}</legend>
              {repeats.map(([value, label]) => (
                <label class="choice">
                  <input type="radio" name="repeat" value={value} id={`repeat-${value}`} checked={values.repeat === value} />{' '}
                  <span safe>{label}</span>
                </label>
              ))}
              {errors.repeat ? (
                <p class="field-error" safe>
                  {errors.repeat}
                </p>
              ) : (
                ''
              )}
              <NumberInput name="interval" label={f.interval} values={values} errors={errors} />
              <NumberInput name="count" label={f.count} values={values} errors={errors} />
            </fieldset>
          )}
        </fieldset>
        <fieldset>
          <legend>{f.where}</legend>
          <p class="note">{f.whereHint}</p>
          <Input name="venueName" label={f.venueName} values={values} errors={errors} />
          <label for="venueAddress">{f.venueAddress}</label>
          <textarea id="venueAddress" name="venueAddress" rows="2" safe>
            {values.venueAddress}
          </textarea>
          <Input name="onlineUrl" label={f.onlineUrl} values={values} errors={errors} type="url" />
          <NumberInput name="capacity" label={f.capacity} values={values} errors={errors} />
        </fieldset>
        <fieldset>
          <legend>{f.pitches}</legend>
          <NumberInput name="slotCount" label={f.slotCount} values={values} errors={errors} hint={f.slotsHint} />
          <NumberInput name="slotMinutes" label={f.slotMinutes} values={values} errors={errors} />
          <NumberInput name="changeoverMinutes" label={f.changeoverMinutes} values={values} errors={errors} />
          <NumberInput name="startOffsetMinutes" label={f.startOffsetMinutes} values={values} errors={errors} />
          <NumberInput name="opensDaysBefore" label={f.opensDaysBefore} values={values} errors={errors} hint={f.bookingHint} />
          <NumberInput name="closesHoursBefore" label={f.closesHoursBefore} values={values} errors={errors} />
          <NumberInput name="cutoffHours" label={f.cutoffHours} values={values} errors={errors} />
          <label class="choice">
            <input type="checkbox" name="approvalRequired" value="yes" id="approvalRequired" checked={values.approvalRequired} />{' '}
            {f.approvalRequired}
          </label>
        </fieldset>
        <p>
          {huddle ? (
            <button type="submit">{f.save}</button>
          ) : (
            <>
              <button type="submit" name="intent" value="preview" class="secondary">
                {f.preview}
              </button>{' '}
              <button type="submit" name="intent" value="draft" class="secondary">
                {f.saveDraft}
              </button>{' '}
              <button type="submit" name="intent" value="publish">
                {f.publish}
              </button>
            </>
          )}
        </p>
      </form>
    </ConsoleFrame>
  );
}

/** The cancellation's confirmation step: who will be told, the reason to send them. */
export function CancelHuddlePage(props: {
  frame: ConsoleFrameData;
  huddle: Huddle;
  told: { pitchers: number; attendees: number; invited: number };
  reason: string;
  error?: string | null;
}) {
  const { huddle, told } = props;
  const base = `/console/${props.frame.current!.clusterSlug}/huddles/${huddle.id}`;
  return (
    <ConsoleFrame title={m.cancelTitle(huddle.title)} frame={props.frame} section="dashboard">
      <p safe>{m.cancelWhoIsTold(told.pitchers, told.attendees, told.invited)}</p>
      <form method="post" action={`${base}/cancel`} novalidate>
        <input type="hidden" name="_csrf" value={props.frame.csrf} />
        {huddle.seriesId ? (
          <fieldset>
            <legend>{f.scope}</legend>
            <p class="note">{m.cancelFollowingNote}</p>
            <label class="choice">
              <input type="radio" name="scope" value="this" id="scope-this" checked /> {f.scopeThis}
            </label>
            <label class="choice">
              <input type="radio" name="scope" value="following" id="scope-following" /> {f.scopeFollowing}
            </label>
          </fieldset>
        ) : (
          ''
        )}
        <label for="reason">{m.cancelReason}</label>
        {props.error ? (
          <p class="field-error" id="reason-error" safe>
            {props.error}
          </p>
        ) : (
          ''
        )}
        <textarea
          id="reason"
          name="reason"
          rows="3"
          required
          aria-invalid={props.error ? 'true' : undefined}
          aria-describedby={props.error ? 'reason-error' : undefined}
          safe
        >
          {props.reason}
        </textarea>
        <p>
          <button type="submit">{m.cancelConfirm}</button> <a href={base}>{m.keepHuddle}</a>
        </p>
      </form>
    </ConsoleFrame>
  );
}
