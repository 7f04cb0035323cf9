// Baseline: Fastify hello-world, nothing else.
import Fastify from 'fastify';
import { announce } from '../servers/ready.js';

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
await announce(app);
