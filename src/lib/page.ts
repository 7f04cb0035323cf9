// What every page uses outside its frame (pure): the one stylesheet, and reading submitted form fields.
import type { FastifyRequest } from 'fastify';

/** Served at /assets/convene.css; pages link to it because the content security policy forbids inline styles. */
export const PAGE_CSS = `
:root { color-scheme: light dark; }
body {
  margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  background: Canvas; color: CanvasText;
}
main { max-width: 36rem; margin: 0 auto; padding: 2rem 1.25rem; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; line-height: 1.25; }
button {
  font: inherit; font-weight: 600; padding: 0.7rem 1.3rem; border: 0; border-radius: 6px;
  background: #1d4ed8; color: #fff; cursor: pointer;
}
button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
label { display: block; font-weight: 600; margin: 1rem 0 0.3rem; }
input[type=email], input[type=text], input[type=number], input[type=search] { font: inherit; width: 100%; box-sizing: border-box; padding: 0.5rem; }
textarea { font: inherit; width: 100%; box-sizing: border-box; padding: 0.5rem; }
fieldset { border: 1px solid GrayText; border-radius: 6px; margin: 1rem 0; }
.secret {
  font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all;
  padding: 0.75rem; border: 1px solid GrayText; border-radius: 6px;
}
.note { font-size: 0.9rem; }
.error { border-left: 4px solid #b91c1c; padding-left: 0.75rem; }
a { color: LinkText; }
a:visited { color: VisitedText; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; padding: 0.5rem; background: Canvas; }
footer { max-width: 36rem; margin: 0 auto; padding: 1rem 1.25rem 2rem; border-top: 1px solid GrayText; }
.cards { list-style: none; padding: 0; }
.cards li { border: 1px solid GrayText; border-radius: 6px; padding: 0.75rem; margin: 0.5rem 0; }
.cards li.cancelled a { text-decoration: line-through; }
.tag { margin-left: 0.5rem; font-size: 0.85rem; color: #b91c1c; }
.links li { margin: 0.3rem 0; }
.facts dt { font-weight: 600; margin-top: 0.5rem; }
.facts dd { margin: 0; }
.description { white-space: pre-line; }
.crumb { margin: 0; }
.agenda li { margin: 0.4rem 0; }
.slot { font-size: 0.9rem; }
.agenda .summary { margin: 0.2rem 0 0; white-space: pre-line; }
a.button {
  display: inline-block; font-weight: 600; padding: 0.7rem 1.3rem; border-radius: 6px;
  background: #1d4ed8; color: #fff; text-decoration: none;
}
select { font: inherit; padding: 0.4rem; }
form.inline { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: end; margin-bottom: 1rem; }
form.inline label { margin: 0; }
label.choice { font-weight: normal; margin: 0.3rem 0; }
.field-error { color: #b91c1c; font-weight: 600; margin: 0.2rem 0; }
button.secondary { background: transparent; color: CanvasText; border: 2px solid currentColor; padding: calc(0.7rem - 2px) calc(1.3rem - 2px); }
form.action { display: inline-block; margin: 0.4rem 0.5rem 0 0; }
.done { border-left: 4px solid #15803d; padding-left: 0.75rem; }
body > header { max-width: 36rem; margin: 0 auto; padding: 1rem 1.25rem 0; }
.console-nav { border-bottom: 1px solid GrayText; padding-bottom: 0.5rem; }
.console-nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; padding: 0; margin: 0.4rem 0; }
.console-nav a[aria-current=page] { font-weight: 700; text-decoration-thickness: 3px; }
.facts.inline { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 0.1rem 0.75rem; }
.facts.inline dt { margin: 0; }
iframe.email-preview { width: 100%; height: 32rem; border: 1px solid GrayText; border-radius: 6px; }
pre { white-space: pre-wrap; }
.email-body { border: 1px solid GrayText; border-radius: 6px; padding: 0 1rem; }
figure { margin: 1.5rem 0; }
figcaption { font-weight: 600; margin-bottom: 0.4rem; }
svg.chart { max-width: 100%; height: auto; }
.hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
@media print {
  footer, .skip, form, .no-print, .crumb { display: none; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  .agenda li { break-inside: avoid; }
}
`.trim();

/** One field of a submitted form (the first, when a name came twice). */
export function formField(request: FastifyRequest, name: string): string | undefined {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** Every value of a form field that may come several times (checkboxes). */
export function formFields(request: FastifyRequest, name: string): string[] {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
