// newsletter send checks the sending before a campaign goes out: the DKIM record matches the key, SPF
// and DMARC records exist (DNS answered from this test's own records), the links reach people and the
// list fits the provider's daily limit. --dry-run lists the problems; a real send asks (or needs --yes).
import t, { type Test } from 'tap';
import { runCli } from '../src/cli/index.js';
import { newsletterSetup } from './helpers/newsletter.js';

const DOMAIN = 'nw-healthtec.org.uk';

async function setup(t: Test, env: Record<string, string> = {}) {
  const world = await newsletterSetup(t, { env: { PUBLIC_BASE_URL: `https://convene.${DOMAIN}`, ...env } });
  const records = new Map<string, string[]>();
  let failing: string | null = null;
  const resolveTxt = async (name: string) => {
    if (failing) throw Object.assign(new Error('server failure'), { code: failing });
    const found = records.get(name.toLowerCase());
    if (!found) throw Object.assign(new Error(`${name} not found`), { code: 'ENOTFOUND' });
    return found.map((record) => record.match(/.{1,255}/g)!);
  };
  const run = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: { ...world.env, PUBLIC_BASE_URL: `https://convene.${DOMAIN}`, ...env },
      io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false },
      resolveTxt,
    });
    return { code, stdout, stderr };
  };
  const body = world.write('news.md', 'Hello {{first_name|there}}.\n');
  const send = (...more: string[]) =>
    run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Winter news', '--body', body, ...more);
  const checks = async () => {
    const dry = await send('--dry-run', '--json');
    t.equal(dry.code, 0, dry.stderr);
    return JSON.parse(dry.stdout).checks as string[];
  };
  return { ...world, run, send, checks, records, failWith: (code: string | null) => (failing = code) };
}

t.test('each missing piece is named by --dry-run, and none is left once the records are published', async (t) => {
  const { run, send, checks, records, services, subscribe, failWith } = await setup(t);
  subscribe('ada@example.org');
  t.match(await checks(), [
    /the sender Convene <convene@localhost> is on localhost, a reserved name: no receiver accepts mail from it \(DKIM, SPF and DMARC not checked\)/,
  ]);

  services.clusters.update(
    'north-west',
    { sender: { name: 'North West HealthTec', address: `news@${DOMAIN}` } },
    { type: 'cli', label: 't' },
  );
  t.same(await checks(), [
    `mail from ${DOMAIN} is not signed: make a DKIM key (convene cluster dkim --cluster <slug>) and publish its record`,
    `${DOMAIN} has no SPF record (TXT "v=spf1 ..."): receivers cannot tell your mail server may send for it`,
    `${DOMAIN} has no DMARC record at _dmarc.${DOMAIN}: Gmail and Yahoo require one from bulk senders`,
  ]);

  const made = JSON.parse((await run('cluster', 'dkim', '--cluster', 'north-west', '--selector', 's1', '--json')).stdout);
  t.match(await checks(), [/^there is no DKIM record at s1\._domainkey\.nw-healthtec\.org\.uk: publish the one/, /no SPF/, /no DMARC/]);

  // Another key's record (an old one, or a typo) is not this key's.
  const other = JSON.parse((await run('cluster', 'dkim', '--cluster', 'north-west', '--selector', 's1', '--json')).stdout);
  records.set(made.record.name, [made.record.value]);
  t.match(await checks(), [/the DKIM record at s1\._domainkey\.nw-healthtec\.org\.uk is for another key/, /no SPF/, /no DMARC/]);

  records.set(other.record.name, [other.record.value]);
  records.set(DOMAIN, ['google-site-verification=abc', 'v=spf1 ip4:192.0.2.1 -all']);
  records.set(`_dmarc.${DOMAIN}`, ['v=DMARC1; p=quarantine; rua=mailto:dmarc@nw-healthtec.org.uk']);
  t.same(await checks(), [], 'all in order');
  t.match((await send('--dry-run')).stdout, /Sending checks: DKIM, SPF and DMARC records, links and the daily limit are in order\./);

  failWith('ESERVFAIL');
  t.match(await checks(), [
    /could not look up s1\._domainkey\.nw-healthtec\.org\.uk \(ESERVFAIL\)/,
    /could not look up/,
    /could not look up/,
  ]);
});

t.test('links on a reserved name and a list over the daily limit are problems; a real send asks, --yes sends anyway', async (t) => {
  const world = await setup(t, { PUBLIC_BASE_URL: 'https://convene.test', MAIL_DAILY_LIMIT: '2' });
  const { send, checks, subscribe, sink } = world;
  subscribe('ada@example.org');
  subscribe('bob@example.org');
  subscribe('cat@example.org');
  const found = await checks();
  t.match(found, [/PUBLIC_BASE_URL is https:\/\/convene\.test: the links in the newsletter \(unsubscribe included\) reach nobody/]);
  t.match(found, [/./, /3 messages now, after \d+ in the last 24 hours, are over the daily limit of 2 \(MAIL_DAILY_LIMIT\)/]);

  const asked = await send();
  t.equal(asked.code, 1, 'not a terminal and no --yes: not sent');
  t.match(asked.stderr, /problems with sending now:\n- PUBLIC_BASE_URL/);
  t.match(asked.stderr, /not a terminal, so nobody can confirm: add --yes to send/);
  t.equal(sink.messages.filter((m) => m.parsed.subject === 'Winter news').length, 0, 'nothing sent');

  const anyway = await send('--yes');
  t.equal(anyway.code, 0, anyway.stderr);
  t.match(anyway.stderr, /Sending anyway \(--yes\)\./);
  t.equal(sink.messages.filter((m) => m.parsed.subject === 'Winter news').length, 3);
});

t.test('a sender on a subdomain is covered by its parent domain’s DMARC record', async (t) => {
  const { deliverabilityProblems } = await import('../src/modules/campaigns/campaigns.deliverability.js');
  const { generateDkimPrivateKey, dkimRecord } = await import('../src/lib/dkim.js');
  const key = { domainName: `mail.${DOMAIN}`, keySelector: 's1', privateKey: generateDkimPrivateKey() };
  const records = new Map([
    [dkimRecord(key).name, dkimRecord(key).value],
    [`mail.${DOMAIN}`, 'v=spf1 -all'],
    [`_dmarc.${DOMAIN}`, 'v=DMARC1; p=reject'],
  ]);
  const resolveTxt = async (name: string) => {
    const found = records.get(name);
    if (!found) throw Object.assign(new Error('none'), { code: 'ENODATA' });
    return [[found]];
  };
  const setup = {
    from: `news@mail.${DOMAIN}`,
    dkim: key,
    publicBaseUrl: `https://convene.${DOMAIN}`,
    recipients: 1,
    sentToday: 0,
    dailyLimit: undefined,
  };
  t.same(await deliverabilityProblems(setup, resolveTxt), [], "the parent's record covers it");
  records.delete(`_dmarc.${DOMAIN}`);
  t.match(await deliverabilityProblems(setup, resolveTxt), [/mail\.nw-healthtec\.org\.uk has no DMARC record/]);
  records.set(`_dmarc.${DOMAIN}`, 'v=DMARC1; p=reject');

  // With a return-path domain, receivers check SPF against it: it needs a record too.
  const withReturnPath = { ...setup, returnPathDomain: `bounces.${DOMAIN}` };
  t.match(await deliverabilityProblems(withReturnPath, resolveTxt), [
    /return-path domain bounces\.nw-healthtec\.org\.uk has no SPF record/,
  ]);
  records.set(`bounces.${DOMAIN}`, 'v=spf1 ip4:192.0.2.1 -all');
  t.same(await deliverabilityProblems(withReturnPath, resolveTxt), []);
});
