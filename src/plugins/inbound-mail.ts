// The inbound SMTP listener (INBOUND_SMTP_PORT, off by default): takes mail for the return-path domain
// only (bounces, abuse reports, unsubscribe replies) and hands each message to `accept`. It is not a
// relay: a recipient at any other domain is refused at RCPT TO. Put it behind the domain's MX (TLS, if
// wanted, at a relay in front), or leave it off and pipe a mailbox to `convene mail ingest`.
import type { AddressInfo } from 'node:net';
import fp from 'fastify-plugin';
import type { SMTPServer } from 'smtp-server';

export interface InboundMailOptions {
  /** Where to listen, and the only domain mail is taken for; undefined: off. */
  listen: { host: string; port: number; domain: string } | undefined;
  /** Acts on one message; a rejection because the database is busy answers 451 (the sender tries again later). */
  accept(raw: Buffer, recipients: string[]): Promise<unknown>;
  /** Largest message taken. */
  maxBytes: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The inbound listener's port once listening (0 when off). */
    inboundMailPort(): number;
  }
}

const refuse = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

export default fp<InboundMailOptions>(
  async (app, { listen, accept, maxBytes }) => {
    let server: SMTPServer | undefined;
    app.decorate('inboundMailPort', () => (server ? (server.server.address() as AddressInfo).port : 0));
    if (!listen) return;
    const log = app.log.child({ component: 'inbound-mail' });

    app.addHook('onReady', async () => {
      const { SMTPServer } = await import('smtp-server');
      server = new SMTPServer({
        name: listen.domain,
        authOptional: true,
        disabledCommands: ['AUTH', 'STARTTLS'],
        size: maxBytes,
        maxClients: 20,
        // A report is about one message: a bounce has one recipient.
        maxRecipients: 10,
        // No DNS lookups of the client (they delay the greeting and tell us nothing).
        disableReverseLookup: true,
        socketTimeout: 60_000,
        closeTimeout: 1_000,
        logger: false,
        banner: 'Convene: bounces and reports only',
        onRcptTo(address, _session, callback) {
          const domain = address.address.slice(address.address.lastIndexOf('@') + 1).toLowerCase();
          if (domain !== listen.domain)
            return callback(refuse(550, `5.7.1 Relaying denied: this server takes mail for ${listen.domain} only`));
          callback();
        },
        onData(stream, session, callback) {
          // Kept up to maxBytes, the rest read and dropped: a report's fields and the quoted headers come
          // first, and a report carrying a large original message is still a report.
          const chunks: Buffer[] = [];
          let kept = 0;
          stream.on('data', (chunk: Buffer) => {
            if (kept >= maxBytes) return;
            chunks.push(chunk.subarray(0, maxBytes - kept));
            kept += chunk.length;
          });
          stream.on('end', () => {
            const recipients = session.envelope.rcptTo.map((r) => r.address);
            accept(Buffer.concat(chunks), recipients).then(
              (result) => {
                log.info({ recipients: recipients.length, result }, 'report received');
                callback();
              },
              (err: unknown) => {
                // The database busy: the sender tries again later. Anything else would fail the same way
                // every time, so the message is taken (and logged) rather than retried for days.
                const busy = (err as { code?: unknown }).code === 'SQLITE_BUSY';
                log.error(
                  { err: { message: (err as Error).message, code: (err as { code?: unknown }).code } },
                  'could not act on a report',
                );
                callback(busy ? refuse(451, '4.3.0 Try again later') : undefined);
              },
            );
          });
        },
      });
      server.on('error', (err) => log.error({ err }, 'inbound SMTP error'));
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.server.once('error', reject);
        listening.listen(listen.port, listen.host, () => {
          listening.server.off('error', reject);
          resolve();
        });
      });
      log.info({ host: listen.host, port: app.inboundMailPort() }, 'inbound SMTP listening');
    });

    app.addHook('onClose', async () => {
      const current = server;
      if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
    });
  },
  { name: 'inbound-mail', fastify: '5.x' },
);
