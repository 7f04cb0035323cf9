// How many emails one address may be sent in a window (sign-in links): a person asking again and again,
// or someone else asking for them, gets a few, and the rest of the requests send nothing.
import { boundedCache } from './cache.js';

/** At most `perAddress` sends to one address in `windowMs`; the addresses heard of longest ago are forgotten first. */
export function createSendAllowance(options: { perAddress: number; windowMs: number; maxTracked: number }) {
  const recent = boundedCache<string, number[]>(options.maxTracked);
  /** True when this address may be sent another email now (and counts this one). */
  return function allow(address: string, now: number): boolean {
    const sent = (recent.get(address) ?? []).filter((at) => at > now - options.windowMs);
    if (sent.length >= options.perAddress) return false;
    recent.set(address, [...sent, now]);
    return true;
  };
}
