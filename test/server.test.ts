// The real server process: starts on a data folder, answers, and on SIGTERM finishes in-flight work and exits 0.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { tempDir, TEST_SECRET, until } from './helper.js';

const root = new URL('..', import.meta.url).pathname;

async function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/server.ts')], {
    cwd: root,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', () => reject(new Error(`server exited: ${output}`)));
  });
  return { child, port, output: () => output };
}

t.test('SIGTERM lets an in-flight request finish, checkpoints the WAL and exits 0', async (t) => {
  const dataDir = tempDir(t);
  const env = { DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET };
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false };
  let keyJson = '';
  await runCli(['cluster', 'create', '--slug', 'north-west', '--name', 'NW'], { env, io });
  await runCli(['organiser', 'create', '--cluster', 'north-west', '--email', 'o@example.org', '--name', 'O', '--json'], {
    env,
    io: { ...io, stdout: (s) => (keyJson += s) },
  });
  const { apiKey } = JSON.parse(keyJson);

  const server = await startServer(env);
  t.teardown(() => server.child.kill('SIGKILL'));
  const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
  t.equal(ready.status, 200);

  // Send the headers and half the body, stop the server, then send the rest.
  const body = JSON.stringify({ name: 'Renamed during shutdown' });
  const socket = connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `PATCH /v1/clusters/north-west HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: ` +
      `application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
  );
  let response = '';
  socket.on('data', (chunk) => (response += chunk.toString()));
  // Once the server has the request (its log says so), not after a fixed time a busy machine could outlast.
  const logged = (pattern: RegExp) =>
    server
      .output()
      .split('\n')
      .some((line) => pattern.test(line));
  await until('the server to take the request', () => logged(/"incoming request".*"PATCH"|"PATCH".*"incoming request"/));
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await until('the server to begin its shutdown', () => logged(/shutting down/));
  socket.end(body.slice(10));
  const [code] = await exited;
  t.equal(code, 0, `exit code 0: ${server.output().slice(-500)}`);
  t.match(response, /^HTTP\/1\.1 200/, 'the in-flight request completed');
  t.match(response, /Renamed during shutdown/);

  const wal = join(dataDir, 'convene.db-wal');
  t.ok(!existsSync(wal) || statSync(wal).size === 0, 'WAL checkpointed on shutdown');
  t.notMatch(server.output(), new RegExp(apiKey), 'the key never reaches the log');
});
