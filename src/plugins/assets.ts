// The stylesheet the HTML pages share, with a long cache lifetime and an ETag.
import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import { PAGE_CSS } from '../lib/page.js';

export default fp(
  async (app) => {
    const etag = `"${createHash('sha256').update(PAGE_CSS).digest('base64url').slice(0, 22)}"`;
    app.get('/assets/convene.css', { schema: { hide: true } }, async (request, reply) => {
      reply.header('etag', etag).header('cache-control', 'public, max-age=86400');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('text/css; charset=utf-8').send(PAGE_CSS);
    });
  },
  { name: 'assets' },
);
