import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { keygen } from '@hiwelink/core';

export const FRAMEWORKS = ['express', 'fastify', 'koa'] as const;
export const AUTH_METHODS = ['api-key', 'bearer', 'basic'] as const;
export type Framework = (typeof FRAMEWORKS)[number];
export const DATABASES = ['sqlite', 'postgres'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export type Database = (typeof DATABASES)[number];

export const INIT_USAGE = `hiwelink init [dir] [--framework express|fastify|koa] [--auth api-key|bearer|basic]
                [--database sqlite|postgres] [--yes] [--no-install]`;

/** A mistake in the command line or the target: printed as is, exit 1. */
export class InitError extends Error {}

export interface InitOptions {
  dir: string;
  framework: Framework;
  auth: AuthMethod;
  /** Where the store keeps its data: a SQLite file, or a PostgreSQL schema. */
  database: Database;
  /** Run `npm install` in the new directory. */
  install: boolean;
}

const TEMPLATES = fileURLToPath(new URL('../templates/', import.meta.url));
const FRAMEWORK_VERSIONS: Record<Framework, string> = { express: '^5.0.0', fastify: '^5.0.0', koa: '^3.0.0' };
const DEFAULTS = {
  dir: 'hiwelink-store',
  framework: 'express',
  auth: 'api-key',
  database: 'sqlite',
} as const;
/** The driver each store depends on. */
const DRIVERS: Record<Database, Record<string, string>> = {
  sqlite: { 'better-sqlite3': '^12.6.2' },
  postgres: { pg: '^8.16.0' },
};
const DATABASE_LABELS: Record<Database, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

/** The kit's own version, which the generated store depends on. */
function kitVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `^${manifest.version}`;
}

/** An npm package name made from the directory's name. */
export function packageName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name === '' ? 'hiwelink-store' : name.slice(0, 214);
}

function oneOf<T extends string>(
  option: string,
  allowed: readonly T[],
  value: string | undefined,
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InitError(`--${option} takes ${allowed.join(', ')}, not '${value}'`);
}

/** Asks questions on the terminal, one line each; an empty answer takes the default. */
function prompter() {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // The iterator buffers lines typed (or pasted) ahead of their question.
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask<T extends string>(
      question: string,
      allowed: readonly T[] | undefined,
      fallback: T,
    ): Promise<T> {
      const choices = allowed ? ` (${allowed.join(' / ')})` : '';
      for (;;) {
        process.stdout.write(`${question}${choices} [${fallback}]: `);
        const line = await lines.next();
        if (line.done) throw new InitError('cancelled');
        const answer = String(line.value).trim();
        if (answer === '') return fallback;
        if (!allowed || (allowed as readonly string[]).includes(answer)) return answer as T;
        console.log(`  please answer one of: ${allowed.join(', ')}`);
      }
    },
    close: () => rl.close(),
  };
}

/** Reads the command line; without `--yes` on a terminal, asks for what it does not give. */
export async function readInitOptions(args: string[]): Promise<InitOptions> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      framework: { type: 'string' },
      auth: { type: 'string' },
      database: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      'no-install': { type: 'boolean' },
    },
  });
  if (positionals.length > 1) throw new InitError(`init takes one directory, not ${positionals.length}`);
  let database = oneOf(
    'database',
    DATABASES,
    values.database === 'postgresql' ? 'postgres' : values.database,
  );
  let framework = oneOf('framework', FRAMEWORKS, values.framework);
  let auth = oneOf('auth', AUTH_METHODS, values.auth);
  let dir = positionals[0];

  const interactive = !values.yes && process.stdin.isTTY && process.stdout.isTTY;
  if (
    interactive &&
    (dir === undefined || framework === undefined || auth === undefined || database === undefined)
  ) {
    const prompt = prompter();
    try {
      dir ??= await prompt.ask('Directory', undefined, DEFAULTS.dir);
      framework ??= await prompt.ask('Framework', FRAMEWORKS, DEFAULTS.framework);
      auth ??= await prompt.ask('How HiWelink authenticates', AUTH_METHODS, DEFAULTS.auth);
      database ??= await prompt.ask('Database', DATABASES, DEFAULTS.database);
    } finally {
      prompt.close();
    }
  }
  return {
    dir: dir ?? DEFAULTS.dir,
    framework: framework ?? DEFAULTS.framework,
    auth: auth ?? DEFAULTS.auth,
    database: database ?? DEFAULTS.database,
    install: !values['no-install'],
  };
}

/**
 * Copies a template directory; `_gitignore` becomes `.gitignore` (npm would drop the dot file).
 * `rename` maps a template path (relative, with `/`) to the path it takes, or to `null` to skip it.
 */
function copyTree(
  from: string,
  to: string,
  render: (file: string, text: string) => string,
  rename: (path: string) => string | null = (path) => path,
  prefix = '',
) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const renamed = rename(`${prefix}${entry.name}`);
    if (renamed === null) continue;
    const name = renamed.slice(prefix.length);
    const target = join(to, name === '_gitignore' ? '.gitignore' : name);
    if (entry.isDirectory()) copyTree(source, target, render, rename, `${prefix}${entry.name}/`);
    else if (entry.name.endsWith('.md'))
      writeFileSync(target, render(entry.name, readFileSync(source, 'utf8')));
    else copyFileSync(source, target);
  }
}

const shellQuote = (value: string) =>
  /^[\w./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;

/** The curl option and the `hiwelink verify` flag that send the key. */
function credentialArgs(auth: AuthMethod, key: string, envKey = key) {
  if (auth === 'bearer') return { curl: `-H "Authorization: Bearer ${envKey}"`, verify: `--bearer ${key}` };
  if (auth === 'basic') return { curl: `-u "hiwelink:${envKey}"`, verify: `--basic hiwelink:${key}` };
  return { curl: `-H "X-API-Key: ${envKey}"`, verify: `--api-key ${key}` };
}

/** What the README and .env say about each database. */
const DATABASE_TEXT: Record<Database, { summary: string; start: string; setup: string; env: string[] }> = {
  sqlite: {
    summary: 'SQLite (better-sqlite3)',
    start: 'creates and seeds data/store.db on first start',
    setup: 'The data lives in `data/store.db` (`DATABASE_FILE` in `.env` moves it).',
    env: ['DATABASE_FILE=data/store.db'],
  },
  postgres: {
    summary: 'PostgreSQL (pg)',
    start: 'creates the schema and tables and seeds them on first start',
    setup: [
      'The data lives in PostgreSQL: set `DATABASE_URL` in `.env` to your database',
      '(`postgres://user:password@host:5432/dbname`; empty means `postgres://postgres@127.0.0.1:5432/test`).',
      'The tables go in the schema `DATABASE_SCHEMA` (empty means `hiwelink_store`), created if missing;',
      'the user needs the right to create it, or create it yourself and grant the user `CREATE` and `USAGE` on it.',
    ].join('\n'),
    env: [
      '# PostgreSQL: empty means postgres://postgres@127.0.0.1:5432/test and the schema hiwelink_store.',
      'DATABASE_URL=',
      'DATABASE_SCHEMA=',
    ],
  },
};

/** What writeStore wrote: the store's absolute path and the secrets it generated. */
export interface WrittenStore {
  key: string;
  adminToken: string;
  target: string;
  /**
   * The kit checkout the store's @hiwelink/* dependencies are `file:` links into (a store written
   * outside the checkout this CLI runs from), else undefined: registry versions.
   */
  linkedTo?: string;
}

/**
 * Writes the store into `options.dir`, which must be missing or empty. `checkout` is the root of
 * the kit's source checkout this CLI runs from (see kitCheckout), if any: a store written outside it
 * gets its @hiwelink/* dependencies as `file:` links to the checkout's packages, as they are not on
 * any registry; inside it, registry ranges that the workspace packages satisfy.
 * @throws {InitError} when the directory is not empty
 */
export function writeStore(options: InitOptions, checkout = kitCheckout()): WrittenStore {
  const target = resolve(options.dir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new InitError(
      `${options.dir} is not empty: give a new or empty directory, so nothing is overwritten`,
    );
  }
  const name = packageName(target);
  const range = kitVersion();
  const { curl, verify } = credentialArgs(options.auth, '$HIWELINK_API_KEY');
  const render = (_file: string, text: string) =>
    text
      .replaceAll('{{name}}', name)
      .replaceAll('{{framework}}', options.framework)
      .replaceAll('{{auth}}', options.auth)
      .replaceAll('{{curlAuth}}', curl)
      .replaceAll('{{verifyAuth}}', verify)
      .replaceAll('{{database}}', DATABASE_TEXT[options.database].summary)
      .replaceAll('{{databaseStart}}', DATABASE_TEXT[options.database].start)
      .replaceAll('{{databaseSetup}}', DATABASE_TEXT[options.database].setup);
  // templates/common/src holds both stores: the chosen one becomes src/store.js.
  const stores: Record<string, string | null> =
    options.database === 'postgres'
      ? { 'src/store.js': null, 'src/store.postgres.js': 'src/store.js' }
      : { 'src/store.postgres.js': null };
  copyTree(join(TEMPLATES, 'common'), target, render, (path) =>
    path in stores ? (stores[path] ?? null) : path,
  );
  copyTree(join(TEMPLATES, options.framework), target, render);
  // After the copy: the target exists, so its real path (symlinks resolved) can be compared.
  const linkedTo = checkout !== undefined && !within(checkout, target) ? checkout : undefined;
  const version = (pkg: string) => (linkedTo ? `file:${join(linkedTo, 'packages', pkg)}` : range);

  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '^20.19.0 || ^22.12.0 || ^24.0.0' },
    scripts: { start: 'node --env-file=.env src/server.js' },
    dependencies: {
      '@hiwelink/core': version('core'),
      [`@hiwelink/${options.framework}`]: version(options.framework),
      ...DRIVERS[options.database],
      [options.framework]: FRAMEWORK_VERSIONS[options.framework],
    },
    devDependencies: { '@hiwelink/cli': version('cli') },
    // npm 11 asks before running install scripts; better-sqlite3 builds its native module in one.
    ...(options.database === 'sqlite' ? { allowScripts: { 'better-sqlite3': true } } : {}),
  };
  writeFileSync(join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const { key } = keygen();
  const { key: adminToken } = keygen('adm_');
  const { key: statusToken } = keygen('hws_');
  const env = [
    '# Read by `npm start` (node --env-file). Keep this file out of git.',
    `# How HiWelink authenticates: api-key, bearer or basic (user HIWELINK_USERNAME, password the key).`,
    `HIWELINK_AUTH=${options.auth}`,
    `HIWELINK_API_KEY=${key}`,
    ...(options.auth === 'basic' ? ['HIWELINK_USERNAME=hiwelink'] : []),
    '# Bearer token for POST/PATCH/DELETE /admin/products.',
    `ADMIN_TOKEN=${adminToken}`,
    '# Bearer token of the status page, /hiwelink/status (npx hiwelink status reads it); unset: one per run.',
    `STATUS_TOKEN=${statusToken}`,
    'PORT=3000',
    '# 127.0.0.1 serves this machine only; 0.0.0.0 every interface (a container, a proxy on another host).',
    'HOST=127.0.0.1',
    '# Slow clients are closed after these many ms: headers, whole request, idle keep-alive connection.',
    '# HEADERS_TIMEOUT_MS=10000',
    '# REQUEST_TIMEOUT_MS=30000',
    '# KEEP_ALIVE_TIMEOUT_MS=5000',
    ...DATABASE_TEXT[options.database].env,
    '# Set both to send changes to HiWelink as webhooks; the secret signs them.',
    '# HIWELINK_WEBHOOK_URL=',
    '# HIWELINK_STORE_TOKEN=',
    '# HIWELINK_WEBHOOK_SECRET=',
    '',
  ];
  writeFileSync(join(target, '.env'), env.join('\n'), { mode: 0o600 });
  return { key, adminToken, target, ...(linkedTo ? { linkedTo } : {}) };
}

/**
 * The root of the kit's own source checkout when this CLI runs from one (its real path is not under
 * node_modules and the root's workspaces hold packages/cli), else undefined.
 */
export function kitCheckout(): string | undefined {
  const cli = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
  if (cli.split(sep).includes('node_modules')) return undefined;
  const root = resolve(cli, '..', '..');
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      workspaces?: string[];
    };
    return manifest.workspaces?.includes('packages/cli') ? root : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the existing path `target` lies in `root` (both with symlinks resolved). */
function within(root: string, target: string): boolean {
  const inside = relative(realpathSync(root), realpathSync(target));
  return !inside.startsWith('..') && !isAbsolute(inside);
}

/** The linked packages of `written` without a build (no dist/index.js): the store cannot load them. */
function unbuilt(written: WrittenStore, framework: Framework): string[] {
  const root = written.linkedTo;
  if (root === undefined) return [];
  return ['core', framework, 'cli'].filter(
    (pkg) => !existsSync(join(root, 'packages', pkg, 'dist', 'index.js')),
  );
}

/** `hiwelink init`: asks or reads the answers, writes the store, installs it, prints what next. */
export async function runInit(args: string[]): Promise<number> {
  let options: InitOptions;
  let written: ReturnType<typeof writeStore>;
  try {
    options = await readInitOptions(args);
    written = writeStore(options);
  } catch (error) {
    if (error instanceof InitError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`hiwelink init: ${(error as Error).message}\n\nUsage: ${INIT_USAGE}`);
      return 1;
    }
    throw error;
  }
  const shown = relative(process.cwd(), written.target) || '.';
  console.log(
    `Created ${shown}: ${options.framework}, ${DATABASE_LABELS[options.database]}, ${options.auth} auth.`,
  );

  const checkout = written.linkedTo === undefined ? kitCheckout() : undefined;
  if (options.install && checkout) {
    console.log(
      `\nInside the kit's repository (${checkout}): not running npm install, which would fetch @hiwelink/* ` +
        'from your registry; the store runs on the workspace packages. Elsewhere, run npm install.',
    );
    options.install = false;
  }
  if (written.linkedTo) {
    // Unpublished: outside the checkout, a registry has no @hiwelink/* to give.
    const missing = unbuilt(written, options.framework);
    console.log(
      `\n@hiwelink/* are file: links to the packages of the kit's checkout (${join(written.linkedTo, 'packages')}): ` +
        'keep the checkout there and built (npx tsc -b in it).',
    );
    if (missing.length > 0) {
      console.log(
        `  Not built yet: ${missing.join(', ')}; run npx tsc -b in ${written.linkedTo} before npm start.`,
      );
    }
  }
  let failure: string | undefined;
  if (options.install) {
    console.log('\nInstalling dependencies (npm install)...');
    const npm = spawnSync('npm', ['install', '--no-fund', '--no-audit'], {
      cwd: written.target,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    if (npm.error) failure = `npm could not be run (${npm.error.message}): is npm on the PATH?`;
    else if (npm.status !== 0) {
      failure =
        `npm install failed (exit code ${npm.status ?? npm.signal}), so the store cannot start yet. ` +
        (written.linkedTo
          ? `Its @hiwelink/* packages are links to ${join(written.linkedTo, 'packages')}: check they are there and built. `
          : 'A 404 for @hiwelink/* means your registry does not have them (not published yet): run hiwelink init ' +
            "from a checkout of the kit, which links the store to the checkout's packages. ") +
        `Then fix what npm said above and run npm install in ${shown}.`;
    }
  }

  const { verify } = credentialArgs(options.auth, shellQuote(written.key));
  console.log('\nNext:');
  if (shown !== '.') console.log(`  cd ${shellQuote(shown)}`);
  if (!checkout && (!options.install || failure)) console.log('  npm install');
  console.log('  npm start');
  console.log(`  npx hiwelink verify http://127.0.0.1:3000 ${verify}`);
  console.log('\nThe key (HIWELINK_API_KEY) and the admin token are in .env; README.md has the curl checks.');
  if (failure) {
    // Last, on stderr: the line a user reads after npm's own output has scrolled by.
    console.error(`\nhiwelink init: ${failure}`);
    return 1;
  }
  return 0;
}
