// A load client that is never the bottleneck, for bursts: a process of its own (on its own CPU when
// taskset is there) holding one open keep-alive connection per request, which writes every request of
// a burst at once over raw sockets and reads each answer's status line and body. It reports the time
// from the first write to the last byte, and its own CPU time meanwhile, so a result can say whether
// the client, not the server, set the pace. Driven over IPC by bench/scenarios/bookings.ts:
//   {type: 'connect', port, count} -> {type: 'ready'}
//   {type: 'burst', requests: [{method, path, headers, body}]} -> {type: 'done', statuses, ms, cpuMs}
import { connect, type Socket } from 'node:net';

interface Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

let port = 0;
let sockets: (Socket | null)[] = [];

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Opens the connections that are missing (the server closed an idle one): never inside a timed burst. */
async function ensure(count: number): Promise<void> {
  while (sockets.length < count) sockets.push(null);
  await Promise.all(
    sockets.map(async (socket, i) => {
      if (socket && !socket.destroyed) return;
      const fresh = await open();
      fresh.on('close', () => (sockets[i] = null));
      fresh.on('error', () => undefined);
      sockets[i] = fresh;
    }),
  );
}

/** Resolves with the status of the one answer that comes back on `socket`. */
function answer(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(Number(head.slice(9, 12)));
    };
    const onClose = () => reject(new Error('the server closed a connection mid-burst'));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

function wire(request: Request): string {
  const body = Buffer.byteLength(request.body);
  const headers = Object.entries({
    host: `127.0.0.1:${port}`,
    'content-type': 'application/json',
    'content-length': String(body),
    ...request.headers,
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `${request.method} ${request.path} HTTP/1.1\r\n${headers}\r\n${request.body}`;
}

process.on('message', (message: { type: string; port?: number; count?: number; requests?: Request[] }) => {
  void (async () => {
    if (message.type === 'connect') {
      port = message.port!;
      sockets = [];
      await ensure(message.count!);
      process.send!({ type: 'ready' });
      return;
    }
    const requests = message.requests!;
    await ensure(requests.length);
    const payloads = requests.map(wire);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const answers = sockets.slice(0, requests.length).map((socket) => answer(socket!));
    sockets.slice(0, requests.length).forEach((socket, i) => socket!.write(payloads[i]!));
    const statuses = await Promise.all(answers);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    process.send!({ type: 'done', statuses, ms, cpuMs: (used.user + used.system) / 1000 });
  })().catch((error: Error) => process.send!({ type: 'error', message: error.message }));
});
