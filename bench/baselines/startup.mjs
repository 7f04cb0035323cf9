// Baseline for start-up: plain Node (no TypeScript loader, like `npm start`), Fastify and better-sqlite3
// opening a file database, answering /readyz once it can read from it. PORT, DATA_DIR from the runner.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Fastify from 'fastify';

const require = createRequire(import.meta.url);
const Database = require(Number(process.versions.node.split('.')[0]) >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3');
const db = new Database(join(process.env.DATA_DIR, 'baseline.db'));
db.pragma('journal_mode = WAL');
const app = Fastify({ logger: false });
app.get('/readyz', async () => ({ status: db.prepare('select 1 as ok').get().ok === 1 ? 'ready' : 'not' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
