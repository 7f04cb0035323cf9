// Where this Convene instance lives, worked out once from the config: the base of every link, the
// host that names calendar events and messages, and the sender address calendars fall back to.
import type { Config } from '../config.js';
import { parseMailbox } from '../lib/text.js';

export interface Site {
  /** PUBLIC_BASE_URL, without a trailing slash: the start of every link in emails, feeds and pages. */
  baseUrl: string;
  /** Its host name: the right-hand side of every calendar UID and List-Id. */
  host: string;
  /** The address in MAIL_FROM: ORGANIZER of calendar data when a cluster has no contact. */
  fromAddress: string;
  /** Right-hand side of every Message-ID: the public host, or the From address's domain when the host is a bare IP. */
  messageIdDomain: string;
  /** RETURN_PATH_DOMAIN: where bounces, complaints and mailto unsubscribes come back to (shared/return-path.ts), if set. */
  returnPathDomain: string | undefined;
}

export function siteOf(config: Pick<Config, 'publicBaseUrl' | 'mailFrom'> & Partial<Pick<Config, 'returnPathDomain'>>): Site {
  const host = new URL(config.publicBaseUrl).hostname;
  const fromAddress = parseMailbox(config.mailFrom, { allowLocalhost: true })?.address ?? config.mailFrom.trim();
  const bareIp = host === '' || /^[\d.]+$/.test(host) || host.startsWith('[');
  return {
    baseUrl: config.publicBaseUrl,
    host,
    fromAddress,
    messageIdDomain: bareIp ? (fromAddress.split('@')[1] ?? 'localhost') : host,
    returnPathDomain: config.returnPathDomain,
  };
}
