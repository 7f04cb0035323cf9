// Booking bursts: 200 members ask for the 10 slots of one huddle at the same moment, 30 times over.
// Every burst must give exactly 10 × 201 and 190 × 409; the time to drain a burst is compared with a
// raw conditional insert (bench/baselines/claim.ts) under the same burst, alternating. The bursts come
// from a raw-socket client in a process of its own, its connections open beforehand (bench/clients/burst.ts),
// and its CPU time is reported beside each result: with fetch in the runner, the client was busy for the
// whole of the baseline's drain, so it measured itself. Ten warm-up bursts each come first: drains fall
// two to three times over the first ten.
import {
  broken,
  burstClient,
  checkNoBusy,
  mean,
  percentile,
  round2,
  short,
  start,
  stop,
  type BurstRequest,
  type Outcome,
  type Scenario,
  type Server,
} from '../lib.js';

const MEMBERS = 200;
const SLOTS = 10;

function checkBurst(statuses: number[], which: string): void {
  const created = statuses.filter((s) => s === 201).length;
  const refused = statuses.filter((s) => s === 409).length;
  if (created !== SLOTS || refused !== MEMBERS - SLOTS)
    throw new Error(`${which}: ${created} × 201 and ${refused} × 409 (${[...new Set(statuses)].join(', ')})`);
}

/**
 * `claim`: against a raw conditional insert (the goal is a ratio of drain times). `same-work`: against the
 * booking's own work written by hand (bench/baselines/booking.ts, issue 16 item 1), with its own members and
 * huddles; the ratio is then of rates (baseline drain ÷ Convene's), as issue 16 states that goal.
 * `same-work-and-hooks`: the same, plus the hooks every Convene request pays (bench/baselines/hooks.ts), so
 * the gap splits into the framework's hooks and our own code.
 */
function bookingBurst(against: 'claim' | 'same-work' | 'same-work-and-hooks'): Scenario {
  const sameWork = against !== 'claim';
  const hooks = against === 'same-work-and-hooks';
  return {
    name: !sameWork
      ? 'booking burst: 200 members at once for 10 slots'
      : hooks
        ? 'booking burst against the same work and hooks by hand'
        : 'booking burst against the same work by hand',
    run: async (): Promise<Outcome> => {
      const bursts = short ? 3 : 30;
      const warmups = short ? 1 : 10;
      const goal = sameWork ? '≥ 0.6 × as a rate (stretch 0.85 ×)' : 'drain ≤ 1.25 × (ratio of times)';
      let baseline: Server | undefined;
      let candidate: Server | undefined;
      const clients: { close: () => void }[] = [];
      try {
        baseline = sameWork
          ? await start('bench/baselines/booking.ts', { BENCH_HUDDLES: String(bursts + warmups), ...(hooks ? { BENCH_HOOKS: '1' } : {}) })
          : await start('bench/baselines/claim.ts');
        candidate = await start('bench/servers/app.ts', { BENCH_SEED: `bookings:${bursts + warmups}` });
        const huddles = candidate.info.slotted as string[];
        const tokens = candidate.info.tokens as string[];
        const toBaseline = await burstClient(Number(new URL(baseline.url).port), MEMBERS);
        const toCandidate = await burstClient(Number(new URL(candidate.url).port), MEMBERS);
        clients.push(toBaseline, toCandidate);
        const post = (path: string, headers: Record<string, string>, body: object): BurstRequest => ({
          method: 'POST',
          path,
          headers,
          body: JSON.stringify(body),
        });
        const candidateBurst = (huddle: string) =>
          toCandidate.burst(
            tokens.map((token, i) =>
              post(`/v1/huddles/${huddle}/bookings`, { authorization: `Bearer ${token}` }, { title: `Pitch from organisation ${i}` }),
            ),
          );
        const ownHuddles = (baseline.info.huddles ?? []) as string[];
        const ownTokens = (baseline.info.tokens ?? []) as string[];
        const baselineBurst = (name: string, n: number) =>
          sameWork
            ? toBaseline.burst(
                ownTokens.map((token, i) =>
                  post(
                    `/v1/huddles/${ownHuddles[n]}/bookings`,
                    { authorization: `Bearer ${token}` },
                    { title: `Pitch from organisation ${i}` },
                  ),
                ),
              )
            : toBaseline.burst(tokens.map((_, i) => post(`/bursts/${name}/claims`, {}, { member: `m${i}` })));
        for (let i = 0; i < warmups; i++) {
          checkBurst((await baselineBurst(`warm-up-${i}`, i)).statuses, 'baseline warm-up');
          checkBurst((await candidateBurst(huddles[i]!)).statuses, 'candidate warm-up');
        }
        const b: number[] = [];
        const c: number[] = [];
        const bCpu: number[] = [];
        const cCpu: number[] = [];
        for (let i = 0; i < bursts; i++) {
          const raw = await baselineBurst(`burst-${i}`, warmups + i);
          checkBurst(raw.statuses, `baseline burst ${i}`);
          b.push(raw.ms);
          bCpu.push(raw.cpuMs / raw.ms);
          const real = await candidateBurst(huddles[warmups + i]!);
          checkBurst(real.statuses, `burst ${i}`);
          c.push(real.ms);
          cCpu.push(real.cpuMs / real.ms);
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
        const ratio = sameWork ? mean(b) / mean(c) : mean(c) / mean(b);
        return {
          baseline: `drain ${round2(mean(b))} ms (p99 ${round2(percentile(b, 99))})`,
          candidate: `drain ${round2(mean(c))} ms (p99 ${round2(percentile(c, 99))})`,
          ratio: round2(ratio),
          goal,
          met: sameWork ? ratio >= 0.6 : ratio <= 1.25,
          gate: 'held',
          notes:
            `${bursts} bursts of ${MEMBERS} after ${warmups} warm-up bursts, from a raw-socket client in its own process (its CPU ` +
            `busy ${Math.round(mean(bCpu) * 100)}% of the baseline's drain, ${Math.round(mean(cCpu) * 100)}% of Convene's); every burst ` +
            `10 × 201, 190 × 409; no slot held twice${sameWork ? '; ratio is baseline drain ÷ Convene drain' : ''}`,
        };
      } catch (error) {
        return broken(goal, (error as Error).message);
      } finally {
        for (const client of clients) client.close();
        await stop(baseline);
        await stop(candidate);
      }
    },
  };
}

export const bookingScenario = bookingBurst('claim');
export const sameWorkBookingScenario = bookingBurst('same-work');
export const sameWorkAndHooksBookingScenario = bookingBurst('same-work-and-hooks');
