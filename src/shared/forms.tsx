// Form fields the pages share (pure): a labelled input whose error, in words, sits next to it and is
// tied to it for screen readers; the value typed is kept when the form comes back with an error.

export function EmailField(props: { label: string; value: string; error?: string | undefined }) {
  return (
    <>
      <label for="email" safe>
        {props.label}
      </label>
      {props.error ? (
        <p class="field-error" id="email-error" safe>
          {props.error}
        </p>
      ) : (
        ''
      )}
      <input
        id="email"
        name="email"
        type="email"
        autocomplete="email"
        required
        maxlength="254"
        value={props.value}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? 'email-error' : undefined}
      />
    </>
  );
}

/** A form that POSTs its hidden fields with one button: how a page changes anything (a GET never does). */
export function ButtonForm(props: { action: string; hidden: Record<string, string>; button: string; secondary?: boolean; label?: string }) {
  return (
    <form method="post" action={props.action} class="action">
      {Object.entries(props.hidden).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.secondary ? 'secondary' : undefined} aria-label={props.label} safe>
        {props.button}
      </button>
    </form>
  );
}

/** A form with one button, for a signed-in page: POST with the CSRF token. */
export function ActionForm(props: { action: string; csrf: string; button: string; secondary?: boolean; label?: string }) {
  return (
    <ButtonForm
      action={props.action}
      hidden={{ _csrf: props.csrf }}
      button={props.button}
      secondary={props.secondary}
      label={props.label}
    />
  );
}
