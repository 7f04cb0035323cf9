// The pitch digest: `newsletter digest` drafts a newsletter from a huddle's confirmed pitches, grouped by
// the theme each pitch was booked under, with a link to the huddle's page; after the huddle, the
// follow-up gives a presenter's address only when they agreed when booking. The draft sends as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { manualClock, systemClock } from '../src/lib/clock.js';
import { createMemberWithToken, publishHuddle } from './fixtures.js';
import { buildTestApp } from './helper.js';
import { newsletterSetup } from './helpers/newsletter.js';

t.test('a digest by theme before the huddle, and a follow-up with the addresses people agreed to share', async (t) => {
  const world = await newsletterSetup(t);
  const { services, sink, dataDir } = world;
  services.clusters.update('north-west', { themes: ['devices', 'digital'] }, { type: 'cli', label: 'test' });
  const { app } = await buildTestApp(t, { database: world.database, env: { SMTP_URL: sink.url, DATA_DIR: dataDir } });
  const organiser = services.organisers.create('north-west', { email: 'olivia@nw.example', name: 'Olivia' }, { type: 'cli', label: 't' });
  const huddle = await publishHuddle(
    app,
    { authorization: `Bearer ${organiser.apiKey}` },
    { title: 'Winter huddle', themes: ['devices', 'digital'], pitch: { slotCount: 4 } },
  );
  const book = async (email: string, organisation: string, pitch: Record<string, unknown>) => {
    const member = createMemberWithToken(world.database, world.config, systemClock, 'north-west', { email, organisation });
    return app.inject({ method: 'POST', url: `/v1/huddles/${huddle}/bookings`, headers: member.auth, payload: pitch });
  };
  const wrong = await book('eve@example.org', 'Eve Ltd', { title: 'E', theme: 'genomics' });
  t.equal(wrong.statusCode, 400);
  t.match(wrong.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'body/theme' }] });
  const ada = await book('ada@example.org', 'Acme *Sensors*', {
    title: 'Gait [sensors](javascript:x)',
    summary: 'Trials at two trusts.',
    theme: 'devices',
    shareContact: true,
  });
  t.equal(ada.statusCode, 201, ada.body);
  t.match(ada.json(), { theme: 'devices', shareContact: true });
  t.equal((await book('bob@example.org', 'Bob Health', { title: 'Virtual wards', theme: 'digital' })).statusCode, 201);
  t.equal((await book('cat@example.org', 'Cat Labs', { title: 'A new assay' })).statusCode, 201);
  // An address that holds a merge field's shape must not become one in the follow-up.
  t.equal((await book('d{{unsubscribe_url}}@example.org', 'Dee Ltd', { title: 'D', shareContact: true })).statusCode, 201);

  const run = async (clock: ReturnType<typeof manualClock> | undefined, ...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: world.env,
      ...(clock ? { clock } : {}),
      io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false },
    });
    return { code, stdout, stderr };
  };
  const before = await run(undefined, 'newsletter', 'digest', '--cluster', 'north-west', '--huddle', huddle);
  t.equal(before.code, 0, before.stderr);
  const draft = before.stdout;
  t.match(draft, /^# Pitching at Winter huddle\n\nThursday 10 December 2026, 09:30–11:00 \(Europe\/London, GMT\), Hall\.\n/);
  t.match(draft, `[See the huddle and register](https://convene.test/h/${huddle})`);
  t.ok(
    draft.indexOf('## devices') < draft.indexOf('## digital') && draft.indexOf('## digital') < draft.indexOf('## Other pitches'),
    'grouped by theme, in the huddle’s order, then the rest',
  );
  t.match(draft, '- **Acme \\*Sensors\\***: Gait \\[sensors\\]\\(javascript\\:x\\)\n  Trials at two trusts\\.', 'members’ words escaped');
  t.match(draft, '## digital\n\n- **Bob Health**: Virtual wards');
  t.match(draft, '## Other pitches\n\n- **Cat Labs**: A new assay');
  t.notMatch(draft, /@example\.org/, 'no addresses before the huddle');

  const early = await run(undefined, 'newsletter', 'digest', '--cluster', 'north-west', '--huddle', huddle, '--follow-up');
  t.equal(early.code, 1);
  t.match(early.stderr, /the huddle has not taken place yet/);

  const after = manualClock('2026-12-11T09:00:00Z');
  const followUp = await run(after, 'newsletter', 'digest', '--cluster', 'north-west', '--huddle', huddle, '--follow-up');
  t.equal(followUp.code, 0, followUp.stderr);
  t.match(followUp.stdout, /^# Who pitched at Winter huddle\n/);
  t.match(followUp.stdout, 'Get in touch: <mailto:ada@example.org>', 'Ada agreed');
  t.notMatch(followUp.stdout, /bob@example\.org|cat@example\.org/, 'the others did not');
  t.match(followUp.stdout, '<mailto:d%7B%7Bunsubscribe_url%7D%7D@example.org>', 'braces encoded');

  // Written to a file, the draft goes out as it is: every link absolute, no problem found.
  const file = join(dataDir, 'digest.md');
  const written = await run(undefined, 'newsletter', 'digest', '--cluster', 'north-west', '--huddle', huddle, '--out', file);
  t.equal(written.code, 0, written.stderr);
  t.match(written.stdout, /Wrote the draft \(4 pitches\) to .*digest\.md/);
  t.equal(readFileSync(file, 'utf8'), draft);
  t.equal(
    (await run(undefined, 'newsletter', 'digest', '--cluster', 'north-west', '--huddle', huddle, '--out', file)).code,
    1,
    'never over a file',
  );
  world.subscribe('reader@example.org', { topics: ['pitch-digest'] });
  const sent = await run(
    undefined,
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--topic',
    'pitch-digest',
    '--subject',
    'Who pitches on Thursday',
    '--body',
    file,
    '--yes',
  );
  t.equal(sent.code, 0, sent.stderr);
  const html = (await sink.message('reader@example.org', 'Who pitches on Thursday')).parsed.html as string;
  t.match(html, '<h2>devices</h2>');
  t.match(html, '<strong>Acme *Sensors*</strong>: Gait [sensors](javascript:x)');
  t.notMatch(html, /href="javascript/i);
  t.match(html, `<a href="https://convene.test/h/${huddle}">See the huddle and register</a>`);
});
