// A newsletter rendered once (Markdown to safe HTML and to plain text), then finished per recipient with
// only their own links and headers (pure).
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
  text: string;
  clusterName: string;
  listId: string;
  /** What a dry run reports: an empty subject or body, links that are not full addresses, images not over https. */
  problems: string[];
  /** The problems a send refuses (a subset of problems): an empty subject or body, a link that cannot be made absolute. */
  blocking: string[];
}

export interface RecipientLinks {
  unsubscribeUrl: string;
  preferencesUrl: string;
}

const CARD =
  'max-width:640px;margin:0 auto;padding:24px;background:#ffffff;color:#1f2937;' +
  "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.55;";
const SMALL = 'font-size:13px;color:#4b5563;';

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
  const md = markdownIt();
  const env = {};
  const tokens = md.parse(source, env);
  blocking.push(...makeLinksAbsolute(tokens, input.baseUrl));
  const body = md.renderer.render(tokens, md.options, env);
  const problems = [...blocking];
  if (/<img [^>]*src="(?!https:)/.test(body)) problems.push('an image is not served over https; mail apps may block it');
  const htmlHead = [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f4f4f5;">',
    `<div style="${CARD}">`,
    body,
    '<hr style="border:0;border-top:1px solid #e5e7eb;margin:24px 0;">',
  ].join('\n');
  const htmlTail = ['</div>', '</body>', '</html>', ''].join('\n');
  return { subject, htmlHead, htmlTail, text: plainText(tokens), clusterName: input.clusterName, listId: input.listId, problems, blocking };
}

/** The message for one recipient: the shared body with their unsubscribe and preferences links. */
export function forRecipient(campaign: RenderedCampaign, links: RecipientLinks) {
  const why = `You receive this because you subscribed to ${campaign.clusterName} emails.`;
  const footerHtml =
    `<p style="${SMALL}">${escapeHtml(why)} <a href="${escapeHtml(links.preferencesUrl)}">Choose what you ` +
    `receive</a> or <a href="${escapeHtml(links.unsubscribeUrl)}">unsubscribe</a>.</p>`;
  return {
    subject: campaign.subject,
    text: `${campaign.text}\n\n-- \n${why}\nChoose what you receive: ${links.preferencesUrl}\nUnsubscribe: ${links.unsubscribeUrl}\n`,
    html: campaign.htmlHead + footerHtml + '\n' + campaign.htmlTail,
    headers: {
      // The https address only, POSTed as RFC 8058 one-click: a mailto: would go to MAIL_FROM, which
      // nothing reads, and a request nobody acts on is worse than none.
      'List-Unsubscribe': `<${links.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `${headerValue(campaign.clusterName).replace(/[<>"]/g, '')} <${campaign.listId}>`,
      Precedence: 'bulk',
    },
  };
}
