// `convene members import <file.csv>`: good rows become members (with a queued welcome), every bad row is reported.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { closeDatabase, openDatabase } from '../src/db/client.js';
import { tempDir, TEST_SECRET, type TestContext } from './helper.js';
import { parseMembersCsv } from '../src/modules/members/members.import.js';

function cli(t: TestContext) {
  const dataDir = tempDir(t);
  const env = { DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent' };
  return {
    dataDir,
    file(name: string, text: string) {
      const path = join(dataDir, name);
      writeFileSync(path, text);
      return path;
    },
    count(sql: string) {
      const database = openDatabase(join(dataDir, 'convene.db'), { mustExist: true });
      try {
        return (database.sqlite.prepare(sql).get() as { n: number }).n;
      } finally {
        closeDatabase(database.sqlite);
      }
    },
    async run(...argv: string[]) {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, { env, io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false } });
      return { code, stdout, stderr };
    },
  };
}

const CSV = [
  '\ufeffEmail,Name,Organisation,Organisation Type',
  'ada@example.org,Ada Lovelace,"Analytical Engines, Ltd",company',
  'grace@example.org,Grace Hopper,Navy Labs,public-sector',
  'not-an-address,Nobody,Nowhere,company',
  'linus@example.org,Linus,Kernel Org,startup',
  'ADA@example.org,Ada Again,Elsewhere,company',
  'short,row',
  'alan@example.org,Alan Turing,Bletchley,university',
  '',
].join('\r\n');

t.test('imports the good rows and reports every rejected row with its line and reason', async (t) => {
  const { run, file, count } = cli(t);
  t.equal((await run('cluster', 'create', '--slug', 'north-west', '--name', 'North West')).code, 0);
  const path = file('members.csv', CSV);

  const dry = await run('members', 'import', path, '--cluster', 'north-west', '--dry-run', '--json');
  t.equal(dry.code, 1, 'rows were rejected');
  t.match(JSON.parse(dry.stdout), { imported: 3, dryRun: true });
  t.equal(count('SELECT count(*) AS n FROM members'), 0, 'a dry run changes nothing');
  t.equal(count('SELECT count(*) AS n FROM outbox'), 0, 'and queues no email');

  const real = await run('members', 'import', path, '--cluster', 'north-west');
  t.equal(real.code, 1);
  t.match(real.stdout, /imported 3 members into north-west, rejected 4 rows/);
  t.match(real.stdout, /line 4 \(not-an-address\): "not-an-address" is not an email address/);
  t.match(real.stdout, /line 5 \(linus@example.org\): organisation type "startup" is not one of company, university, nhs/);
  t.match(real.stdout, /line 6 \(ada@example.org\): same address as line 2/);
  t.match(real.stdout, /line 7: .*columns length is 4, got 2/);
  t.equal(count('SELECT count(*) AS n FROM members'), 3);
  t.equal(count("SELECT count(*) AS n FROM outbox WHERE kind = 'member.welcome'"), 3, 'a welcome email each, queued');

  const again = await run('members', 'import', path, '--cluster', 'north-west', '--json');
  const report = JSON.parse(again.stdout);
  t.equal(report.imported, 0);
  t.same(
    report.rejected.filter((r: { reason: string }) => /member of "north-west" already/.test(r.reason)).map((r: { line: number }) => r.line),
    [2, 3, 8],
    'existing members are reported, not duplicated',
  );
  t.equal(count('SELECT count(*) AS n FROM members'), 3);

  const listed = await run('members', 'list', '--cluster', 'north-west', '--json');
  t.same(
    JSON.parse(listed.stdout)
      .map((m: { email: string }) => m.email)
      .sort(),
    ['ada@example.org', 'alan@example.org', 'grace@example.org'],
  );
  const clean = await run(
    'members',
    'import',
    file('clean.csv', 'email,name,organisation,organisation_type\nkate@example.org,Kate,NHS Trust,nhs\n'),
    '--cluster',
    'north-west',
  );
  t.equal(clean.code, 0, clean.stderr);
  t.match(clean.stdout, /imported 1 member into north-west, rejected 0 rows/);
});

t.test('a file that is not a members CSV fails with one line and changes nothing', async (t) => {
  const { run, file } = cli(t);
  await run('cluster', 'create', '--slug', 'north-west', '--name', 'North West');
  const noHeader = await run('members', 'import', file('bad.csv', 'email,name\na@example.org,A\n'), '--cluster', 'north-west');
  t.equal(noHeader.code, 1);
  t.match(noHeader.stderr, /^error: .*lacks organisation, organisationtype/);
  t.equal(noHeader.stderr.trim().split('\n').length, 1, 'one line');
  const missing = await run('members', 'import', '/nonexistent/file.csv', '--cluster', 'north-west');
  t.match(missing.stderr, /cannot read \/nonexistent\/file.csv: ENOENT/);
  const unknown = await run('members', 'import', file('ok.csv', 'email,name,organisation,organisation_type\n'), '--cluster', 'nowhere');
  t.match(unknown.stderr, /CLUSTER_NOT_FOUND/);
  t.equal(parseMembersCsv('').error?.startsWith('the file is empty'), true);
});

t.test('a CSV that is not UTF-8 (a Windows-1252 export) is refused naming the line, and imports nobody (issue 11, item 6)', async (t) => {
  const { run, dataDir, count } = cli(t);
  await run('cluster', 'create', '--slug', 'north-west', '--name', 'North West');
  const path = join(dataDir, 'latin1.csv');
  // "Zürich" as Windows-1252 writes it: 0xFC, which UTF-8 never uses on its own.
  writeFileSync(path, Buffer.from('email,name,organisation,organisation_type\nada@example.org,Ada,Z\xfcrich Health,company\n', 'latin1'));
  const refused = await run('members', 'import', path, '--cluster', 'north-west');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /latin1\.csv is not UTF-8 text \(line 2 is the first with other bytes\): save it as UTF-8/);
  t.equal(count('SELECT count(*) AS n FROM members'), 0, 'nobody imported with a mangled name');
  writeFileSync(path, 'email,name,organisation,organisation_type\nada@example.org,Ada,Zürich Health,company\n');
  t.equal((await run('members', 'import', path, '--cluster', 'north-west')).code, 0, 'the UTF-8 file imports');
  t.equal(count("SELECT count(*) AS n FROM members WHERE organisation = 'Zürich Health'"), 1);
});

t.test("a repeated column or an unclosed quote makes the whole file unreadable; addresses follow the API's rule", async (t) => {
  const header = 'email,name,organisation,organisation_type';
  t.match(parseMembersCsv(`${header},email\na@example.org,A,O,company,b@example.org\n`).error, /names email more than once/);
  t.match(
    parseMembersCsv(`${header}\n"a@example.org,A,O,company\nb@example.org,B,O,company\n`).error,
    /not readable CSV: Quote Not Closed/,
  );
  const odd = parseMembersCsv(`${header}\nfoo..bar@-x-.co,A,O,company\n`);
  t.equal(odd.rows.length, 0);
  t.match(odd.rejected[0]?.reason, /is not an email address/);
});
