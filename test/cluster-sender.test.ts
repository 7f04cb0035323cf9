// A cluster sends as itself: its From, Reply-To and calendar ORGANIZER on every message of its own
// (an invitation, a booking confirmation; the newsletter in newsletter-content.test.ts), received by a real SMTP server and
// read back with a real iCalendar parser; a cluster without one sends as the instance (MAIL_FROM).
import t from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle } from './fixtures.js';
import { parseWithIcalJs } from './helpers/calendar.js';
import { startSmtpSink, type ReceivedMessage } from './helpers/smtp.js';

function organizerOf(message: ReceivedMessage): string {
  const part = message.parsed.attachments.find((a) => a.contentType === 'text/calendar');
  if (!part) throw new Error('no text/calendar part');
  return String(parseWithIcalJs(part.content.toString('utf8')).events[0]!.organizer);
}

t.test("the organiser sets the cluster's sender; bad ones are refused and change nothing; null goes back to MAIL_FROM", async (t) => {
  const { app, database, config, clock } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const patch = (payload: Record<string, unknown>, headers: Record<string, string> = auth) =>
    app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers, payload });

  t.equal((await app.inject('/v1/clusters/north-west')).json().sender, null, 'none at first');
  for (const [sender, field] of [
    [{ name: 'NW', address: 'news@localhost' }, 'body/sender/address'],
    [{ name: 'NW', address: 'NW <news@nw.example>' }, 'body/sender/address'],
    [{ name: 'NW', address: 'news@nw.example', replyTo: 'not an address' }, 'body/sender/replyTo'],
    [{ name: 'NW\r\nBcc: x@evil.example', address: 'news@nw.example' }, 'body/sender/name'],
    [{ name: '', address: 'news@nw.example' }, 'body/sender/name'],
    [{ name: 'Team @ NW', address: 'news@nw.example' }, 'body/sender/name'],
  ] as const) {
    const refused = await patch({ sender });
    t.equal(refused.statusCode, 400, JSON.stringify(sender));
    t.match(refused.headers['content-type'], /application\/problem\+json/);
    t.match(refused.json(), { code: 'VALIDATION_FAILED', errors: [{ field }] });
  }
  t.equal((await app.inject('/v1/clusters/north-west')).json().sender, null, 'nothing changed');

  const member = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme' });
  t.equal((await patch({ sender: { name: 'NW', address: 'news@nw.example' } }, member.auth)).statusCode, 403, 'members may not');

  const set = await patch({
    sender: { name: 'North West "HealthTec", Manchester', address: 'news@nw.example', replyTo: 'team@nw.example' },
  });
  t.equal(set.statusCode, 200, set.body);
  t.same(set.json().sender, { name: 'North West "HealthTec", Manchester', address: 'news@nw.example', replyTo: 'team@nw.example' });
  const audit = database.sqlite.prepare("SELECT after FROM audit_events WHERE action = 'cluster.updated' ORDER BY rowid DESC").get() as {
    after: string;
  };
  t.match(JSON.parse(audit.after), { senderAddress: 'news@nw.example', replyTo: 'team@nw.example' }, 'audited');
  // Another cluster cannot take this cluster's mail domain (its SPF and DKIM would vouch for it).
  const other = createClusterWithOrganiser(database, 'south-east');
  const taken = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/south-east',
    headers: other.auth,
    payload: { sender: { name: 'SE', address: 'hello@mail.nw.example' } },
  });
  t.equal(taken.statusCode, 400);
  t.match(taken.json(), { code: 'VALIDATION_FAILED', detail: /mail\.nw\.example is the mail domain of another cluster/ });
  const cleared = await patch({ sender: null });
  t.equal(cleared.json().sender, null);
});

t.test('every message of a cluster with a sender comes from it, with its Reply-To and ORGANIZER; others from MAIL_FROM', async (t) => {
  const sink = await startSmtpSink(t);
  const { app, database, config, clock, services } = await buildTestApp(t, {
    env: { SMTP_URL: sink.url, MAIL_WORKER: 'false', MAIL_FROM: 'Convene <convene@convene.test>' },
  });
  const north = createClusterWithOrganiser(database, 'north-west', clock);
  const south = createClusterWithOrganiser(database, 'south-east', clock);
  const sender = { name: 'North West, HealthTec', address: 'news@nw.example', replyTo: 'team@nw.example' };
  t.equal(
    (await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: north.auth, payload: { sender } })).statusCode,
    200,
  );

  // A member's welcome, a booking confirmation and an invitation in the cluster with a sender; an invitation in the other.
  const northHuddle = await publishHuddle(app, north.auth, { pitch: { slotCount: 2 } });
  const ada = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme' });
  const booked = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${northHuddle}/bookings`,
    headers: ada.auth,
    payload: { title: 'A' },
  });
  t.equal(booked.statusCode, 201, booked.body);
  const invite = (huddle: string, auth: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: `/v1/huddles/${huddle}/invitations`,
      headers: auth,
      payload: { addresses: [{ email: 'grace@example.org' }] },
    });
  t.equal((await invite(northHuddle, north.auth)).statusCode, 202);
  const southHuddle = await publishHuddle(app, south.auth, {}, 'south-east');
  t.equal((await invite(southHuddle, south.auth)).statusCode, 202);
  await services.mail.worker({ concurrency: 2 }).drain();

  const north_ = sink.messages.filter((m) => m.parsed.from?.value[0]?.address === 'news@nw.example');
  const subjects = north_.map((m) => m.parsed.subject).sort();
  t.same(subjects, ['Invitation: Winter huddle', 'Pitch confirmed: Winter huddle', 'Welcome to Cluster north-west on Convene']);
  for (const message of north_) {
    t.equal(message.parsed.from?.value[0]?.name, 'North West, HealthTec', `${message.parsed.subject}: the name, comma and all`);
    t.equal(message.parsed.replyTo?.value[0]?.address, 'team@nw.example', `${message.parsed.subject}: Reply-To`);
    t.equal(message.envelope.from, 'news@nw.example', `${message.parsed.subject}: the envelope sender`);
  }
  const invitation = north_.find((m) => m.parsed.subject === 'Invitation: Winter huddle')!;
  t.equal(organizerOf(invitation), 'mailto:news@nw.example', 'the calendar ORGANIZER is the From');
  const feed = await app.inject(`/v1/clusters/north-west/calendar.ics`);
  t.match(feed.body.replace(/\r\n /g, ''), /ORGANIZER;CN="?North West, HealthTec"?:mailto:news@nw\.example/, 'in the feed too');

  const other = sink.messages.find(
    (m) => m.envelope.to[0] === 'grace@example.org' && m.parsed.from?.value[0]?.address !== 'news@nw.example',
  )!;
  t.equal(other.parsed.from?.value[0]?.address, 'convene@convene.test', 'a cluster without a sender sends as the instance');
  t.equal(other.parsed.replyTo, undefined);
});
