// `newsletter send` starts again with the heap flags it runs best with (src/cli/relaunch.ts): which
// commands do, that the user's own flags win, and, as a real process, that the pid, the arguments and
// node's own options survive while V8's heap limit changes.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { relaunchArgs } from '../src/cli/relaunch.js';

const SEND_HEAP_FLAGS = ['--max-semi-space-size=16', '--max-old-space-size=1024'];
import { tempDir, TEST_SECRET } from './helper.js';

const node = '/usr/bin/node';
const script = '/app/dist/scripts/convene.js';
const started = (args: string[], execArgv: string[] = [], env: Record<string, string> = {}, heapLimitMb?: number) =>
  relaunchArgs({ argv: [node, script, ...args], execArgv, env }, heapLimitMb);

t.test('only newsletter send and resume relaunch, with the flags before node’s own options and the same arguments', async (t) => {
  const send = ['newsletter', 'send', '--cluster', 'north-west', '--subject', 'News', '--body', 'news.md'];
  t.same(started(send, ['--import', 'tsx']), [...SEND_HEAP_FLAGS, '--import', 'tsx', script, ...send]);
  t.same(started(['--json', ...send]), [...SEND_HEAP_FLAGS, script, '--json', ...send], 'after the global --json too');
  t.same(started(['newsletter', 'resume', 'c1']), [...SEND_HEAP_FLAGS, script, 'newsletter', 'resume', 'c1'], 'a resume sends too');
  t.equal(started(['newsletter', 'digest', '--cluster', 'north-west']), null);
  t.equal(started(['cluster', 'show', 'send']), null);
  t.equal(started(['--help']), null);
  t.equal(started([]), null);
});

t.test('heap flags given by the user win, only the others are added, and a relaunched process never relaunches again', async (t) => {
  const send = ['newsletter', 'send', '--cluster', 'c'];
  t.same(started(send, ['--max-old-space-size=300']), ['--max-semi-space-size=16', '--max-old-space-size=300', script, ...send]);
  t.same(started(send, [], { NODE_OPTIONS: '--max_semi_space_size=2' }), ['--max-old-space-size=1024', script, ...send]);
  t.equal(started(send, ['--max-old-space-size=300', '--max-semi-space-size=8']), null, 'both given: runs as started');
  t.equal(started(send, ['--max-old-space-size=300'], { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=16' }), null);
  t.same(started(send, [], { NODE_OPTIONS: '--enable-source-maps' }), [...SEND_HEAP_FLAGS, script, ...send]);
  t.equal(started(send, [], { CONVENE_SEND_HEAP: '1' }), null);
});

t.test('the old-space limit never goes above the one V8 chose for a small machine', async (t) => {
  const send = ['newsletter', 'send', '--cluster', 'c'];
  t.same(started(send, [], {}, 700.6), ['--max-semi-space-size=16', '--max-old-space-size=700', script, ...send]);
  t.same(started(send, [], {}, 4288), [...SEND_HEAP_FLAGS, script, ...send]);
});

t.test('as a process: same pid, the same arguments, the send’s heap limit, and no warning', async (t) => {
  const dir = tempDir(t);
  // Loaded by node's own --import in both images: says which process it is in and its heap limit.
  const reporter = join(dir, 'report.mjs');
  writeFileSync(
    reporter,
    "import v8 from 'node:v8';\n" +
      'process.stderr.write(`HEAP ${JSON.stringify({ pid: process.pid, limitMb: v8.getHeapStatistics().heap_size_limit / 2 ** 20 })}\\n`);\n',
  );
  const body = join(dir, 'news.md');
  writeFileSync(body, '# News\n');
  const root = new URL('..', import.meta.url).pathname;
  const run = (...args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', reporter, '--import', 'tsx', join(root, 'scripts/convene.ts'), ...args],
        { cwd: root, env: { ...process.env, DATA_DIR: dir, SECRET_KEY: TEST_SECRET } },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
      );
    });
  const heaps = (stderr: string) => [...stderr.matchAll(/^HEAP (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { pid: number; limitMb: number });

  const sent = await run('newsletter', 'send', '--cluster', 'nope', '--subject', 'News', '--body', body, '--dry-run');
  t.equal(sent.code, 1);
  t.match(sent.stderr, /CLUSTER_NOT_FOUND/, 'the relaunched command ran with the same arguments');
  t.notMatch(sent.stderr, /Warning/);
  const images = heaps(sent.stderr);
  if (typeof (process as { execve?: unknown }).execve === 'function') {
    t.equal(images.length, 2, 'started, then started again');
    t.equal(images[1]!.pid, images[0]!.pid, 'in the same process');
    // The old space's limit (1 GB, or V8's own where that is lower) plus the young generation's.
    const old = Math.min(1024, Math.floor(images[0]!.limitMb));
    t.ok(images[1]!.limitMb >= old && images[1]!.limitMb < old + 100, `then the send's (${images[1]!.limitMb} MB)`);
  } else {
    t.equal(images.length, 1, 'no process.execve on this Node: it runs as started');
  }
  const other = await run('cluster', 'show', 'nope');
  t.equal(other.code, 1);
  t.equal(heaps(other.stderr).length, 1, 'another command runs as started');
});
