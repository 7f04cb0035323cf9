// Counts failures per client (an IPv4 address or an IPv6 /64) in fixed one-minute windows, to slow down token guessing.
import { boundedCache } from './cache.js';
export interface FailureLimiter {
  /** Seconds until this client address may try again, or 0 when it is not blocked. */
  blockedFor(ip: string, now: number): number;
  recordFailure(ip: string, now: number): void;
}

const WINDOW_MS = 60_000;
const MAX_KEYS = 50_000;

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
  // The clients seen most recently; one unheard of for longest makes room (its window is long over).
  const windows = boundedCache<string, { count: number; resetAt: number }>(MAX_KEYS);

  return {
    blockedFor(ip, now) {
      const window = windows.get(clientKey(ip));
      if (!window || window.resetAt <= now || window.count < maxPerWindow) return 0;
      return Math.ceil((window.resetAt - now) / 1000);
    },
    recordFailure(ip, now) {
      const key = clientKey(ip);
      const window = windows.get(key);
      if (!window || window.resetAt <= now) {
        windows.set(key, { count: 1, resetAt: now + WINDOW_MS });
      } else {
        window.count += 1;
      }
    },
  };
}
