// What a newsletter says: its links made absolute, its plain-text part, its unsubscribe headers;
// through the command line and the API, received by a real SMTP server on 127.0.0.1.
import t, { type Test } from 'tap';
import { createClusterWithOrganiser } from './fixtures.js';
import { buildTestApp } from './helper.js';
import { newsletterSetup } from './helpers/newsletter.js';

async function setup(t: Test) {
  const world = await newsletterSetup(t, {
    env: { PUBLIC_BASE_URL: 'https://convene.test/base', MAIL_FROM: 'North West <news@convene.test>' },
  });
  const { sink, run } = world;
  const send = (file: string, ...more: string[]) =>
    run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Winter news', '--body', file, ...more);
  const newsletters = () => sink.messages.filter((m) => m.parsed.subject === 'Winter news');
  return { ...world, send, newsletters };
}

t.test('links written as a path are made absolute; a bare relative one is reported by --dry-run and refused by send', async (t) => {
  const { subscribe, write, send, run, newsletters } = await setup(t);
  subscribe('ada@example.org');
  const relative = write(
    'relative.md',
    'See the [programme](/c/north-west) and our [annual report](report.pdf).\n\n![Logo](/assets/logo.png)\n',
  );

  const dry = await send(relative, '--dry-run', '--json');
  t.equal(dry.code, 1, 'a dry run that finds what would stop the send exits 1');
  t.match(dry.stderr, /a real send would be refused: the link "annual report"/);
  const problems = JSON.parse(dry.stdout).problems as string[];
  t.equal(problems.length, 1, problems.join('\n'));
  t.match(problems[0], /"annual report" points to "report\.pdf", which is not a full address/);

  const refused = await send(relative, '--yes');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /not sent: the link "annual report" points to "report\.pdf"/);
  const test = await send(relative, '--test-to', 'editor@example.org');
  t.equal(test.code, 1, 'a test copy is refused too');
  t.same(JSON.parse((await run('newsletter', 'list', '--cluster', 'north-west', '--json')).stdout), [], 'no campaign was made');

  const fixed = write(
    'fixed.md',
    'See the [programme](/c/north-west), [home](//convene.test/) and [mail us](mailto:hi@example.org).\n\n![Logo](/assets/logo.png)\n',
  );
  const clean = await send(fixed, '--dry-run', '--json');
  t.same(JSON.parse(clean.stdout).problems, [], 'paths and full addresses are no problem');
  const sent = await send(fixed, '--yes', '--json');
  t.equal(sent.code, 0, sent.stderr);
  const html = newsletters()[0]!.parsed.html as string;
  t.match(html, '<a href="https://convene.test/c/north-west">programme</a>', "a path is resolved against the base URL's origin");
  t.match(html, '<a href="https://convene.test/">home</a>', 'a scheme-relative address takes https');
  t.match(html, '<a href="mailto:hi@example.org">mail us</a>');
  t.match(html, '<img src="https://convene.test/assets/logo.png" alt="Logo">');
  t.notMatch(html, /(href|src)="\//, 'no relative address is left');
});

t.test('the API refuses a draft with a link that cannot be made absolute, and changes nothing', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const draft = (body: string) =>
    app.inject({ method: 'POST', url: '/v1/clusters/north-west/campaigns', headers: auth, payload: { subject: 'News', body } });
  const refused = await draft('Read [the agenda](../agenda.html).');
  t.equal(refused.statusCode, 400);
  t.match(refused.headers['content-type'], /application\/problem\+json/);
  t.match(refused.json(), { code: 'VALIDATION_FAILED', detail: /"the agenda" points to "\.\.\/agenda\.html"/ });
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM campaigns').get() as { n: number }).n, 0);
  t.equal((await draft('Read [the agenda](/c/north-west).')).statusCode, 201);
  const typo = await draft('Dear {{frist_name|there}}, read [the agenda](/c/north-west).');
  t.equal(typo.statusCode, 400);
  t.match(typo.json(), { code: 'VALIDATION_FAILED', detail: /unknown merge field \{\{frist_name\}\}/ });
  t.equal((await draft('Dear {{first_name|there}}, [your choices]({{preferences_url}}).')).statusCode, 201, 'known fields are taken');
});

t.test('the text part is plain text: no Markdown, no HTML tags, each link as its text and its address', async (t) => {
  const { subscribe, write, send, newsletters } = await setup(t);
  subscribe('ada@example.org');
  const body = write(
    'rich.md',
    [
      '# Winter news',
      '',
      'Dear **members**, our [annual report](https://example.org/report.pdf) is out, _finally_. See <https://example.org/a> or www.example.org.',
      '',
      "- <script>alert('x')</script>first",
      '- second, with `code`',
      '  1. nested',
      '',
      '> A quote',
      '',
      '![Our logo](https://example.org/logo.png)',
      '',
      '```',
      'line one',
      '```',
      '',
      'Fish &amp; chips \\*not emphasis\\*',
    ].join('\n'),
  );
  const sent = await send(body, '--yes', '--json');
  t.equal(sent.code, 0, sent.stderr);
  const text = newsletters()[0]!.parsed.text!;
  const content = text.split('\n\n-- \n')[0];
  t.equal(
    content,
    [
      'Winter news',
      '',
      'Dear members, our annual report (https://example.org/report.pdf) is out, finally. See https://example.org/a or www.example.org.',
      '',
      "- alert('x')first",
      '- second, with code',
      '   1. nested',
      '',
      '> A quote',
      '',
      'Our logo (https://example.org/logo.png)',
      '',
      '    line one',
      '',
      'Fish & chips *not emphasis*',
    ].join('\n'),
  );
  t.notMatch(text, /<\/?[a-z]+>|\*\*|\]\(|^#/m, 'no markup and no tags');
  t.match(text, /\n-- \nYou receive this because you subscribed to North West HealthTec emails\.\n/, 'the footer follows');
});

t.test('List-Unsubscribe carries only the one-click https address; organisers unsubscribe by API and command line', async (t) => {
  const { subscribe, write, send, run, newsletters, services, cluster } = await setup(t);
  subscribe('ada@example.org');
  subscribe('phoned@example.org');
  const body = write('short.md', 'Hello');
  t.equal((await send(body, '--yes', '--json')).code, 0);
  const message = newsletters().find((m) => m.envelope.to[0] === 'ada@example.org')!;
  const header = message.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line.replace(/\r?\n\s+/g, ' ');
  t.match(header, /^List-Unsubscribe: <https:\/\/convene\.test\/base\/unsubscribe\?token=[^>]+>$/, 'no mailto: to an unread mailbox');
  t.notMatch(message.raw, /mailto:/i);

  const cli = await run('subscribers', 'unsubscribe', '--cluster', 'north-west', '--email', ' Phoned@Example.org ', '--json');
  t.equal(cli.code, 0, cli.stderr);
  t.match(JSON.parse(cli.stdout), { email: 'phoned@example.org', status: 'unsubscribed' });
  const again = await run('subscribers', 'unsubscribe', '--cluster', 'north-west', '--email', 'phoned@example.org');
  t.match(again.stdout, /already unsubscribed/);
  const nobody = await run('subscribers', 'unsubscribe', '--cluster', 'north-west', '--email', 'nobody@example.org');
  t.equal(nobody.code, 1);
  t.match(nobody.stderr, /no subscriber nobody@example\.org/);
  const phoned = services.subscribers.findByEmail(cluster, 'phoned@example.org');
  t.same(
    services.subscribers.export(phoned).events.map((e) => [e.kind, e.source]),
    [
      ['requested', 'api'],
      ['confirmed', 'email-link'],
      ['unsubscribed', 'organiser'],
    ],
    'the consent record says an organiser did it, once',
  );
  const before = newsletters().length;
  t.equal((await send(body, '--yes', '--json')).code, 0);
  t.same(
    newsletters()
      .slice(before)
      .map((m) => m.envelope.to[0]),
    ['ada@example.org'],
    'the next newsletter skips them',
  );
});

t.test('POST /v1/subscribers/{id}/unsubscribe: the organiser of its cluster only, idempotent, audited', async (t) => {
  const { app, database, services } = await buildTestApp(t);
  const { auth, cluster } = createClusterWithOrganiser(database);
  const other = createClusterWithOrganiser(database, 'south-east');
  services.subscribers.signUp(cluster, { email: 'caller@example.org' }, { source: 'api' });
  const id = (database.sqlite.prepare('SELECT id FROM subscribers').get() as { id: string }).id;
  services.subscribers.confirm(services.subscribers.get(cluster, id), { source: 'email-link' });
  const unsubscribe = (headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: `/v1/subscribers/${id}/unsubscribe`, headers });

  const foreign = await unsubscribe(other.auth);
  t.equal(foreign.statusCode, 404);
  t.match(foreign.json(), { code: 'SUBSCRIBER_NOT_FOUND' });
  t.equal((await unsubscribe({})).statusCode, 401);
  const done = await unsubscribe(auth);
  t.equal(done.statusCode, 200);
  t.match(done.json(), { id, email: 'caller@example.org', status: 'unsubscribed', unsubscribedAt: /^2026-/ });
  t.equal((await unsubscribe(auth)).statusCode, 200, 'idempotent');
  const audited = database.sqlite.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'subscriber.unsubscribed'").get() as {
    n: number;
  };
  t.equal(audited.n, 1, 'audited once');
});

t.test('merge fields: each reader gets their own name, escaped, or the fallback; unknown fields are listed and refused', async (t) => {
  const world = await setup(t);
  const { subscribe, write, send, sink, services, cluster } = world;
  const ada = subscribe('ada@example.org', { name: 'Ada *Lovelace* <b>bold</b>' });
  const bob = subscribe('bob@example.org', { name: '[Click](javascript:alert(1))' });
  const grace = subscribe('grace@example.org');
  const typo = write('typo.md', 'Dear {{frist_name|there}},\n\nNews from {{cluster}} for {{first-name}}.\n');
  const dry = await send(typo, '--dry-run', '--json');
  t.equal(dry.code, 1, 'the send would be refused');
  t.match(JSON.parse(dry.stdout).problems, [
    /unknown merge fields \{\{frist_name\}\}, \{\{first-name\}\} \(known: name, first_name, cluster, preferences_url, unsubscribe_url\)/,
  ]);
  const refused = await send(typo, '--yes');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /not sent: unknown merge fields \{\{frist_name\}\}/);
  t.equal(sink.messages.length, 0, 'nothing sent');

  const body = write(
    'merge.md',
    'Dear {{first_name|there}},\n\nNews from {{ cluster }} for {{name|you}}.\n\n[Choose what you receive]({{preferences_url}})\n',
  );
  const preview = await send(body, '--dry-run');
  t.equal(preview.code, 0, preview.stderr);
  t.match(preview.stdout, /No problems with the message\./);
  t.match(
    preview.stdout,
    /The first message, to ada@example\.org:\nSubject: Winter news\n\nDear Ada,\n\nNews from North West HealthTec for Ada \*Lovelace\* bold\./,
  );

  const sent = await send(body, '--yes');
  t.equal(sent.code, 0, sent.stderr);
  const to = (address: string) => sink.messages.find((m) => m.envelope.to.includes(address) && m.parsed.subject === 'Winter news')!.parsed;
  const adaHtml = to('ada@example.org').html as string;
  t.match(adaHtml, '<p>Dear Ada,</p>');
  t.match(adaHtml, 'for Ada *Lovelace* &lt;b&gt;bold&lt;/b&gt;.', 'a name is text: no emphasis, no tag');
  t.match(
    adaHtml,
    `<a href="${services.subscribers.link('preferences', ada).replace(/&/g, '&amp;')}">Choose what you receive</a>`,
    'her own link',
  );
  // The text part has no tags, whoever wrote them (issue 11): the name's <b> goes, its words stay.
  t.match(to('ada@example.org').text as string, /Dear Ada,\n\nNews from North West HealthTec for Ada \*Lovelace\* bold\./);
  const bobHtml = to('bob@example.org').html as string;
  t.notMatch(bobHtml, /href="javascript/i, 'a name that looks like a link stays text');
  t.match(bobHtml, 'Dear [Click](javascript:alert(1)),');
  t.match(bobHtml, services.subscribers.link('preferences', bob).replace(/&/g, '&amp;'));
  const graceHtml = to('grace@example.org').html as string;
  t.match(graceHtml, '<p>Dear there,</p>', 'the fallback when there is no name');
  t.match(graceHtml, 'for you.');
  t.match(graceHtml, services.subscribers.link('preferences', grace).replace(/&/g, '&amp;'));
  t.notMatch(adaHtml + bobHtml + graceHtml, /\{\{/, 'no merge field left');

  // In the subject too, as a header value.
  const { run } = world;
  const subjects = await run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'News for {{first_name|you}}',
    '--body',
    body,
    '--yes',
  );
  t.equal(subjects.code, 0, subjects.stderr);
  const received = sink.messages.map((m) => m.parsed.subject).filter((subject) => subject?.startsWith('News for'));
  t.same(received.sort(), ['News for Ada', 'News for [Click](javascript:alert(1))', 'News for you']);
  t.equal(cluster.name, 'North West HealthTec');
});

t.test('a copy is made as it leaves, not stored: the name and cluster name it carries are those at the moment it is sent', async (t) => {
  const { subscribe, services, cluster, database, sink } = await setup(t);
  const actor = { type: 'cli', label: 'test' } as const;
  const ada = subscribe('ada@example.org', { name: 'Ada Lovelace' });
  const bob = subscribe('bob@example.org', { name: 'Bob Babbage' });
  const draft = services.campaigns.createDraft(
    cluster,
    { subject: 'News for {{first_name|you}}', body: 'Dear {{first_name|reader}},\n\nNews from {{cluster}}.\n' },
    actor,
  );
  services.campaigns.start(draft.id, actor);
  const campaign = services.campaigns.get(draft.id);
  const rendered = services.campaigns.render(campaign, cluster);
  const sql = database.sqlite;
  const stored = () =>
    sql
      .prepare(
        "SELECT subject, outbox_bodies.outbox_id AS body FROM outbox LEFT JOIN outbox_bodies ON outbox_id = id WHERE kind = 'newsletter'",
      )
      .all();
  const unsubscribeHeader = (m: { parsed: { headerLines: readonly { key: string; line: string }[] } }) =>
    m.parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line.replace(/\r?\n\s+/g, ' ');
  const copyTo = (address: string) =>
    sink.messages.find((m) => m.envelope.to.includes(address) && m.parsed.subject?.startsWith('News for'))!;

  t.equal(services.campaigns.enqueueBatch(campaign, rendered, 1), 1, "Ada's copy handed to the outbox");
  t.same(stored(), [{ subject: 'News for {{first_name|you}}', body: null }], 'no body stored; the subject logged is the template');
  // She changes her name after the hand-over: the copy she gets has the new one.
  sql.prepare('UPDATE subscribers SET name = ? WHERE id = ?').run('Augusta Ada King', ada);
  await services.mail.worker({ concurrency: 1 }).drain();
  const adaCopy = copyTo('ada@example.org').parsed;
  t.equal(adaCopy.subject, 'News for Augusta');
  t.match(adaCopy.text, /^Dear Augusta,\n\nNews from North West HealthTec\./);
  t.equal(
    unsubscribeHeader(copyTo('ada@example.org')),
    `List-Unsubscribe: <${services.subscribers.link('unsubscribe', ada)}>`,
    'her own unsubscribe link',
  );

  // The cluster is renamed between two copies: the next one carries the new name (the rendering is not kept stale).
  sql.prepare('UPDATE clusters SET name = ? WHERE id = ?').run('North West Health', cluster.id);
  t.equal(services.campaigns.enqueueBatch(campaign, rendered, 1), 1, "Bob's copy handed to the outbox");
  await services.mail.worker({ concurrency: 1 }).drain();
  const bobCopy = copyTo('bob@example.org');
  t.equal(bobCopy.parsed.subject, 'News for Bob');
  t.match(bobCopy.parsed.text, /^Dear Bob,\n\nNews from North West Health\./);
  t.equal(unsubscribeHeader(bobCopy), `List-Unsubscribe: <${services.subscribers.link('unsubscribe', bob)}>`);
  t.equal(sink.messages.filter((m) => m.parsed.subject?.startsWith('News for')).length, 2, 'one copy each');
  t.same(
    stored().map((row) => (row as { body: unknown }).body),
    [null, null],
  );
});

t.test('a cluster with its own sender sends its newsletter as itself: From, Reply-To, envelope; List-Id unchanged', async (t) => {
  const { subscribe, write, send, sink, services } = await setup(t);
  services.clusters.update(
    'north-west',
    { sender: { name: 'North West HealthTec', address: 'news@nw.example', replyTo: 'team@nw.example' } },
    { type: 'cli', label: 'test' },
  );
  subscribe('ada@example.org');
  const sent = await send(write('news.md', 'Hello {{first_name|there}}.\n'), '--yes');
  t.equal(sent.code, 0, sent.stderr);
  const news = await sink.message('ada@example.org', 'Winter news');
  t.same(news.parsed.from?.value, [{ address: 'news@nw.example', name: 'North West HealthTec' }]);
  t.same(news.parsed.replyTo?.value, [{ address: 'team@nw.example', name: '' }]);
  t.equal(news.envelope.from, 'news@nw.example');
  t.match(news.raw, /^List-Id: North West HealthTec <north-west\.convene\.test>/im);
  const confirmation = sink.messages.find((m) => m.envelope.to[0] === 'ada@example.org' && m.parsed.subject !== 'Winter news')!;
  t.equal(confirmation.parsed.from?.value[0]?.address, 'news@nw.example', 'the confirmation email comes from the cluster too');
});
