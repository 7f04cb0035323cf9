// The shape ARCHITECTURE.md describes, checked on the source: which layer may import which, no cycle
// between modules, no module reaching into another's routes or pages, and each table read and written
// by its own module alone. A failure names the file and the import that broke the rule.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { is } from 'drizzle-orm';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import * as schema from '../src/db/schema.js';
import { projectRoot } from '../src/lib/paths.js';

const SRC = join(projectRoot, 'src');

/** Every table, by the module whose service owns it (the idempotency plugin keeps its own). */
const OWNERS: Record<string, string> = {
  clusters: 'clusters',
  organisers: 'organisers',
  apiKeys: 'organisers',
  organiserSignInCodes: 'organisers',
  organiserSessions: 'organisers',
  auditEvents: 'audit',
  outbox: 'outbox',
  outboxBodies: 'outbox',
  huddleSeries: 'huddles',
  huddles: 'huddles',
  slots: 'bookings',
  bookings: 'bookings',
  invitations: 'invitations',
  members: 'members',
  signInCodes: 'members',
  memberTokens: 'members',
  idempotencyKeys: 'plugins/idempotency',
  waitlistEntries: 'waitlist',
  waitlistOffers: 'waitlist',
  registrations: 'registrations',
  attendance: 'registrations',
  reminders: 'reminders',
  subscribers: 'subscribers',
  suppressions: 'subscribers',
  consentEvents: 'subscribers',
  campaigns: 'campaigns',
  campaignSenders: 'campaigns',
  deliveries: 'campaigns',
  bounces: 'bounces',
};

/** What each part of src/ may import besides itself. */
const MAY_IMPORT: Record<string, string[]> = {
  config: ['lib', 'errors'],
  errors: [],
  lib: ['errors'],
  db: ['lib', 'config', 'errors'],
  shared: ['lib', 'db', 'config', 'errors'],
  plugins: ['lib', 'db', 'shared', 'config', 'errors'],
  modules: ['plugins', 'lib', 'db', 'shared', 'config', 'errors'],
  services: ['modules', 'lib', 'db', 'shared', 'config', 'errors'],
  app: ['services', 'plugins', 'modules', 'lib', 'db', 'shared', 'config', 'errors'],
  'mail-thread': ['services', 'modules', 'lib', 'db', 'config', 'errors'],
  server: ['app', 'mail-thread', 'services', 'lib', 'db', 'config', 'errors'],
  cli: ['services', 'modules', 'lib', 'db', 'shared', 'config', 'errors'],
};

interface Import {
  from: string;
  to: string;
  names: string[];
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** The relative imports (and re-exports) of every file under src/, with the names each brings in as values. */
function imports(): Import[] {
  const found: Import[] = [];
  for (const file of sourceFiles(SRC)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) || !statement.moduleSpecifier) continue;
      const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
      if (!specifier.startsWith('.')) continue;
      const to = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
      let typeOnly = false;
      let names: string[] = [];
      if (ts.isImportDeclaration(statement)) {
        const clause = statement.importClause;
        typeOnly = clause?.isTypeOnly ?? false;
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings))
          names = bindings.elements.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text);
      } else {
        typeOnly = statement.isTypeOnly;
        if (statement.exportClause && ts.isNamedExports(statement.exportClause))
          names = statement.exportClause.elements.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text);
      }
      found.push({ from: relative(SRC, file), to: relative(SRC, to), names: typeOnly ? [] : names, typeOnly });
    }
  }
  return found;
}

/** The part of src/ a file belongs to: a folder (lib, shared, modules...) or a top-level file (app, services...). */
function layerOf(path: string): string {
  const [first] = path.split('/');
  return first!.replace(/\.ts$/, '');
}

function moduleOf(path: string): string | undefined {
  return /^modules\/([^/]+)\//.exec(path)?.[1];
}

const all = imports();

t.test('each part of src/ imports only the layers below it', async (t) => {
  const broken = all.filter((i) => layerOf(i.from) !== layerOf(i.to) && !(MAY_IMPORT[layerOf(i.from)] ?? []).includes(layerOf(i.to)));
  t.same(
    broken.map((i) => `${i.from} imports ${i.to}`),
    [],
  );
  t.ok(all.length > 100, `${all.length} imports read`);
});

/** Every circle in a directed graph, each written a -> b -> a. */
function cyclesOf(edges: Map<string, Set<string>>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'visiting');
    for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of edges.keys()) visit(node, []);
  return cycles;
}

function graph(pairs: [string | undefined, string | undefined][]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const [a, b] of pairs) if (a && b && a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b));
  return edges;
}

t.test('modules import each other in one direction: the module graph has no cycle', async (t) => {
  const edges = graph(all.map((i) => [moduleOf(i.from), moduleOf(i.to)]));
  t.same(cyclesOf(edges), []);
  t.ok(edges.size >= 10, 'the modules depend on each other (the check sees the graph)');
});

t.test('no two files import each other, even for types (shared types live in a *.types.ts)', async (t) => {
  const edges = graph(all.map((i) => [i.from, i.to]));
  t.same(cyclesOf(edges), []);
  t.ok(edges.size > 100, 'the check sees the file graph');
});

t.test("a module never imports another module's routes or pages", async (t) => {
  const reaching = all.filter(
    (i) => moduleOf(i.from) && moduleOf(i.to) && moduleOf(i.from) !== moduleOf(i.to) && /\.(routes|pages)\.ts$/.test(i.to),
  );
  t.same(
    reaching.map((i) => `${i.from} imports ${i.to}`),
    [],
  );
});

t.test('each table is used by the service of the module that owns it, and by no other module', async (t) => {
  const tables = Object.entries(schema)
    .filter(([, value]) => is(value, SQLiteTable))
    .map(([name]) => name);
  t.same(tables.filter((name) => !(name in OWNERS)).sort(), [], 'every table has an owner');
  const misplaced = all
    .filter((i) => i.to === 'db/schema.ts')
    .flatMap((i) => i.names.filter((name) => tables.includes(name)).map((name) => ({ file: i.from, table: name })))
    .filter(({ file, table }) => {
      const owner = OWNERS[table]!;
      return owner.includes('/') ? !file.startsWith(owner) : moduleOf(file) !== owner;
    });
  t.same(
    misplaced.map(({ file, table }) => `${file} uses the ${table} table of ${OWNERS[table]}`),
    [],
  );
});
