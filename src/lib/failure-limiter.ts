// Counts failed authentications in fixed one-minute windows, to slow down token guessing without
// locking out the other people behind the same address (an office NAT): failures are counted per
// presented credential from a client (an IPv4 address or an IPv6 /64), so one careless client
// repeating a stale token is slowed down alone; many different unknown tokens from one client (guessing)
// hit a larger limit for that client. Either limit only ever refuses credentials that fail: the caller
// lets a valid one through whatever the counts say.
import { boundedCache } from './cache.js';
import { hashToken } from './tokens.js';

export interface FailureLimiter {
  /** Seconds until this credential may be tried again from this client address, or 0 when it is not blocked. */
  blockedFor(ip: string, credential: string, now: number): number;
  recordFailure(ip: string, credential: string, now: number): void;
}

const WINDOW_MS = 60_000;
const MAX_KEYS = 50_000;
/** How many more failures one client may have across different credentials than with one credential. */
export const ADDRESS_FACTOR = 10;

/** IPv6 clients usually hold a whole /64, so that is what counts as one client. */
export function clientKey(ip: string): string {
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function createFailureLimiter(maxPerWindow: number): FailureLimiter {
  // The keys seen most recently; one unheard of for longest makes room (its window is long over).
  const windows = boundedCache<string, { count: number; resetAt: number }>(MAX_KEYS);
  // The credential itself is never kept, only a hash of it.
  const keys = (ip: string, credential: string) => {
    const client = clientKey(ip);
    return { client, credential: `${client} ${hashToken(credential).slice(0, 32)}` };
  };
  const wait = (key: string, max: number, now: number) => {
    const window = windows.get(key);
    if (!window || window.resetAt <= now || window.count < max) return 0;
    return Math.ceil((window.resetAt - now) / 1000);
  };
  const count = (key: string, now: number) => {
    const window = windows.get(key);
    if (!window || window.resetAt <= now) windows.set(key, { count: 1, resetAt: now + WINDOW_MS });
    else window.count += 1;
  };

  return {
    blockedFor(ip, credential, now) {
      const key = keys(ip, credential);
      return Math.max(wait(key.credential, maxPerWindow, now), wait(key.client, maxPerWindow * ADDRESS_FACTOR, now));
    },
    recordFailure(ip, credential, now) {
      const key = keys(ip, credential);
      count(key.credential, now);
      count(key.client, now);
    },
  };
}
