// Requests that change things take a turn at the write gate the server shares with its mail thread
// (src/db/write-gate.ts) before their handler, waiting for it as a promise: the event loop goes on
// serving the other requests meanwhile, and the handler's transactions, and the idempotency record
// after it, then wait for nothing. The turn ends once the answer is handed over (onSend, the last of the
// route's), or when the client hangs up first. Work a route does after its answer (onResponse: a sign-up,
// a sign-in link) takes a turn of its own. Without a mail thread (MAIL_THREAD off, the CLI, most tests)
// there is no gate and this costs nothing.
//
// Registered after the plugins that add their own route hooks (idempotency), so the turn is taken before
// theirs run and ends after them.
import type { FastifyReply, FastifyRequest, onResponseAsyncHookHandler, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { inWriteTurn, writeTurn } from '../db/client.js';
import { asList, writes } from '../lib/route-hooks.js';

const turns = new WeakMap<FastifyRequest, { end(): void }>();

async function take(request: FastifyRequest): Promise<void> {
  const turn = await writeTurn(request.server.sqlite);
  if (turn) turns.set(request, turn);
}

function end(request: FastifyRequest): void {
  const turn = turns.get(request);
  if (turn === undefined) return;
  turns.delete(request);
  turn.end();
}

async function endOnSend(request: FastifyRequest, _reply: FastifyReply, payload: unknown): Promise<unknown> {
  end(request);
  return payload;
}

const endOnAbort = async (request: FastifyRequest) => end(request);

/** A route's own onResponse hook (async, as every one of ours is), run in a write turn of its own. */
function inTurn(hook: onResponseHookHandler | onResponseAsyncHookHandler): onResponseAsyncHookHandler {
  if (hook.length > 2) throw new Error(`a route that writes must give onResponse async hooks, not callbacks (${hook.name})`);
  return async function (this: unknown, request, reply) {
    await inWriteTurn(request.server.sqlite, () => (hook as onResponseAsyncHookHandler).call(this as never, request, reply));
  };
}

export default fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      if (!writes(route)) return;
      route.preHandler = [take, ...asList(route.preHandler)];
      route.onSend = [...asList(route.onSend), endOnSend];
      // Fallbacks: a reply that never reaches onSend's end (hijacked) or a client gone before the answer.
      route.onResponse = [...asList(route.onResponse).map(inTurn), endOnAbort];
      route.onRequestAbort = [...asList(route.onRequestAbort), endOnAbort];
    });
  },
  { name: 'write-turns', dependencies: ['db', 'idempotency'] },
);
