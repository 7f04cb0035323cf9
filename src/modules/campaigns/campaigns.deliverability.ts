// What `newsletter send` checks about a cluster's sending before a campaign goes out: that receivers can
// verify it (the DKIM record matches the key, SPF and DMARC records exist), that its links reach people,
// and that the list fits the mail provider's daily limit. DNS is read through `resolveTxt`, which tests
// replace; a problem is reported in words, never thrown.
import { createPublicKey } from 'node:crypto';
import { dkimRecord, domainOf, type DkimKey } from '../../lib/dkim.js';
import { isLocalHost } from '../../lib/text.js';

/** TXT records at a name, each as its strings (node:dns/promises resolveTxt's shape). */
export type ResolveTxt = (name: string) => Promise<string[][]>;

export interface SendingSetup {
  /** The From of the campaign's messages ("Name" <address> or an address). */
  from: string;
  /** The key its messages are signed with, or null when they go unsigned. */
  dkim: DkimKey | null;
  publicBaseUrl: string;
  recipients: number;
  /** Messages the outbox sent in the last 24 hours, and the provider's daily limit (undefined: none set). */
  sentToday: number;
  dailyLimit: number | undefined;
  /** RETURN_PATH_DOMAIN, when set: receivers check SPF against it (the envelope sender), so it needs a record too. */
  returnPathDomain?: string;
}

/**
 * Names no receiver on the internet resolves or accepts mail from: the local and reserved ones
 * (lib/text.ts isLocalHost), a bare address, and example.com, .net and .org (RFC 2606).
 */
function isReservedName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (isLocalHost(name) || /^[\d.]+$/.test(name) || name.startsWith('[')) return true;
  return ['example.com', 'example.net', 'example.org'].some((reserved) => name === reserved || name.endsWith(`.${reserved}`));
}

const MISSING = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/** The TXT records at `name` joined per record; [] when there are none; an error's words when the lookup failed. */
async function lookup(resolveTxt: ResolveTxt, name: string): Promise<string[] | { failed: string }> {
  try {
    return (await resolveTxt(name)).map((strings) => strings.join(''));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return MISSING.has(code) ? [] : { failed: `could not look up ${name} (${code}): try again, or check the records by hand` };
  }
}

/** The public key a DKIM record publishes (its p= tag), as base64 of the DER; null when it has none. */
function publishedKey(record: string): string | null {
  const tag = record
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith('p='));
  return tag ? tag.slice(2).replace(/\s+/g, '') : null;
}

function sameKey(published: string, privateKey: string): boolean {
  try {
    const expected = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    return published === expected;
  } catch {
    return false;
  }
}

/** Every problem with sending this campaign now, in words ([] when there is none). */
export async function deliverabilityProblems(setup: SendingSetup, resolveTxt: ResolveTxt): Promise<string[]> {
  const problems: string[] = [];
  const domain = domainOf(setup.from);
  const linkHost = new URL(setup.publicBaseUrl).hostname;
  if (isReservedName(linkHost)) {
    problems.push(`PUBLIC_BASE_URL is ${setup.publicBaseUrl}: the links in the newsletter (unsubscribe included) reach nobody`);
  }
  if (setup.dailyLimit !== undefined && setup.sentToday + setup.recipients > setup.dailyLimit) {
    problems.push(
      `${setup.recipients} messages now, after ${setup.sentToday} in the last 24 hours, are over the daily limit of ` +
        `${setup.dailyLimit} (MAIL_DAILY_LIMIT): the provider may refuse or delay the rest`,
    );
  }
  if (isReservedName(domain)) {
    problems.push(
      `the sender ${setup.from} is on ${domain}, a reserved name: no receiver accepts mail from it (DKIM, SPF and DMARC not checked)`,
    );
    return problems;
  }
  if (!setup.dkim) {
    problems.push(`mail from ${domain} is not signed: make a DKIM key (convene cluster dkim --cluster <slug>) and publish its record`);
  } else {
    const { name } = dkimRecord(setup.dkim);
    const found = await lookup(resolveTxt, name);
    if ('failed' in found) problems.push(found.failed);
    else {
      const keys = found.filter((record) => /(^|;)\s*v=DKIM1/i.test(record) || /(^|;)\s*p=/.test(record)).map(publishedKey);
      if (keys.length === 0) problems.push(`there is no DKIM record at ${name}: publish the one \`convene cluster dkim\` printed`);
      else if (!keys.some((key) => key !== null && sameKey(key, setup.dkim!.privateKey)))
        problems.push(`the DKIM record at ${name} is for another key: publish the record of the current key`);
    }
  }
  const spf = await lookup(resolveTxt, domain);
  if ('failed' in spf) problems.push(spf.failed);
  else if (!spf.some((record) => /^v=spf1(\s|$)/i.test(record)))
    problems.push(`${domain} has no SPF record (TXT "v=spf1 ..."): receivers cannot tell your mail server may send for it`);
  // A subdomain is covered by its parent's record (the organisational domain's; checked up to two labels).
  const labels = domain.split('.');
  let dmarcFound = false;
  for (let i = 0; i <= labels.length - 2 && !dmarcFound; i++) {
    const dmarc = await lookup(resolveTxt, `_dmarc.${labels.slice(i).join('.')}`);
    if ('failed' in dmarc) {
      problems.push(dmarc.failed);
      dmarcFound = true;
    } else dmarcFound = dmarc.some((record) => /^v=DMARC1(\s*;|$)/i.test(record));
  }
  if (!dmarcFound) problems.push(`${domain} has no DMARC record at _dmarc.${domain}: Gmail and Yahoo require one from bulk senders`);
  if (setup.returnPathDomain && setup.returnPathDomain !== domain) {
    const returnSpf = await lookup(resolveTxt, setup.returnPathDomain);
    if ('failed' in returnSpf) problems.push(returnSpf.failed);
    else if (!returnSpf.some((record) => /^v=spf1(\s|$)/i.test(record)))
      problems.push(
        `the return-path domain ${setup.returnPathDomain} has no SPF record (TXT "v=spf1 ..."): receivers check SPF against it`,
      );
  }
  return problems;
}
