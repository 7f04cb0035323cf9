// Renders every Convene email from structured parts into a plain-text and an HTML body (pure, no I/O).
import { escapeHtml } from './html.js';

export interface EmailAction {
  label: string;
  /** Absolute http(s) address; anything else is refused so no javascript: or data: link can slip in. */
  url: string;
}

export interface EmailParts {
  /** Goes into a header: line breaks are folded into spaces so nobody can inject another header. */
  subject: string;
  greeting?: string;
  /** Each entry is one paragraph; a line break inside one stays a line break. */
  paragraphs: string[];
  action?: EmailAction;
  /** Small print under the message: why the person got it, how to stop it. */
  footer?: string[];
  /** BCP 47 language of the content, for screen readers. */
  lang?: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/**
 * The end of a sentence that may give a reason: ": Venue flooded." with one, "." without; a reason that
 * ends in its own full stop, question or exclamation mark gets no second one.
 */
export function reasonEnding(reason: string | null | undefined): string {
  const text = reason?.trim();
  if (!text) return '.';
  return /[.!?]["')\]]*$/.test(text) ? `: ${text}` : `: ${text}.`;
}

/**
 * Makes a value safe for a single header line: CR, LF and other control characters become one space.
 * Normalising rather than throwing because subjects are often built from names people typed.
 */
export function headerValue(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`email action URL is not absolute: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`email action URL must be http or https, not ${parsed.protocol}`);
  }
  return parsed.href;
}

function lines(value: string): string {
  return value.replace(/\r\n?/g, '\n').trim();
}

function htmlLines(value: string): string {
  return lines(value).split('\n').map(escapeHtml).join('<br>\n');
}

const BODY = 'margin:0;padding:0;background:#f4f4f5;';
const CARD =
  'max-width:600px;margin:0 auto;padding:24px;background:#ffffff;color:#1f2937;' +
  "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;";
const BUTTON =
  'display:inline-block;padding:12px 20px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;';
const SMALL = 'font-size:13px;color:#4b5563;';

export function renderEmail(parts: EmailParts): RenderedEmail {
  const subject = headerValue(parts.subject);
  if (subject === '') throw new Error('email subject is empty');
  const action = parts.action ? { label: lines(parts.action.label), url: checkUrl(parts.action.url) } : undefined;
  const paragraphs = [...(parts.greeting ? [parts.greeting] : []), ...parts.paragraphs].map(lines).filter((p) => p !== '');
  const footer = (parts.footer ?? []).map(lines).filter((l) => l !== '');

  const text: string[] = [...paragraphs];
  if (action) text.push(`${action.label}:\n${action.url}`);
  // "-- " is the conventional signature separator: mail clients dim or fold what follows.
  if (footer.length > 0) text.push(`-- \n${footer.join('\n')}`);

  const html: string[] = [
    '<!doctype html>',
    `<html lang="${escapeHtml(parts.lang ?? 'en')}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head>',
    `<body style="${BODY}">`,
    `<div style="${CARD}">`,
    ...paragraphs.map((p) => `<p>${htmlLines(p)}</p>`),
  ];
  if (action) {
    const href = escapeHtml(action.url);
    html.push(
      `<p style="margin:24px 0;"><a href="${href}" style="${BUTTON}">${htmlLines(action.label)}</a></p>`,
      // Some clients strip styles or block buttons; the bare address keeps the action reachable.
      `<p style="${SMALL}">If the button does not work, copy this address into your browser:<br>\n<a ` +
        `href="${href}">${escapeHtml(action.url)}</a></p>`,
    );
  }
  if (footer.length > 0) {
    html.push(
      '<hr style="border:none;border-top:1px solid #e5e7eb;margin:24px 0;">',
      `<p style="${SMALL}">${footer.map((l) => htmlLines(l)).join('<br>\n')}</p>`,
    );
  }
  html.push('</div>', '</body>', '</html>');

  return { subject, text: `${text.join('\n\n')}\n`, html: `${html.join('\n')}\n` };
}
