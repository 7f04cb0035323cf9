// Feed scenarios that are about time rather than rate: the feed just after an edit, and feeds of
// 5,000 and 50,000 huddles (render time linear in size; the event loop never blocked for 250 ms).
import ICAL from 'ical.js';
import { broken, percentile, pick, round2, short, start, stop, type Outcome, type Scenario, type Server } from '../lib.js';

const FEED = '/v1/clusters/bench/calendar.ics';

/** Parses a calendar with ical.js (a real client's parser) and returns its events' UIDs. */
function validEvents(body: string): string[] {
  const calendar = new ICAL.Component(ICAL.parse(body));
  return calendar.getAllSubcomponents('vevent').map((event) => String(event.getFirstPropertyValue('uid')));
}

async function timedGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; etag: string | null; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  const body = await response.text();
  return { status: response.status, etag: response.headers.get('etag'), body, ms: performance.now() - started };
}

export const feedAfterEditScenario: Scenario = {
  name: 'public feed of 500 huddles after one huddle edit (cold)',
  run: async (): Promise<Outcome> => {
    const goal = 'p99 ≤ 15 ms';
    let candidate: Server | undefined;
    try {
      candidate = await start('bench/servers/app.ts', { BENCH_SEED: 'huddles:500' });
      const auth = { authorization: `Bearer ${String(candidate.info.key)}`, 'content-type': 'application/json' };
      const ids = candidate.info.ids as string[];
      const cold = await timedGet(candidate.url + FEED);
      if (validEvents(cold.body).length !== 500) throw new Error('the first feed does not hold 500 valid events');
      let etag = cold.etag!;
      const times: number[] = [];
      const edits = short ? 20 : 300;
      for (let i = 0; i < edits; i++) {
        const id = pick(ids);
        const edit = await fetch(`${candidate.url}/v1/huddles/${id}`, {
          method: 'PATCH',
          headers: auth,
          body: JSON.stringify({ title: `Edited ${i}` }),
        });
        if (edit.status !== 200) throw new Error(`edit answered ${edit.status}`);
        const after = await timedGet(candidate.url + FEED, { 'if-none-match': etag });
        if (after.status !== 200 || !after.etag || after.etag === etag)
          throw new Error(`after an edit the feed answered ${after.status} with ETag ${after.etag}`);
        if (!after.body.includes(`SUMMARY:Edited ${i}\r\n`)) throw new Error('the edit is not in the feed');
        if (i % 50 === 0 && validEvents(after.body).length !== 500)
          throw new Error('the feed after an edit is not a valid calendar of 500 events');
        etag = after.etag;
        times.push(after.ms);
      }
      const p99 = percentile(times, 99);
      return {
        baseline: `first render ${round2(cold.ms)} ms`,
        candidate: `after an edit: p50 ${round2(percentile(times, 50))} ms, p99 ${round2(p99)} ms`,
        goal,
        met: p99 <= 15,
        gate: 'held',
        notes:
          `${edits} edits, each followed by a conditional GET with the old ETag: new ETag, the edit present, ical.js parses ` +
          `500 events`,
      };
    } catch (error) {
      return broken(goal, (error as Error).message);
    } finally {
      await stop(candidate);
    }
  },
};

/** The first (cold) render of a seeded feed, with a probe asking /healthz every 10 ms meanwhile. */
async function coldRender(size: number): Promise<{ ms: number; worstProbeMs: number; events: number }> {
  let candidate: Server | undefined;
  try {
    candidate = await start('bench/servers/app.ts', { BENCH_SEED: `huddles:${size}` });
    if (candidate.info.count !== size) throw new Error(`seeded ${String(candidate.info.count)} huddles, not ${size}`);
    let rendering = true;
    let worstProbeMs = 0;
    const url = candidate.url;
    const probe = (async () => {
      while (rendering) {
        const started = performance.now();
        await (await fetch(`${url}/healthz`)).arrayBuffer();
        worstProbeMs = Math.max(worstProbeMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const feed = await timedGet(url + FEED);
    rendering = false;
    await probe;
    if (feed.status !== 200) throw new Error(`the feed of ${size} answered ${feed.status}`);
    const events = validEvents(feed.body).length;
    if (events !== size) throw new Error(`the feed of ${size} huddles holds ${events} valid events`);
    return { ms: feed.ms, worstProbeMs, events };
  } finally {
    await stop(candidate);
  }
}

export const bigFeedsScenario: Scenario = {
  name: 'feeds of 5,000 and 50,000 huddles (cold render)',
  run: async (): Promise<Outcome> => {
    const goal = 'time per huddle at the large size ≤ 1.5 × at the small; no stall ≥ 250 ms';
    const [small, large] = short ? [500, 5000] : [5000, 50_000];
    try {
      const a = await coldRender(small);
      const b = await coldRender(large);
      const perHuddle = b.ms / large / (a.ms / small);
      const stall = Math.max(a.worstProbeMs, b.worstProbeMs);
      return {
        baseline: `${small}: ${round2(a.ms)} ms (worst /healthz ${round2(a.worstProbeMs)} ms)`,
        candidate: `${large}: ${round2(b.ms)} ms (worst /healthz ${round2(b.worstProbeMs)} ms)`,
        ratio: round2(perHuddle),
        goal,
        met: perHuddle <= 1.5 && stall < 250,
        gate: 'held',
        notes: `ratio is time per huddle, large ÷ small; both calendars parse in ical.js with every event`,
      };
    } catch (error) {
      return broken(goal, (error as Error).message);
    }
  },
};
