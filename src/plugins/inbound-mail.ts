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
  /** Acts on one message; a rejection answers 451 (the sender tries again later). */
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
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return callback(refuse(552, '5.3.4 Message too big'));
            const recipients = session.envelope.rcptTo.map((r) => r.address);
            accept(Buffer.concat(chunks), recipients).then(
              (result) => {
                log.info({ recipients: recipients.length, result }, 'report received');
                callback();
              },
              (err: unknown) => {
                log.error({ err }, 'could not act on a report; the sender will try again');
                callback(refuse(451, '4.3.0 Try again later'));
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
