// Baseline for newsletters: a bare nodemailer pooled transport sending BENCH_MESSAGES messages to SMTP_URL,
// with as many connections as the CLI uses; with BENCH_DKIM_KEY_FILE, each signed as Convene signs (same
// key, same headers, the key parsed once: given PEM text, Node parses it again for every signature).
// Each message is the one Convene sends for the Markdown in BENCH_BODY_FILE (its pure renderer, with the
// recipient's links in place): the same bytes to encode and sign, so the ratio measures Convene's own work.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { forRecipient, renderCampaign } from '../../src/modules/campaigns/campaigns.render.js';

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
const rendered = renderCampaign({
  subject: 'Bench newsletter',
  markdown: readFileSync(process.env.BENCH_BODY_FILE ?? '', 'utf8'),
  clusterName: 'Bench Cluster',
  listId: 'bench.convene.bench',
  baseUrl: 'https://convene.bench',
});

/** Message n: Convene's copy for reader n, with links as long as its signed ones. */
function message(n: number) {
  const token = `${n}.${'x'.repeat(64)}`;
  return forRecipient(rendered, {
    unsubscribeUrl: `https://convene.bench/unsubscribe?token=${token}`,
    preferencesUrl: `https://convene.bench/preferences?token=${token}`,
  });
}

let next = 0;
async function lane(): Promise<void> {
  while (next < total) {
    const n = next++;
    await transport.sendMail({ from: 'Bench Cluster <news@convene.bench>', to: `reader${n}@readers.example`, ...message(n) });
  }
}
// Twice as many messages in flight as connections, so no connection waits for the loop.
await Promise.all(Array.from({ length: connections * 2 }, lane));
transport.close();
