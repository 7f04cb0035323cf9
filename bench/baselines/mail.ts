// Baseline for newsletters: a bare nodemailer pooled transport sending BENCH_MESSAGES pre-rendered
// messages (the size of a rendered newsletter) to SMTP_URL, with as many connections as the CLI uses;
// with BENCH_DKIM_KEY_FILE, each signed as Convene signs (same key, same headers, the key parsed once:
// given PEM text, Node parses it again for every signature).
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

const total = Number(process.env.BENCH_MESSAGES ?? 10_000);
const connections = Number(process.env.MAIL_CONCURRENCY ?? 4);
const keyFile = process.env.BENCH_DKIM_KEY_FILE;
const dkim = keyFile
  ? {
      domainName: 'convene.bench',
      keySelector: 'bench',
      // A KeyObject goes straight to crypto's sign(); nodemailer's types say only PEM text.
      privateKey: createPrivateKey(readFileSync(keyFile, 'utf8')) as unknown as string,
      headerFieldNames:
        'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:List-Id:List-Unsubscribe:List-Unsubscribe-Post',
    }
  : undefined;
const transport = nodemailer.createTransport({
  url: process.env.SMTP_URL,
  pool: true,
  maxConnections: connections,
  ...(dkim ? { dkim } : {}),
});
const html = `<html><body>${'<p>News from the cluster: pitches, funding rounds and partnerships.</p>'.repeat(40)}</body></html>`;
const text = 'News from the cluster: pitches, funding rounds and partnerships.\n'.repeat(40);
let next = 0;
async function lane(): Promise<void> {
  while (next < total) {
    const n = next++;
    await transport.sendMail({
      from: 'Bench Cluster <news@convene.bench>',
      to: `reader${n}@readers.example`,
      subject: 'Bench newsletter',
      text,
      html,
      headers: {
        'List-Unsubscribe': `<https://convene.bench/unsubscribe?token=${n}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
  }
}
// Twice as many messages in flight as connections, so no connection waits for the loop.
await Promise.all(Array.from({ length: connections * 2 }, lane));
transport.close();
