// Fuzzing from the contract: for every operation in openapi/openapi.json, fast-check generates
// requests (valid, boundary and hostile bodies, parameters and credentials) and checks the answers:
// never a 5xx, always a documented status, every error problem+json with a catalogue code, and no
// field the response schema does not declare. FUZZ_RUNS (per operation) and FUZZ_SEED tune a long run;
// bench/fuzz/prism.ts runs the same requests over HTTP through Prism's validating proxy.
import fc from 'fast-check';
import t from 'tap';
import { buildTestApp } from './helper.js';
import { contractProblem, fuzzEnv, fuzzTargets, operations, requestsFor, spec } from './helpers/fuzz.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);

t.test('every operation answers fuzzed requests within its contract', { timeout: 600_000 }, async (t) => {
  const built = await buildTestApp(t, { env: fuzzEnv });
  const { app } = built;
  const targets = fuzzTargets(built);
  let requests = 0;
  for (const { path, method, operation } of operations()) {
    const { known, credentials } = await targets();
    await fc.assert(
      fc.asyncProperty(requestsFor(path, method, operation, known, credentials), async (request) => {
        requests += 1;
        const response = await app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: request.headers,
          ...(request.payload !== undefined ? { payload: request.payload } : {}),
        });
        const problem = contractProblem(operation, request, {
          statusCode: response.statusCode,
          headers: response.headers,
          body: response.body,
        });
        if (problem) throw new Error(problem);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }
  t.ok(requests > 0, `${requests} fuzzed requests over ${Object.keys(spec.paths).length} paths, seed ${SEED}`);
});
