// What a message that came back says (pure, given the bytes): a delivery status notification (RFC 3464),
// an abuse report (ARF, RFC 5965), or any other mail to a return-path address (an old-style bounce, an
// auto-reply, a reply to the mailto unsubscribe). mailparser reads the MIME; the report fields are
// read here, from every part that can hold them, since mail servers disagree on how they wrap them.
import type { AddressObject } from 'mailparser';
import type { ReturnAddress } from '../../shared/return-path.js';
import type { Finding } from './bounces.types.js';

/** One recipient's block of a DSN. */
export interface DeliveryStatus {
  recipient: string | null;
  /** failed, delayed, delivered, relayed or expanded */
  action: string;
  /** The enhanced status code (5.1.1), or null. */
  status: string | null;
  diagnostic: string | null;
}

export interface Report {
  /** The addresses it was sent to: the envelope's (when known), then Delivered-To, X-Original-To, To. */
  addressedTo: string[];
  /** delivery-status, feedback-report or none */
  reportType: 'delivery-status' | 'feedback-report' | 'none';
  statuses: DeliveryStatus[];
  /** ARF: the feedback type (abuse, fraud, ...), and the original envelope sender and recipient it names. */
  feedback: { type: string; originalMailFrom: string | null; originalRcptTo: string | null } | null;
  /** Message-IDs quoted from the original message's headers, as written (with angle brackets). */
  quotedMessageIds: string[];
  /** An automatic reply (out of office), not a report: never a bounce. */
  autoReply: boolean;
  subject: string;
}

const REPORT_PARTS = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/feedback-report',
  'text/rfc822-headers',
  'message/rfc822',
  'message/global',
  'message/global-headers',
]);

/** Header-style fields by blank-line-separated block, folded lines joined, names lower-cased. */
function fieldBlocks(text: string): Map<string, string>[] {
  const unfolded = text.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  return unfolded.split(/\n\s*\n/).map((block) => {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const match = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (match && !fields.has(match[1]!.toLowerCase())) fields.set(match[1]!.toLowerCase(), match[2]!.trim());
    }
    return fields;
  });
}

/** "rfc822; ada@example.org" or "<ada@example.org>" to the address. */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const address = value
    .replace(/^[a-z0-9-]+\s*;/i, '')
    .trim()
    .replace(/^<|>$/g, '')
    .trim();
  return /^[^\s@<>]+@[^\s@<>]+$/.test(address) ? address.toLowerCase() : null;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((object) => object.value.flatMap((entry) => (entry.address ? [entry.address.toLowerCase()] : [])));
}

function headerAddresses(value: unknown): string[] {
  if (typeof value === 'string') return value.split(',').flatMap((part) => addressOf(part) ?? []);
  if (Array.isArray(value)) return value.flatMap(headerAddresses);
  if (value && typeof value === 'object' && 'value' in value) return addresses(value as AddressObject);
  return [];
}

const OUT_OF_OFFICE = /^(auto(matic)?[ -]?(reply|response)|out of (the )?office|abwesenheit|absence|r[ée]ponse automatique|away)/i;

export async function readReport(raw: Buffer, envelopeRecipients: string[] = []): Promise<Report> {
  // Loaded with the first report, not at start-up: most servers never receive one.
  const { simpleParser } = await import('mailparser');
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextLinks: true, skipTextToHtml: true, skipImageLinks: true });
  const contentType = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const declared = contentType?.value === 'multipart/report' ? contentType.params?.['report-type']?.toLowerCase() : undefined;

  // A report's fields are read only from a report (multipart/report): the parts mailparser kept apart,
  // and its text, where it puts some of them. Lines like "Action: failed" in anyone's message are text.
  const parts = mail.attachments
    .filter((part) => REPORT_PARTS.has(part.contentType.toLowerCase()))
    .map((part) => part.content.toString('utf8'));
  const blocks = declared ? [...parts, mail.text ?? ''].flatMap(fieldBlocks) : [];
  // The original message's Message-ID may be quoted anywhere (it only counts if it is one of ours).
  const texts = [...parts, mail.text ?? '', raw.toString('utf8')];

  const seen = new Set<string>();
  const statuses: DeliveryStatus[] = [];
  for (const block of blocks) {
    const action = block.get('action')?.toLowerCase();
    const recipient = addressOf(block.get('final-recipient')) ?? addressOf(block.get('original-recipient'));
    if (!action || (!recipient && !block.has('status'))) continue;
    const status = enhancedStatus(block.get('status') ?? '');
    const key = `${recipient}|${action}|${status}`;
    if (seen.has(key)) continue;
    seen.add(key);
    statuses.push({ recipient, action, status, diagnostic: block.get('diagnostic-code')?.slice(0, 300) ?? null });
  }

  const feedbackBlock = blocks.find((block) => block.has('feedback-type'));
  const feedback = feedbackBlock
    ? {
        type: feedbackBlock.get('feedback-type')!.toLowerCase(),
        originalMailFrom: addressOf(feedbackBlock.get('original-mail-from')),
        originalRcptTo: addressOf(feedbackBlock.get('original-rcpt-to')) ?? addressOf(feedbackBlock.get('removal-recipient')),
      }
    : null;

  const own = mail.messageId?.trim();
  const quotedMessageIds = [
    ...new Set(
      texts
        .flatMap((text) => [...text.matchAll(/^Message-ID:[ \t]*(?:\r?\n[ \t]+)?(<[^>\s]+>)/gim)].map((match) => match[1]!))
        .filter((id) => id !== own),
    ),
  ];

  const autoSubmitted = String(mail.headers.get('auto-submitted') ?? 'no')
    .toLowerCase()
    .split(';')[0]!
    .trim();
  const precedence = String(mail.headers.get('precedence') ?? '').toLowerCase();
  const addressedTo = [
    ...new Set([
      ...envelopeRecipients.map((address) => address.toLowerCase()),
      ...headerAddresses(mail.headers.get('delivered-to')),
      ...headerAddresses(mail.headers.get('x-original-to')),
      ...headerAddresses(mail.headers.get('envelope-to')),
      ...addresses(mail.to),
    ]),
  ];
  const reportType = declared === 'feedback-report' || feedback ? 'feedback-report' : statuses.length > 0 ? 'delivery-status' : 'none';
  return {
    addressedTo,
    reportType,
    statuses,
    feedback,
    quotedMessageIds,
    // RFC 3834 sends automatic replies to the return path: anything marked automatic, in any language.
    autoReply:
      reportType === 'none' &&
      (autoSubmitted !== 'no' ||
        ['auto_reply', 'auto-reply'].includes(precedence) ||
        mail.headers.has('x-autoreply') ||
        mail.headers.has('x-autorespond') ||
        OUT_OF_OFFICE.test(mail.subject ?? '')),
    subject: mail.subject ?? '',
  };
}

/** The enhanced status code (RFC 3463, e.g. 5.1.1) in a status field or a server's answer, or null. */
export function enhancedStatus(text: string): string | null {
  return /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? null;
}

const ADDRESS_GONE =
  /no such (user|mailbox|recipient)|user unknown|unknown (user|recipient)|does not exist|doesn't exist|invalid (mailbox|recipient)|address rejected/i;

/**
 * What a failure's enhanced status code (RFC 3463) says about the address: hard (5.1.x: no such address
 * or domain; 5.2.1: mailbox disabled; 5.0.0 saying the user is unknown), soft (4.x.x, a full mailbox,
 * anything unclear), or blocked (5.7.x: policy, spam filtering, DMARC; the address may be fine, so it is
 * recorded and never suppresses it).
 */
export function classify(status: string | null, diagnostic: string | null): 'hard' | 'soft' | 'blocked' {
  if (!status) return diagnostic && ADDRESS_GONE.test(diagnostic) ? 'hard' : 'soft';
  if (status.startsWith('5.7.')) return 'blocked';
  if (status.startsWith('5.1.') || status === '5.2.1') return 'hard';
  if (status.startsWith('5.') && diagnostic && ADDRESS_GONE.test(diagnostic)) return 'hard';
  return 'soft';
}

/** What an address at the return-path domain names (shared/return-path.ts). */
export type AddressReader = (address: string) => ReturnAddress | null;

/**
 * The findings of a report: one per failed recipient of a DSN, one for an abuse report, one for an
 * unsubscribe reply or an old-style bounce to a return path; or why it is none of those. A DSN's
 * "delayed" is a warning (the server keeps trying), not a bounce.
 */
export function findingsOf(report: Report, read: AddressReader): Finding[] | { ignored: string } {
  const named = report.addressedTo.map(read).filter((address) => address !== null);
  const returnPath = named.find((address) => address.kind === 'bounce');
  const byReturnPath = returnPath?.kind === 'bounce' ? { id: returnPath.outboxId } : undefined;
  const byQuote = report.quotedMessageIds.length > 0 ? { messageId: report.quotedMessageIds[0]! } : undefined;

  if (report.feedback) {
    if (report.feedback.type === 'not-spam') return { ignored: 'a not-spam report' };
    const mailFrom = report.feedback.originalMailFrom ? read(report.feedback.originalMailFrom) : null;
    const message = mailFrom?.kind === 'bounce' ? { id: mailFrom.outboxId } : (byQuote ?? byReturnPath);
    return [
      { kind: 'complaint', message, email: report.feedback.originalRcptTo ?? undefined, detail: `feedback: ${report.feedback.type}` },
    ];
  }
  if (report.reportType === 'delivery-status') {
    const failed = report.statuses.filter((status) => status.action === 'failed');
    if (failed.length === 0)
      return { ignored: `a delivery status of ${report.statuses.map((s) => s.action).join(', ') || 'no recipient'}` };
    return failed.map((status) => ({
      kind: classify(status.status, status.diagnostic),
      message: byReturnPath ?? byQuote,
      email: status.recipient ?? undefined,
      detail: [status.status, status.diagnostic].filter(Boolean).join(' ').slice(0, 300) || 'failed',
    }));
  }
  const unsubscribe = named.find((address) => address.kind === 'unsubscribe');
  if (unsubscribe?.kind === 'unsubscribe') return [{ kind: 'unsubscribe', subscriberId: unsubscribe.subscriberId, detail: 'mailto reply' }];
  if (byReturnPath) {
    // Automatic replies go to the return path (RFC 3834), and so do a few bounces in no standard format;
    // neither says for sure that the address is gone, so neither is acted on.
    return { ignored: report.autoReply ? 'an automatic reply' : 'not a delivery status report: nothing to act on' };
  }
  return { ignored: 'neither a bounce, a complaint nor an unsubscribe reply about a message of ours' };
}
