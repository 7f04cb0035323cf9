// A newsletter rendered once (Markdown to safe HTML and to plain text), then finished per recipient with
// only their own links and headers (pure). A newsletter with merge fields ({{first_name|there}}) is
// rendered again for each recipient, with their values escaped so that a name cannot become markup.
import MarkdownIt from 'markdown-it';
import { headerValue } from '../../lib/email-layout.js';
import { escapeHtml } from '../../lib/html.js';
import { makeLinksAbsolute } from './campaigns.links.js';
import { plainText } from './campaigns.text.js';

// html: false escapes any HTML in the Markdown, so the output holds only what Markdown makes;
// markdown-it also refuses javascript:, vbscript: and data: links (except images).
// Made on the first render, not at start-up: building it (linkify's patterns) takes a while.
let markdown: MarkdownIt | undefined;
const markdownIt = () => (markdown ??= new MarkdownIt({ html: false, linkify: true, typographer: false }));

export interface RenderedCampaign {
  subject: string;
  /** The HTML document up to the footer, and after it: the footer is the only per-recipient part. */
  htmlHead: string;
  htmlTail: string;
  /** The body alone as HTML (Markdown rendered with raw HTML escaped; with merge fields, a sample reader's copy): for a page to preview. */
  bodyHtml: string;
  text: string;
  clusterName: string;
  listId: string;
  /** What a dry run reports: an empty subject or body, links that are not full addresses, images not over https. */
  problems: string[];
  /** The problems a send refuses (a subset of problems): an empty subject or body, a link that cannot be made absolute, an unknown merge field. */
  blocking: string[];
  /** Set when the subject or body has merge fields: what each recipient's copy is rendered from. */
  personal: { subject: string; markdown: string; baseUrl: string } | null;
}

/** The merge fields a newsletter may use, and what each becomes. */
export const MERGE_FIELDS = {
  name: "the subscriber's name as they gave it",
  first_name: 'the first word of their name',
  cluster: "the cluster's name",
  preferences_url: 'their own link to choose what they receive',
  unsubscribe_url: 'their own link to unsubscribe',
} as const;
type MergeField = keyof typeof MERGE_FIELDS;

/** {{field}} or {{field|fallback}}: the fallback is used when the value is empty. */
const MERGE_FIELD = /\{\{\s*([A-Za-z_]+)\s*(?:\|([^{}]*))?\}\}/g;

/** Anything written as a field: {{...}} with no braces inside. */
const ANY_FIELD = /\{\{[^{}]*\}\}/g;

/**
 * What a text writes as a merge field but is not one, as written ("{{frist_name}}", "{{first-name}}"),
 * once each: it would otherwise go out exactly as typed.
 */
export function unknownMergeFields(text: string): string[] {
  const unknown = new Set<string>();
  for (const [written] of text.matchAll(ANY_FIELD)) {
    const field = new RegExp(`^${MERGE_FIELD.source}$`).exec(written);
    if (!field || !(field[1]! in MERGE_FIELDS)) unknown.add(field ? `{{${field[1]}}}` : written);
  }
  return [...unknown];
}

/** Markdown's punctuation escaped with backslashes, so a value is text and never markup. */
export function markdownText(value: string): string {
  return value.replace(/[\\`*_{}[\]()#+\-.!|<>&~"':]/g, '\\$&').replace(/\r?\n/g, ' ');
}

/** `text` with each merge field replaced by `values` (through `escape`), or its fallback when the value is empty. */
function merge(text: string, values: Record<MergeField, string>, escape: (value: string, field: MergeField) => string): string {
  return text.replace(MERGE_FIELD, (whole, field: string, fallback: string | undefined) => {
    if (!(field in MERGE_FIELDS)) return whole;
    const value = values[field as MergeField].trim();
    return escape(value !== '' ? value : (fallback ?? '').trim(), field as MergeField);
  });
}

/** Our own links go in as they are (markdown-it reads them as links); people's words, escaped. */
const URL_FIELDS: ReadonlySet<MergeField> = new Set(['preferences_url', 'unsubscribe_url']);

export interface RecipientLinks {
  unsubscribeUrl: string;
  preferencesUrl: string;
  /** The mailto unsubscribe address (RETURN_PATH_DOMAIN set: replies there are read). */
  unsubscribeMailto?: string;
}

const SAMPLE_LINKS = (baseUrl: string): RecipientLinks => ({
  preferencesUrl: `${baseUrl}/preferences?token=sample`,
  unsubscribeUrl: `${baseUrl}/unsubscribe?token=sample`,
});

/** One reader's subject and body: the merge fields filled in with their values. */
function personalise(
  personal: NonNullable<RenderedCampaign['personal']>,
  clusterName: string,
  links: RecipientLinks,
  personName: string | null,
) {
  const name = (personName ?? '').trim();
  const values: Record<MergeField, string> = {
    name,
    first_name: name.split(/\s+/)[0] ?? '',
    cluster: clusterName,
    preferences_url: links.preferencesUrl,
    unsubscribe_url: links.unsubscribeUrl,
  };
  const subject = headerValue(merge(personal.subject, values, (value) => value));
  const markdown = merge(personal.markdown, values, (value, field) => (URL_FIELDS.has(field) ? value : markdownText(value)));
  return { subject, body: renderBody(markdown, personal.baseUrl) };
}

const CARD =
  'max-width:640px;margin:0 auto;padding:24px;background:#ffffff;color:#1f2937;' +
  "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.55;";
const SMALL = 'font-size:13px;color:#4b5563;';

/** The rendered body of a newsletter and what is wrong with its links. */
function renderBody(source: string, baseUrl: string) {
  const md = markdownIt();
  const env = {};
  const tokens = md.parse(source, env);
  const linkProblems = makeLinksAbsolute(tokens, baseUrl);
  return { html: md.renderer.render(tokens, md.options, env), text: plainText(tokens), linkProblems };
}

function htmlHeadOf(subject: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f4f4f5;">',
    `<div style="${CARD}">`,
    body,
    '<hr style="border:0;border-top:1px solid #e5e7eb;margin:24px 0;">',
  ].join('\n');
}

export function renderCampaign(input: {
  subject: string;
  markdown: string;
  clusterName: string;
  listId: string;
  /** PUBLIC_BASE_URL: a link written as a path (/c/north-west) is made absolute against its origin. */
  baseUrl: string;
}): RenderedCampaign {
  const subject = headerValue(input.subject);
  const source = input.markdown.replace(/\r\n?/g, '\n').trim();
  const blocking: string[] = [];
  if (subject === '') blocking.push('the subject is empty');
  if (source === '') blocking.push('the body is empty');
  const unknown = unknownMergeFields(`${subject}\n${source}`);
  if (unknown.length > 0) {
    blocking.push(
      `unknown merge field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${Object.keys(MERGE_FIELDS).join(', ')})`,
    );
  }
  const personal = `${subject}\n${source}`.search(MERGE_FIELD) !== -1 ? { subject, markdown: source, baseUrl: input.baseUrl } : null;
  // With merge fields, the links are checked (and the shared copy made) with a reader's values in place.
  const sample = personal ? personalise(personal, input.clusterName, SAMPLE_LINKS(input.baseUrl), 'Sample Reader') : null;
  const body = sample ? sample.body : renderBody(source, input.baseUrl);
  blocking.push(...body.linkProblems);
  const problems = [...blocking];
  if (/<img [^>]*src="(?!https:)/.test(body.html)) problems.push('an image is not served over https; mail apps may block it');
  return {
    subject,
    bodyHtml: body.html,
    htmlHead: htmlHeadOf(subject, body.html),
    htmlTail: ['</div>', '</body>', '</html>', ''].join('\n'),
    text: body.text,
    clusterName: input.clusterName,
    listId: input.listId,
    problems,
    blocking,
    personal,
  };
}

/** The message for one recipient: the shared body (or, with merge fields, their own) with their links. */
export function forRecipient(campaign: RenderedCampaign, links: RecipientLinks, person: { name: string | null } = { name: null }) {
  let { subject, htmlHead, text } = campaign;
  if (campaign.personal) {
    const copy = personalise(campaign.personal, campaign.clusterName, links, person.name);
    subject = copy.subject;
    htmlHead = htmlHeadOf(subject, copy.body.html);
    text = copy.body.text;
  }
  const why = `You receive this because you subscribed to ${campaign.clusterName} emails.`;
  const footerHtml =
    `<p style="${SMALL}">${escapeHtml(why)} <a href="${escapeHtml(links.preferencesUrl)}">Choose what you ` +
    `receive</a> or <a href="${escapeHtml(links.unsubscribeUrl)}">unsubscribe</a>.</p>`;
  return {
    subject,
    text: `${text}\n\n-- \n${why}\nChoose what you receive: ${links.preferencesUrl}\nUnsubscribe: ${links.unsubscribeUrl}\n`,
    html: htmlHead + footerHtml + '\n' + campaign.htmlTail,
    headers: {
      // The https address, POSTed as RFC 8058 one-click; a mailto: only when replies to it are read
      // (RETURN_PATH_DOMAIN), since a request nobody acts on is worse than none.
      'List-Unsubscribe': links.unsubscribeMailto
        ? `<${links.unsubscribeUrl}>, <mailto:${links.unsubscribeMailto}?subject=unsubscribe>`
        : `<${links.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `${headerValue(campaign.clusterName).replace(/[<>"]/g, '')} <${campaign.listId}>`,
      Precedence: 'bulk',
    },
  };
}
