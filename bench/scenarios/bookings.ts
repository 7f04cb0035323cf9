// Booking bursts: 200 members ask for the 10 slots of one huddle at the same moment, 30 times over.
// Every burst must give exactly 10 × 201 and 190 × 409; the time to drain a burst is compared with a
// raw conditional insert (bench/baselines/claim.ts) under the same burst, alternating.
import { broken, checkNoBusy, mean, percentile, round2, short, start, stop, type Outcome, type Scenario, type Server } from '../lib.js';

const MEMBERS = 200;
const SLOTS = 10;

/**
 * Fires one request per member at once (fetch opens a connection for each); returns the statuses and
 * the time from first send to last answer.
 */
async function burst(
  requests: { url: string; headers: Record<string, string>; body: string }[],
): Promise<{ statuses: number[]; ms: number }> {
  const started = performance.now();
  const statuses = await Promise.all(
    requests.map(async (request) => {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...request.headers },
        body: request.body,
      });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  return { statuses, ms: performance.now() - started };
}

function checkBurst(statuses: number[], which: string): void {
  const created = statuses.filter((s) => s === 201).length;
  const refused = statuses.filter((s) => s === 409).length;
  if (created !== SLOTS || refused !== MEMBERS - SLOTS)
    throw new Error(`${which}: ${created} × 201 and ${refused} × 409 (${[...new Set(statuses)].join(', ')})`);
}

export const bookingScenario: Scenario = {
  name: 'booking burst: 200 members at once for 10 slots',
  run: async (): Promise<Outcome> => {
    const bursts = short ? 3 : 30;
    const goal = 'drain ≤ 1.25 × (ratio of times)';
    let baseline: Server | undefined;
    let candidate: Server | undefined;
    try {
      baseline = await start('bench/baselines/claim.ts');
      candidate = await start('bench/servers/app.ts', { BENCH_SEED: `bookings:${bursts + 1}` });
      const huddles = candidate.info.slotted as string[];
      const tokens = candidate.info.tokens as string[];
      const b: number[] = [];
      const c: number[] = [];
      // Warm-up: one burst each (the first huddle is kept for it).
      const candidateBurst = (huddle: string) =>
        burst(
          tokens.map((token, i) => ({
            url: `${candidate!.url}/v1/huddles/${huddle}/bookings`,
            headers: { authorization: `Bearer ${token}` },
            body: JSON.stringify({ title: `Pitch from organisation ${i}` }),
          })),
        );
      const baselineBurst = (name: string) =>
        burst(
          tokens.map((_, i) => ({ url: `${baseline!.url}/bursts/${name}/claims`, headers: {}, body: JSON.stringify({ member: `m${i}` }) })),
        );
      checkBurst((await baselineBurst('warm-up')).statuses, 'baseline warm-up');
      checkBurst((await candidateBurst(huddles[0]!)).statuses, 'candidate warm-up');
      for (let i = 1; i <= bursts; i++) {
        const raw = await baselineBurst(`burst-${i}`);
        checkBurst(raw.statuses, `baseline burst ${i}`);
        b.push(raw.ms);
        const real = await candidateBurst(huddles[i]!);
        checkBurst(real.statuses, `burst ${i}`);
        c.push(real.ms);
      }
      checkNoBusy(candidate);
      // Nothing double-booked: each huddle's organiser list has 10 confirmed pitches in 10 different slots.
      for (const huddle of huddles) {
        const response = await fetch(`${candidate.url}/v1/huddles/${huddle}/bookings`, {
          headers: { authorization: `Bearer ${String(candidate.info.key)}` },
        });
        const items = ((await response.json()) as { items: { status: string; slot: { id: string } }[] }).items.filter(
          (item) => item.status === 'confirmed',
        );
        if (items.length !== SLOTS || new Set(items.map((item) => item.slot.id)).size !== SLOTS)
          throw new Error(`huddle ${huddle} has ${items.length} pitches in ${new Set(items.map((item) => item.slot.id)).size} slots`);
      }
      const ratio = mean(c) / mean(b);
      return {
        baseline: `drain ${round2(mean(b))} ms (p99 ${round2(percentile(b, 99))})`,
        candidate: `drain ${round2(mean(c))} ms (p99 ${round2(percentile(c, 99))})`,
        ratio: round2(ratio),
        goal,
        met: ratio <= 1.25,
        gate: 'held',
        notes: `${bursts} bursts of ${MEMBERS}; every burst 10 × 201, 190 × 409; no slot held twice`,
      };
    } catch (error) {
      return broken(goal, (error as Error).message);
    } finally {
      await stop(baseline);
      await stop(candidate);
    }
  },
};
