// Counts failures per key (a client address) in fixed one-minute windows, to slow down token guessing.
export interface FailureLimiter {
  /** Seconds until the key may try again, or 0 when it is not blocked. */
  blockedFor(key: string, now: number): number;
  recordFailure(key: string, now: number): void;
}

const WINDOW_MS = 60_000;
const MAX_KEYS = 50_000;

export function createFailureLimiter(maxPerWindow: number): FailureLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();

  function prune(now: number) {
    for (const [key, window] of windows) if (window.resetAt <= now) windows.delete(key);
  }

  return {
    blockedFor(key, now) {
      const window = windows.get(key);
      if (!window || window.resetAt <= now || window.count < maxPerWindow) return 0;
      return Math.ceil((window.resetAt - now) / 1000);
    },
    recordFailure(key, now) {
      const window = windows.get(key);
      if (!window || window.resetAt <= now) {
        if (windows.size >= MAX_KEYS) prune(now);
        windows.set(key, { count: 1, resetAt: now + WINDOW_MS });
      } else {
        window.count += 1;
      }
    },
  };
}
