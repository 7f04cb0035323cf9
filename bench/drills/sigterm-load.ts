// Drill 3: SIGTERM under load. With reads and writes in flight over keep-alive connections, and a
// few requests whose bodies are still arriving, the server is sent SIGTERM. Every request the server
// had accepted gets a whole answer (none is reset), every acknowledged write is in the database, and
// the process exits 0 within SHUTDOWN_GRACE_MS.
//   npx tsx bench/drills/sigterm-load.ts
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { call, formatTally, keepAliveAgent, tally, type Outcome } from './http.js';
import { DrillResult, drillEnv, isMain, raceExit, runDrill, sleep, startServer, tempDataDir, waitUntil, type Teardown } from './lib.js';
import { CLUSTER, seedCluster, withDatabase } from './seed.js';

export interface SigtermOptions {
  /** Client loops, each with its own keep-alive connection. */
  concurrency: number;
  /** Load before the SIGTERM. */
  loadMs: number;
  /** Requests whose body is only half sent at the SIGTERM. */
  slowRequests: number;
  graceMs: number;
}

export const FULL: SigtermOptions = { concurrency: 64, loadMs: 5_000, slowRequests: 8, graceMs: 10_000 };

interface Sent {
  agent: string;
  method: string;
  name?: string;
  outcome: Outcome;
}

/** Headers and half the body of a PATCH now; `finish()` sends the rest and resolves with the raw answer. */
async function slowPatch(port: number, apiKey: string, agent: string, name: string) {
  const body = JSON.stringify({ name });
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
  const closed = new Promise<string>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(`${answer}\n[socket error ${err.code ?? err.message}]`));
    socket.on('close', () => resolve(answer));
  });
  socket.write(
    `PATCH /v1/clusters/${CLUSTER} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${agent}\r\nAuthorization: Bearer ` +
      `${apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: ` +
      `close\r\n\r\n${body.slice(0, 8)}`,
  );
  return {
    finish: () => {
      socket.end(body.slice(8));
      return closed;
    },
  };
}

/** The requests the server accepted (began, and logged as incoming), by User-Agent, from its own log. */
function acceptedAgents(lines: string[]): Set<string> {
  const accepted = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith('{') || !line.includes('incoming request')) continue;
    const entry = JSON.parse(line) as { msg?: string; req?: { userAgent?: string } };
    if (entry.msg === 'incoming request' && entry.req?.userAgent) accepted.add(entry.req.userAgent);
  }
  return accepted;
}

export async function sigtermDrill(t: Teardown, o: SigtermOptions): Promise<DrillResult> {
  const result = new DrillResult('SIGTERM under load');
  const env = drillEnv(tempDataDir(t), { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000', SHUTDOWN_GRACE_MS: String(o.graceMs) });
  const { apiKey } = seedCluster(env, 0);
  const server = await startServer(t, env);

  // The load: two reads for every write, each request named by its User-Agent so the server's log tells which it accepted.
  const agent = keepAliveAgent(o.concurrency);
  t.teardown(() => agent.destroy());
  const sent: Sent[] = [];
  const pending = new Set<number>();
  let counter = 0;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const n = counter++;
      const ua = `drill/${n}`;
      const write = n % 3 === 0;
      const name = write ? `North West ${n}` : undefined;
      pending.add(n);
      const outcome = await call(server.url, agent, {
        method: write ? 'PATCH' : 'GET',
        path: `/v1/clusters/${CLUSTER}`,
        headers: { 'user-agent': ua, ...(write ? { authorization: `Bearer ${apiKey}` } : {}) },
        ...(write ? { body: { name } } : {}),
        timeoutMs: o.graceMs + 10_000,
      });
      pending.delete(n);
      sent.push({ agent: ua, method: write ? 'PATCH' : 'GET', ...(name ? { name } : {}), outcome });
      // Refused: the server has stopped listening; don't spin.
      if (outcome.error === 'ECONNREFUSED') await sleep(20);
    }
  };
  const loops = Array.from({ length: o.concurrency }, loop);
  await sleep(o.loadMs);
  const slow: Awaited<ReturnType<typeof slowPatch>>[] = [];
  for (let i = 0; i < o.slowRequests; i++) slow.push(await slowPatch(server.port, apiKey, `drill-slow/${i}`, `Slow ${i}`));
  // In flight for sure: the server has begun each one (logged it) and waits for the rest of its body.
  const slowAccepted = await waitUntil(
    () => {
      const accepted = acceptedAgents(server.lines);
      return slow.every((_, i) => accepted.has(`drill-slow/${i}`));
    },
    10_000,
    20,
  );

  const sigtermAt = Date.now();
  const inFlightAtSigterm = new Set([...pending].map((n) => `drill/${n}`));
  server.child.kill('SIGTERM');
  await sleep(300);
  const slowAnswers = await Promise.all(slow.map((s) => s.finish()));
  // One SIGTERM, as a supervisor sends it (a second one means "exit now" and exits 1): only wait for the exit.
  const exit = await raceExit(server.exited, o.graceMs + 5_000);
  const exitMs = Date.now() - sigtermAt;
  stop = true;
  await Promise.all(loops);

  const accepted = acceptedAgents(server.lines);
  const broken = sent.filter((s) => s.outcome.error !== undefined && accepted.has(s.agent));
  const truncated = sent.filter((s) => s.outcome.truncated);
  const afterSigterm = sent.filter((s) => s.outcome.endedAt >= sigtermAt);
  const slowOk = slowAnswers.filter((a) => /^HTTP\/1\.1 200 /.test(a)).length;
  result.check(
    'the process exits 0 within the grace period',
    exit?.code === 0 && exitMs < o.graceMs,
    `exit ${JSON.stringify(exit)} after ${exitMs} ms (grace ${o.graceMs} ms)`,
  );
  result.check(
    'requests still being received at SIGTERM complete with 200',
    slowAccepted && slowOk === slow.length,
    `${slowOk} of ${slow.length}${slowAccepted ? '' : ' (not all begun before the SIGTERM)'}` +
      (slowOk < slow.length ? `: ${slowAnswers.find((a) => !/^HTTP\/1\.1 200 /.test(a))?.slice(0, 200)}` : ''),
  );
  result.check(
    'no accepted request was reset or cut short',
    broken.length === 0 && truncated.length === 0,
    `${broken.length} accepted then failed, ${truncated.length} cut ` +
      `short${broken[0] ? ` (e.g. ${broken[0].agent}: ${broken[0].outcome.error})` : ''}`,
  );

  // Every write the clients were told succeeded is in the database.
  const acknowledged = sent.filter((s) => s.method === 'PATCH' && s.outcome.status === 200).map((s) => s.name!);
  acknowledged.push(...slowAnswers.flatMap((a, i) => (/^HTTP\/1\.1 200 /.test(a) ? [`Slow ${i}`] : [])));
  const names = withDatabase(env, ({ sqlite }) => {
    const rows = sqlite.prepare("SELECT after FROM audit_events WHERE action = 'cluster.updated'").all() as { after: string }[];
    return new Set(rows.map((r) => (JSON.parse(r.after) as { name?: string }).name));
  });
  const lost = acknowledged.filter((name) => !names.has(name));
  result.check(
    'every acknowledged write is in the database',
    lost.length === 0,
    `${acknowledged.length} writes answered 200, ${lost.length} missing`,
  );
  result.note({
    requests: sent.length,
    answers: formatTally(tally(sent.map((s) => s.outcome))),
    inFlightAtSigterm: inFlightAtSigterm.size + slow.length,
    inFlightOutcomes: formatTally(tally(sent.filter((s) => inFlightAtSigterm.has(s.agent)).map((s) => s.outcome))),
    answeredAfterSigterm: afterSigterm.filter((s) => s.outcome.status !== undefined).length,
    failedAfterSigterm: formatTally(tally(afterSigterm.filter((s) => s.outcome.error !== undefined).map((s) => s.outcome))),
    resetOnReusedConnection: afterSigterm.filter((s) => s.outcome.error === 'ECONNRESET' && s.outcome.reused).length,
    acceptedThenFailed: broken.length,
    exitCode: String(exit?.code),
    msToExit: exitMs,
  });
  return result;
}

if (isMain(import.meta.url)) await runDrill(2 * 60_000, (t) => sigtermDrill(t, FULL));
