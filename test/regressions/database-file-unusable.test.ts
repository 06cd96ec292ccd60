import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import {
  demoStore,
  FRAMEWORKS,
  listening,
  STACK_LINE,
  type StoreTarget,
  scaffoldRoot,
  scaffoldStore,
} from '../support/stores.js';

/*
 * Kind: a DATABASE_FILE the SQLite stores cannot use. Each stops the start with one line that
 * names DATABASE_FILE, the path and what to do, exits non-zero and prints no stack, instead of
 * SQLite's bare "unable to open database file"; a file of another application is refused rather
 * than written into. A missing parent directory is created.
 */

const root = scaffoldRoot();
const scaffolds = new Map<string, StoreTarget>();
/** Each framework's scaffold, written once for every test of this file. */
const scaffold = (framework: (typeof FRAMEWORKS)[number]) => {
  const target = scaffolds.get(framework) ?? scaffoldStore(root.dir, framework, 'sqlite');
  scaffolds.set(framework, target);
  return target;
};
const files = join(root.dir, 'files');
/** A directory nothing can be created in, even by root: immutable (chattr +i). */
const frozen = join(files, 'frozen');
let frozenWorks = false;

beforeAll(() => {
  mkdirSync(join(files, 'a-directory'), { recursive: true });
  writeFileSync(join(files, 'regular-file'), 'not a directory\n');
  writeFileSync(join(files, 'garbage.db'), 'this is not a database, '.repeat(50));
  const other = new Database(join(files, 'other-app.db'));
  other.exec(
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'a@b.c')",
  );
  other.close();
  symlinkSync('loop-b', join(files, 'loop-a'));
  symlinkSync('loop-a', join(files, 'loop-b'));
  spawnSync('mkfifo', [join(files, 'a-fifo')]);
  mkdirSync(frozen);
  frozenWorks = spawnSync('chattr', ['+i', frozen]).status === 0;
});
afterAll(() => {
  if (frozenWorks) spawnSync('chattr', ['-i', frozen]);
  spawnSync('sh', ['-c', `chattr -i ${JSON.stringify(files)}/*/nested/store.db 2>/dev/null`]);
  root.remove();
});

const CASES: { name: string; path: () => string; says: RegExp }[] = [
  { name: 'a directory', path: () => join(files, 'a-directory'), says: /is a directory/ },
  {
    name: 'a path under a regular file',
    path: () => join(files, 'regular-file', 'store.db'),
    says: /cannot create the directory|not a directory/,
  },
  {
    name: 'a file that is not SQLite',
    path: () => join(files, 'garbage.db'),
    says: /is not a SQLite database/,
  },
  {
    name: "another application's SQLite file",
    path: () => join(files, 'other-app.db'),
    says: /tables this store did not create/,
  },
  { name: 'a symbolic link that loops', path: () => join(files, 'loop-a'), says: /symbolic link that loops/ },
  { name: 'a named pipe', path: () => join(files, 'a-fifo'), says: /is a named pipe \(FIFO\)/ },
  {
    name: 'a directory nothing can be written in',
    path: () => (frozenWorks ? join(frozen, 'store.db') : '/sys/hiwelink-store.db'),
    says: /cannot be (created|opened)/,
  },
];

/** `target` started on `path` stops with one line naming DATABASE_FILE and `path` that `says` why. */
async function expectRefusal(target: StoreTarget, name: string, path: string, says: RegExp) {
  const store = target.launch({ DATABASE_FILE: path });
  const code = await store.refusal();
  const where = `${target.name}, ${name}: ${store.stderr()}`;
  expect(code, where).not.toBe(0);
  expect(code, where).not.toBeNull();
  expect(store.stderr(), where).not.toMatch(STACK_LINE);
  expect(store.stdout(), where).not.toContain('listening');
  const lines = store
    .stderr()
    .split('\n')
    .filter((line) => line.includes('DATABASE_FILE'));
  expect(lines, where).toHaveLength(1);
  expect(lines[0], where).toContain(path);
  expect(lines[0], where).toMatch(says);
}

async function expectRefusals(target: StoreTarget) {
  for (const entry of CASES) {
    const path = entry.path();
    await expectRefusal(target, entry.name, path, entry.says);
  }
  // The other application's database is left as it was: no table of ours was added.
  const other = new Database(join(files, 'other-app.db'), { readonly: true });
  const tables = other.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
  const journal = other.pragma('journal_mode', { simple: true });
  other.close();
  expect(tables, target.name).toEqual(['users']);
  expect(journal, `${target.name}: journal mode of the other database`).toBe('delete');
  expect(readFileSync(join(files, 'garbage.db'), 'utf8'), target.name).toMatch(/^this is not a database/);

  // A missing parent directory is created, and the store starts.
  const fresh = join(files, `${target.name.replace('/', '-')}-new`, 'nested', 'store.db');
  const store = target.launch({ DATABASE_FILE: fresh });
  try {
    await listening(store);
  } finally {
    await store.stop();
  }

  // The same file made read-only (immutable, which binds root too): SQLite opens it read-only,
  // so only a write finds out. The start stops instead of every admin write failing later.
  if (spawnSync('chattr', ['+i', fresh]).status !== 0) return;
  try {
    await expectRefusal(target, 'a read-only file', fresh, /is read-only/);
  } finally {
    spawnSync('chattr', ['-i', fresh]);
  }
}

describe('an unusable DATABASE_FILE stops the start with one line naming it', () => {
  it('in the demo store', async () => {
    await expectRefusals(demoStore);
  });
  for (const framework of FRAMEWORKS) {
    it(`in the ${framework} scaffold on SQLite`, async () => {
      await expectRefusals(scaffold(framework));
    });
  }
});

/**
 * A write the database refuses after the start (here another process holds the write lock past
 * the busy timeout, as a file made read-only or a full disk would refuse it) is a 503 with a code
 * and one log line, not a 500 with a SqliteError stack.
 */
async function expectWriteRefused(target: StoreTarget) {
  const file = join(files, `${target.name.replace('/', '-')}-busy`, 'store.db');
  const store = target.launch({ DATABASE_FILE: file });
  let holder: Database.Database | undefined;
  try {
    const url = await listening(store);
    holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    const reply = await send(`${url}/admin/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Lamp', regular_price: 5 }),
    });
    const where = `${target.name}: ${reply.status} ${reply.body} ${store.stderr()}`;
    expect(reply.status, where).toBe(503);
    expect((reply.json() as { code?: unknown }).code, where).toBe('database_unavailable');
  } finally {
    holder?.exec('ROLLBACK');
    holder?.close();
    await store.stop();
  }
  expect(store.stderr(), target.name).not.toMatch(STACK_LINE);
  expect(store.stderr(), target.name).toMatch(/the database refused a write \(SQLITE_BUSY/);
}

describe('an admin write the database refuses is a 503 with a code', () => {
  it('in the demo store', async () => {
    await expectWriteRefused(demoStore);
  }, 30_000);
  for (const framework of FRAMEWORKS) {
    it(`in the ${framework} scaffold on SQLite`, async () => {
      await expectWriteRefused(scaffold(framework));
    }, 30_000);
  }
});
