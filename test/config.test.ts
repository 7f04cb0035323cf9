// Configuration: defaults, one clear line per bad variable, .env.example complete, the generated secret.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig, settings } from '../src/config.js';
import { resolveSecretKey } from '../src/lib/secret.js';
import { tempDir } from './helper.js';

t.test('defaults need no environment at all', async (t) => {
  const config = loadConfig({});
  t.equal(config.port, 3000);
  t.equal(config.host, '127.0.0.1');
  t.match(config.databasePath, /data\/convene\.db$/);
  t.match(config.mailDir, /data\/mail$/);
  t.equal(config.smtpUrl, undefined, 'no SMTP_URL: mail is written to files');
  t.equal(config.publicBaseUrl, 'http://localhost:3000');
  t.equal(config.secretKey, undefined);
});

t.test('DATA_DIR moves the database and the mail folder', async (t) => {
  const config = loadConfig({ DATA_DIR: '/srv/convene', PORT: '8080' });
  t.equal(config.databasePath, '/srv/convene/convene.db');
  t.equal(config.mailDir, '/srv/convene/mail');
  t.equal(config.publicBaseUrl, 'http://localhost:8080');
});

t.test('a bad value throws one line naming the variable', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /^Invalid configuration: PORT must be a whole number/],
    [{ PORT: '70000' }, /^Invalid configuration: PORT /],
    [{ SMTP_URL: 'http://mail.example' }, /^Invalid configuration: SMTP_URL must use smtp: or smtps:/],
    [{ PUBLIC_BASE_URL: 'not a url' }, /^Invalid configuration: PUBLIC_BASE_URL must be an absolute URL/],
    [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL must be one of/],
    [{ SECRET_KEY: 'short' }, /^Invalid configuration: SECRET_KEY must be at least 32/],
    [{ MAIL_FROM: 'nobody' }, /^Invalid configuration: MAIL_FROM must be one email address/],
    [{ TRUST_PROXY: 'maybe' }, /^Invalid configuration: TRUST_PROXY must be false, a number of proxy hops/],
    [{ TRUST_PROXY: 'true' }, /^Invalid configuration: TRUST_PROXY /],
    [{ MAIL_FROM: 'Evil\nBcc: x@y.z <a@b.co>' }, /^Invalid configuration: MAIL_FROM /],
    [{ MAIL_FROM: 'a@example.org, b@example.org' }, /^Invalid configuration: MAIL_FROM /],
  ];
  for (const [env, message] of cases) {
    const error = t.throws(() => loadConfig(env)) as ConfigError;
    t.type(error, ConfigError);
    t.match(error.message, message);
    t.notMatch(error.message, /\n/, 'one line');
    t.equal(error.variable, Object.keys(env)[0]);
  }
});

t.test('MAIL_FROM may have a quoted name with a comma', async (t) => {
  t.equal(loadConfig({ MAIL_FROM: '"North West, HealthTec" <hello@nw.example>' }).mailFrom, '"North West, HealthTec" <hello@nw.example>');
});

t.test('TRUST_PROXY takes a hop count or proxy addresses', async (t) => {
  t.equal(loadConfig({}).trustProxy, false);
  t.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
  t.same(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).trustProxy, ['127.0.0.1', '10.0.0.0/8']);
});

t.test('.env.example documents every variable and nothing else', async (t) => {
  const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const documented = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
  t.same(documented.sort(), Object.keys(settings).sort());
});

t.test('without SECRET_KEY a secret is generated once, kept, and readable only by its owner', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const first = resolveSecretKey({ dataDir, secretKey: undefined });
  t.ok(first.length >= 32);
  const file = join(dataDir, 'secret.key');
  t.ok(existsSync(file));
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.equal(resolveSecretKey({ dataDir, secretKey: undefined }), first, 'the same secret next time');
  t.equal(resolveSecretKey({ dataDir, secretKey: 'x'.repeat(40) }), 'x'.repeat(40), 'SECRET_KEY wins');
});

t.test('with a real SMTP server, links and the sender must not be on localhost (issue 11, item 23)', async (t) => {
  const real = { SMTP_URL: 'smtps://user:pass@mail.example.org:465' };
  const refused: [Record<string, string>, string, RegExp][] = [
    [real, 'PUBLIC_BASE_URL', /PUBLIC_BASE_URL is http:\/\/localhost:3000 while SMTP_URL sends real mail/],
    [{ ...real, PUBLIC_BASE_URL: 'http://127.0.0.1:3000' }, 'PUBLIC_BASE_URL', /dead/],
    [{ ...real, PUBLIC_BASE_URL: 'https://[::1]' }, 'PUBLIC_BASE_URL', /dead/],
    [{ ...real, PUBLIC_BASE_URL: 'https://convene.localhost' }, 'PUBLIC_BASE_URL', /dead/],
    [{ ...real, PUBLIC_BASE_URL: 'https://meet.cluster.org' }, 'MAIL_FROM', /MAIL_FROM is Convene <convene@localhost> while/],
    [{ ...real, PUBLIC_BASE_URL: 'https://meet.cluster.org', MAIL_FROM: 'hello@convene.test' }, 'MAIL_FROM', /own domain/],
  ];
  for (const [env, variable, message] of refused) {
    const error = t.throws(() => loadConfig(env), JSON.stringify(env)) as ConfigError;
    t.equal(error.variable, variable);
    t.match(error.message, message);
  }
  const ready = loadConfig({ ...real, PUBLIC_BASE_URL: 'https://meet.cluster.org', MAIL_FROM: 'Cluster <huddles@cluster.org>' });
  t.equal(ready.publicBaseUrl, 'https://meet.cluster.org', 'a real set-up starts');
  t.ok(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525' }), 'a mail catcher on this machine with the defaults is fine');
  t.ok(loadConfig({ SMTP_URL: 'smtp://localhost:1025', MAIL_FROM: 'a@localhost' }), 'as is one named localhost');
  t.ok(loadConfig({}), 'and mail written to files');
});
