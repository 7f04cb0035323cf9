// A small HTTP client for the drills: keep-alive connections like a real client's, and every outcome
// recorded (a status, or how the connection failed, and whether the answer was cut short).
import { Agent, request as httpRequest } from 'node:http';

export interface Outcome {
  /** When the request was started and when it ended (epoch ms). */
  startedAt: number;
  endedAt: number;
  status?: number;
  body?: string;
  /** Connection failure: ECONNREFUSED, ECONNRESET, EPIPE... */
  error?: string;
  /** The status line had arrived but the body was cut off. */
  truncated?: boolean;
  /** Sent on a kept-alive connection that an earlier request had used. */
  reused?: boolean;
}

export interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Give up after this long (the outcome is then error ETIMEDOUT). */
  timeoutMs?: number;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** Sends one request and resolves with its outcome; never rejects. */
export function call(baseUrl: string, agent: Agent, c: Call): Promise<Outcome> {
  const startedAt = Date.now();
  const payload = c.body === undefined ? undefined : JSON.stringify(c.body);
  return new Promise((resolve) => {
    let settled = false;
    let gotResponse = false;
    const finish = (outcome: Omit<Outcome, 'startedAt' | 'endedAt'>) => {
      if (settled) return;
      settled = true;
      resolve({ startedAt, endedAt: Date.now(), ...outcome, reused: req.reusedSocket });
    };
    const req = httpRequest(
      `${baseUrl}${c.path}`,
      {
        method: c.method ?? 'GET',
        agent,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
          ...c.headers,
        },
        timeout: c.timeoutMs ?? 30_000,
      },
      (res) => {
        gotResponse = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.complete) finish({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
          else finish({ status: res.statusCode, error: 'ECONNRESET', truncated: true });
        });
        res.on('error', (err: NodeJS.ErrnoException) =>
          finish({ status: res.statusCode, error: err.code ?? err.message, truncated: true }),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message, truncated: gotResponse }));
    req.end(payload);
  });
}

/** Counts of outcomes by status code or error code, e.g. { '201': 40, '409': 12, ECONNREFUSED: 3 }. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status !== undefined && !o.truncated ? String(o.status) : (o.error ?? 'unknown');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function formatTally(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
}
