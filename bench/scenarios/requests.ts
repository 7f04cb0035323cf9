// Request-rate scenarios: the real app against a tiny baseline server doing the raw version of the work.
import { expectJson, pick, throughput, type Scenario, type Throughput } from '../lib.js';

type Seeded = [id: string, start: number][];

const rangeFrom = (start: number) => ({ from: new Date(start).toISOString(), to: new Date(start + 30 * 86_400_000).toISOString() });

/** The sign-up scenarios' load (unique addresses) and gate (the rows are written), whatever the baseline. */
const signUp: Pick<Throughput, 'expect' | 'load' | 'gate'> = {
  expect: 202,
  load: (server, side) => {
    let n = 0;
    const run = `${process.pid}-${Date.now()}`;
    const path = side === 'baseline' ? '/signups' : '/v1/clusters/bench/subscriptions';
    return {
      url: server.url,
      requests: [
        {
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: `reader-${run}-${(n += 1)}@example.org` }) }),
        },
      ],
    };
  },
  gate: async (candidate) => {
    await expectJson(
      `${candidate.url}/v1/clusters/bench/subscriptions`,
      (status, body) => status === 202 && (body as { status?: string }).status === 'pending-confirmation',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'gate@example.org' }),
      },
    );
    // Rows written: the work happens after the 202, so give it a moment, then ask as the organiser.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expectJson(
      `${candidate.url}/v1/clusters/bench/subscribers?status=pending`,
      (status, body) => status === 200 && (body as { items: { email: string }[] }).items.some((item) => item.email === 'gate@example.org'),
      { headers: { authorization: `Bearer ${String(candidate.info.key)}` } },
    );
  },
};

export const requestScenarios: Scenario[] = [
  throughput({
    name: 'healthz through the full plugin stack',
    baseline: { script: 'bench/baselines/hello.ts' },
    candidate: { script: 'bench/servers/app.ts' },
    goal: { ratio: 0.95 },
    load: (server) => ({ url: `${server.url}/healthz` }),
    gate: (candidate) =>
      expectJson(`${candidate.url}/healthz`, (status, body) => status === 200 && (body as { status?: string }).status === 'ok'),
  }),
  throughput({
    name: 'GET one huddle (random of 10,000)',
    baseline: { script: 'bench/baselines/read.ts' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:10000' } },
    goal: { ratio: 0.9, p99Ratio: 1.2 },
    load: (server, side) => {
      const ids = server.info.ids as string[];
      const path = side === 'baseline' ? '/items/' : '/v1/huddles/';
      return { url: server.url, requests: [{ setupRequest: (request) => ({ ...request, path: path + pick(ids) }) }] };
    },
    gate: async (candidate) => {
      if (candidate.info.count !== 10_000) throw new Error(`seeded ${String(candidate.info.count)} huddles, not 10,000`);
      const id = (candidate.info.ids as string[])[0]!;
      await expectJson(
        `${candidate.url}/v1/huddles/${id}`,
        (status, body) => status === 200 && (body as { id?: string }).id === id && !('onlineUrl' in (body as object)),
      );
    },
  }),
  throughput({
    name: 'list 50 huddles in a date range (of 10,000)',
    baseline: { script: 'bench/baselines/list.ts' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:10000' } },
    goal: { ratio: 0.85 },
    load: (server, side) => {
      const starts =
        side === 'baseline' ? (server.info.starts as number[]) : (server.info.huddles as Seeded).slice(0, 1000).map(([, start]) => start);
      const path = side === 'baseline' ? '/items' : '/v1/clusters/bench/huddles';
      return {
        url: server.url,
        requests: [{ setupRequest: (request) => ({ ...request, path: `${path}?${new URLSearchParams(rangeFrom(pick(starts)))}` }) }],
      };
    },
    gate: async (candidate) => {
      // The right rows: the first 50 seeded huddles (by start, then id) in the range, in that order.
      const seeded = [...(candidate.info.huddles as Seeded)].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
      for (const [, start] of seeded.filter((_, i) => i % 997 === 0)) {
        const range = rangeFrom(start);
        const expected = seeded
          .filter(([, s]) => s >= start && s < Date.parse(range.to))
          .slice(0, 50)
          .map(([id]) => id);
        await expectJson(
          `${candidate.url}/v1/clusters/bench/huddles?${new URLSearchParams(range)}`,
          (status, body) =>
            status === 200 &&
            JSON.stringify((body as { items: { id: string }[] }).items.map((item) => item.id)) === JSON.stringify(expected),
        );
      }
    },
  }),
  throughput({
    name: 'newsletter sign-up, unique addresses',
    baseline: { script: 'bench/baselines/insert.ts' },
    candidate: { script: 'bench/servers/app.ts' },
    goal: { ratio: 0.85 },
    ...signUp,
  }),
  // The same work by hand (issue 16, item 1): the ratio against it is our own code's cost; with the hooks
  // every request pays (request id, security headers, metrics, rate limit), the framework's part is split off too.
  throughput({
    name: 'newsletter sign-up against the same work by hand',
    baseline: { script: 'bench/baselines/sign-up.ts' },
    candidate: { script: 'bench/servers/app.ts' },
    goal: { ratio: 0.85 },
    ...signUp,
  }),
  throughput({
    name: 'newsletter sign-up against the same work and hooks by hand',
    baseline: { script: 'bench/baselines/sign-up.ts', env: { BENCH_HOOKS: '1' } },
    candidate: { script: 'bench/servers/app.ts' },
    goal: { ratio: 0.85 },
    ...signUp,
  }),
  throughput({
    name: 'public feed of 500 huddles, conditional GET',
    baseline: { script: 'bench/baselines/static.ts' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:500' } },
    goal: { ratio: 0.9 },
    expect: 304,
    load: (server, side) => ({
      url: server.url + (side === 'baseline' ? '/calendar.ics' : '/v1/clusters/bench/calendar.ics'),
      headers: { 'if-none-match': String(server.info.etag) },
    }),
    gate: async (candidate, baseline) => {
      const response = await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`);
      const body = await response.text();
      const events = body.match(/BEGIN:VEVENT/g)?.length ?? 0;
      if (response.status !== 200 || events !== 500) throw new Error(`feed gate: ${response.status}, ${events} events`);
      candidate.info.etag = response.headers.get('etag');
      const again = await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`, {
        headers: { 'if-none-match': String(candidate.info.etag) },
      });
      if (again.status !== 304) throw new Error(`feed gate: conditional GET answered ${again.status}`);
      baseline.info.etag = (await fetch(`${baseline.url}/calendar.ics`)).headers.get('etag');
    },
  }),
  throughput({
    name: 'public feed of 500 huddles, warm',
    baseline: { script: 'bench/baselines/static.ts' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:500' } },
    goal: { ratio: 0.9 },
    load: (server, side) => ({ url: server.url + (side === 'baseline' ? '/calendar.ics' : '/v1/clusters/bench/calendar.ics') }),
    gate: async (candidate) => {
      const first = await (await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`)).text();
      const second = await (await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`)).text();
      if (first !== second || !first.startsWith('BEGIN:VCALENDAR')) throw new Error('feed gate: the cached feed is not byte-identical');
    },
  }),
];
