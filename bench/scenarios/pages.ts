// The web pages people open most: a huddle's page and a cluster's page, through the whole app, against
// the same pages rendered by the same components straight from SQLite (bench/baselines/pages.tsx).
import { pick, throughput, type Scenario } from '../lib.js';

/** Fails the gate unless `url` answers 200 with an HTML page that matches `pattern` and weighs under 50 KB. */
async function expectPage(url: string, pattern: RegExp): Promise<void> {
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200 || !/^text\/html/.test(response.headers.get('content-type') ?? '') || !pattern.test(body)) {
    throw new Error(`gate failed for ${url}: ${response.status} ${body.slice(0, 200)}`);
  }
  if (Buffer.byteLength(body) > 50_000) throw new Error(`gate failed for ${url}: ${Buffer.byteLength(body)} bytes`);
}

export const pageScenarios: Scenario[] = [
  throughput({
    name: 'huddle page (random of 10,000)',
    baseline: { script: 'bench/baselines/pages.tsx' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:10000' } },
    goal: { ratio: 0.5 },
    load: (server, side) => {
      const ids = server.info.ids as string[];
      const path = side === 'baseline' ? '/items/' : '/h/';
      return { url: server.url, requests: [{ setupRequest: (request) => ({ ...request, path: path + pick(ids) }) }] };
    },
    gate: async (candidate, baseline) => {
      const id = (candidate.info.ids as string[])[0]!;
      await expectPage(`${candidate.url}/h/${id}`, /<h1>[^<]+<\/h1>[\s\S]*Add to your calendar/);
      await expectPage(`${baseline.url}/items/${(baseline.info.ids as string[])[0]!}`, /Add to your calendar/);
    },
  }),
  throughput({
    name: 'cluster page: the next 50 huddles (of 10,000)',
    baseline: { script: 'bench/baselines/pages.tsx' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:10000' } },
    goal: { ratio: 0.5 },
    load: (server, side) => ({ url: `${server.url}${side === 'baseline' ? '/cluster' : '/c/bench'}` }),
    gate: async (candidate, baseline) => {
      const fifty = /(<li><a href="\/h\/[^"]+">[^<]+<\/a>[\s\S]*?){50}/;
      await expectPage(`${candidate.url}/c/bench`, fifty);
      await expectPage(`${baseline.url}/cluster`, fifty);
    },
  }),
];
