// The member's journey from issue 4's "done when", over real HTTP on a listening port and a real SMTP
// server, with no organiser action after setup: sign in from the email, book, get the invitation, see it
// in the private feed, cancel, and the next organisation on the waitlist is offered the slot.
import t from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { startSmtpSink } from './helpers/smtp.js';
import { parseWithIcalJs, withPythonParse } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { manualClock } from '../src/lib/clock.js';

t.test('sign in from the email, book, invitation, private feed, cancel, waitlist offer', async (t) => {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database } = await buildTestApp(t, { clock, transport, env: { MAIL_WORKER: 'true' } });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, options: { auth?: string; json?: unknown; form?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (options.auth) headers.authorization = `Bearer ${options.auth}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    if (options.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.form,
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) };
  };
  const mail = (to: string, subject: string) => sink.message(to, subject);

  // Setup by the organiser: one huddle with one slot, two members.
  const key = org.apiKey;
  const huddle = (
    await call('POST', '/v1/clusters/north-west/huddles', {
      auth: key,
      json: {
        title: 'Winter huddle',
        start: '2026-12-01T09:30',
        durationMinutes: 90,
        venue: { name: 'Hall' },
        onlineUrl: 'https://meet.example.org/room',
        status: 'published',
        pitch: { slotCount: 1 },
      },
    })
  ).json();
  for (const [email, organisation] of [
    ['ada@example.org', 'Acme'],
    ['bob@example.org', 'Bob Co'],
  ] as const) {
    t.equal(
      (
        await call('POST', '/v1/clusters/north-west/members', {
          auth: key,
          json: { email, name: email.split('@')[0], organisation, organisationType: 'company' },
        })
      ).status,
      201,
    );
  }

  // Each member signs in from the welcome email: the link opens a page, its button shows the token.
  const signIn = async (email: string) => {
    const welcome = await mail(email, 'Welcome to Cluster north-west on Convene');
    const link = /https:\/\/convene\.test(\/signin\?code=[^\s"]+)/.exec(welcome.parsed.text ?? '')![1]!;
    const page = await call('GET', link);
    const code = /name="code" value="([^"]+)"/.exec(page.text)![1]!;
    const signedIn = await call('POST', '/sign-in', { form: `code=${encodeURIComponent(code)}` });
    return /(cnv_mem_[A-Za-z0-9_-]{43})/.exec(signedIn.text)![1]!;
  };
  const ada = await signIn('ada@example.org');
  const bob = await signIn('bob@example.org');

  // Ada books the only slot and gets a calendar invitation for it.
  const booking = (await call('POST', `/v1/huddles/${huddle.id}/bookings`, { auth: ada, json: { title: 'Gears' } })).json();
  t.equal(booking.status, 'confirmed');
  const invitation = await mail('ada@example.org', 'Pitch confirmed: Winter huddle');
  const part = invitation.parsed.attachments.find((a) => a.contentType === 'text/calendar')!;
  t.equal(parseWithIcalJs(part.content.toString('utf8')).method, 'REQUEST');
  await withPythonParse(t, part.content.toString('utf8'), 'python icalendar reads a REQUEST', (t, python) => {
    t.equal(python.method, 'REQUEST');
  });

  // It is in her private feed.
  const feedPath = (await call('GET', '/v1/me', { auth: ada })).json().calendar.ics.replace('https://convene.test', '');
  const feed = parseWithIcalJs((await call('GET', feedPath)).text);
  t.same(
    feed.events.map((e) => e.uid),
    [`pitch-${booking.id}@convene.test`],
  );

  // Bob finds the huddle full and joins the waitlist.
  t.equal(
    (await call('POST', `/v1/huddles/${huddle.id}/bookings`, { auth: bob, json: { title: 'Bobs news' } })).json().code,
    'NO_SLOTS_LEFT',
  );
  t.equal((await call('POST', `/v1/huddles/${huddle.id}/waitlist`, { auth: bob, json: { title: 'Bobs news' } })).json().position, 1);

  // Ada cancels; Bob is offered the slot by email, and accepts it.
  t.equal((await call('DELETE', `/v1/bookings/${booking.id}`, { auth: ada })).json().status, 'cancelled');
  t.equal(parseWithIcalJs((await call('GET', feedPath)).text).events[0]!.status, 'CANCELLED', 'her feed marks it cancelled');
  const offer = await mail('bob@example.org', 'A pitch slot is free: Winter huddle');
  t.ok(offer);
  const offerId = (await call('GET', '/v1/me', { auth: bob })).json().waitlist[0].offer.id;
  const accepted = await call('POST', `/v1/waitlist-offers/${offerId}/accept`, { auth: bob });
  t.equal(accepted.status, 201);
  t.equal(accepted.json().slot.position, 1);
  await mail('bob@example.org', 'Pitch confirmed: Winter huddle');
  const active = database.sqlite.prepare("SELECT count(*) AS n FROM bookings WHERE status IN ('pending','confirmed')").get() as {
    n: number;
  };
  t.equal(active.n, 1);
});
