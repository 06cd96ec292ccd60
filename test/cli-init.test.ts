import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Credential, credentialHeaders, verifyStore } from '@hiwelink/cli';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type Postgres } from './support/postgres.js';
import { connectRedis } from './support/services.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'packages/cli/dist/bin.js');
const createBin = join(repo, 'packages/create-hiwelink-store/dist/bin.js');
// Inside the repository, so that the store resolves express, fastify, koa, better-sqlite3 and the
// @hiwelink/* workspace packages from the root node_modules: installed from the workspace, no registry.
const scratch = join(repo, '.scaffold-test', randomUUID());

const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }),
  );
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let count = 0;
const freshDir = () => join(scratch, `store-${++count}`);

function run(file: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [file, ...args], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function readEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(dir, '.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2];
  }
  return env;
}

/** Starts the generated store as `npm start` does, on a free port; resolves with its printed URL. */
/** The start-up output of each store `start` started, by URL. */
const banners = new Map<string, string>();

async function start(dir: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, ['--env-file=.env', 'src/server.js'], {
    cwd: dir,
    // The environment wins over .env: a free port, and no webhook target inherited from the runner.
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HIWELINK_WEBHOOK_URL: '',
      HIWELINK_STORE_TOKEN: '',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 15 s:\n${output}`)), 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      // The banner ends with the status page's lines.
      if (url && /\n {2}status token .*\n/.test(output)) {
        banners.set(url, output);
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the store exited with ${code}:\n${output}`));
    });
  });
}

const credentialFor = (auth: string, env: Record<string, string>): Credential => {
  const key = env.HIWELINK_API_KEY ?? '';
  if (auth === 'bearer') return { bearer: key };
  if (auth === 'basic') return { basic: { username: env.HIWELINK_USERNAME ?? '', password: key } };
  return { apiKey: key };
};

describe('hiwelink init', () => {
  for (const [framework, auth] of [
    ['express', 'api-key'],
    ['fastify', 'bearer'],
    ['koa', 'basic'],
  ] as const) {
    it(`writes a ${framework} store (${auth}) that passes hiwelink verify and takes admin changes`, async () => {
      const dir = freshDir();
      const init = run(bin, ['init', dir, '--framework', framework, '--auth', auth, '--yes', '--no-install']);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(init.stdout).toContain('npm start');
      const env = readEnv(dir);
      expect(env.HIWELINK_API_KEY).toMatch(/^hwk_live_[0-9a-f]{64}$/);
      expect(env.HIWELINK_AUTH).toBe(auth);
      expect(init.stdout).toContain(env.HIWELINK_API_KEY);
      for (const file of ['src/server.js', 'src/store.js', '.gitignore', 'README.md']) {
        expect(existsSync(join(dir, file)), file).toBe(true);
      }
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({
        name: `store-${count}`,
        type: 'module',
        scripts: { start: 'node --env-file=.env src/server.js' },
        dependencies: { [`@hiwelink/${framework}`]: '^0.1.0', 'better-sqlite3': '^12.6.2' },
      });
      expect(manifest.dependencies[framework]).toBeDefined();

      const url = await start(dir);
      // The status page: its URL in the banner (the token from .env is not printed), 401 without it.
      const banner = banners.get(url) ?? '';
      expect(banner).toContain(`\n  status page  ${url}/hiwelink/status  (npx hiwelink status`);
      expect(banner).toContain('\n  status token STATUS_TOKEN, from .env');
      expect(env.STATUS_TOKEN).toMatch(/^hws_[0-9a-f]{64}$/);
      expect(banner).not.toContain(env.STATUS_TOKEN);
      expect((await fetch(`${url}/hiwelink/status`)).status).toBe(401);
      const page = await fetch(`${url}/hiwelink/status`, {
        headers: { authorization: `Bearer ${env.STATUS_TOKEN}` },
      });
      expect(page.status).toBe(200);
      const shown = (await page.json()) as {
        setup: { auth: { method: string } };
        webhooks: { connected: boolean; enabled?: boolean };
      };
      expect(shown.setup.auth.method).toBe(auth === 'api-key' ? 'apiKey' : auth);
      // The store's emitter is connected to the page (off: no HIWELINK_WEBHOOK_URL here).
      expect(shown.webhooks).toMatchObject({ connected: true, enabled: false });
      // per_page=2 so the crawl has several pages and the store seeks past the kit's `after`.
      const report = await verifyStore({ baseUrl: url, credential: credentialFor(auth, env), perPage: 2 });
      const failed = report.checks.filter((check) => check.status === 'failed');
      expect(failed).toEqual([]);
      expect(report.ok).toBe(true);

      const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const created = await fetch(`${url}/admin/products`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: 'Green Scarf', regular_price: 29.5 }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: number };
      const patched = await fetch(`${url}/admin/products/${id}`, {
        method: 'PATCH',
        headers: admin,
        body: JSON.stringify({ sale_price: 19.9 }),
      });
      expect(await patched.json()).toMatchObject({ id, sale_price: 19.9 });
      const anonymous = await fetch(`${url}/admin/products/${id}`, { method: 'DELETE' });
      expect(anonymous.status).toBe(401);
      const deleted = await fetch(`${url}/admin/products/${id}`, {
        method: 'DELETE',
        headers: { authorization: admin.authorization },
      });
      expect(deleted.status).toBe(204);
      const invalid = await fetch(`${url}/admin/products`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: 'x', regular_price: -1 }),
      });
      expect(invalid.status).toBe(400);
    });
  }

  it('mounts the status page with a token made for the run when STATUS_TOKEN is unset, and hiwelink status reads it', async () => {
    const dir = freshDir();
    expect(run(bin, ['init', dir, '--framework', 'koa', '--yes', '--no-install']).code).toBe(0);
    const url = await start(dir, { STATUS_TOKEN: '' });
    const token =
      /\n {2}status token (hws_[0-9a-f]{64}) {2}\(generated for this run; set STATUS_TOKEN in \.env/.exec(
        banners.get(url) ?? '',
      )?.[1];
    expect(token).toBeDefined();
    expect(token).not.toBe(readEnv(dir).STATUS_TOKEN);
    const crawled = await fetch(`${url}/api/products?page=1&per_page=2`, {
      headers: { 'x-api-key': readEnv(dir).HIWELINK_API_KEY ?? '' },
    });
    expect(crawled.status).toBe(200);
    const status = run(bin, ['status', `${url}/hiwelink/status`, '--token', token as string]);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\n {2}products +\S+ \S+ UTC \(\d+ s ago\) +1 from page 1 +2 /);
    const wrong = run(bin, ['status', `${url}/hiwelink/status`, '--token', readEnv(dir).ADMIN_TOKEN ?? '']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused the token (401)');
  });

  it('refuses a directory that is not empty, and overwrites nothing', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const result = run(bin, ['init', dir, '--yes', '--no-install']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not empty');
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
  });

  it('refuses an unknown database, and writes nothing', () => {
    const dir = freshDir();
    const result = run(bin, ['init', dir, '--database', 'mysql', '--yes', '--no-install']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--database takes sqlite, postgres');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses an unknown framework', () => {
    const result = run(bin, ['init', freshDir(), '--framework', 'hapi', '--yes', '--no-install']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--framework takes express, fastify, koa');
  });

  it('runs from create-hiwelink-store, as npm create does', () => {
    const dir = freshDir();
    const result = run(createBin, [dir, '--yes', '--no-install']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'src/server.js'), 'utf8')).toContain("from '@hiwelink/express'");
    expect(readEnv(dir).HIWELINK_AUTH).toBe('api-key');
  });
});

describe('hiwelink init outside the repository', () => {
  // Outside this checkout: no workspace around the store, as for a user's own directory.
  const outside = join(tmpdir(), `hiwelink-init-${randomUUID()}`);
  afterAll(() => rmSync(outside, { recursive: true, force: true }));
  /** npm with no registry at hand: offline, on an empty cache, so every fetch fails at once. */
  const offlineNpm = () => ({
    npm_config_offline: 'true',
    npm_config_cache: join(outside, `npm-cache-${randomUUID()}`),
  });

  it("from a checkout, @hiwelink/* are file: links to the checkout's built packages", () => {
    const dir = join(outside, 'linked');
    const result = run(bin, ['init', dir, '--framework', 'koa', '--yes', '--no-install']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const links = { ...manifest.dependencies, ...manifest.devDependencies };
    for (const pkg of ['core', 'koa', 'cli']) {
      expect(links[`@hiwelink/${pkg}`]).toBe(`file:${join(repo, 'packages', pkg)}`);
      expect(existsSync(join(repo, 'packages', pkg, 'dist/index.js'))).toBe(true);
    }
    expect(result.stdout).toContain("@hiwelink/* are file: links to the packages of the kit's checkout");
    expect(result.stdout).toContain('built (npx tsc -b in it)');
    expect(result.stdout).toContain('  npm install\n');
  });

  it('a failing npm install exits 1, saying what failed and what to do', () => {
    const dir = join(outside, 'failing');
    const result = run(bin, ['init', dir, '--yes', '--database', 'postgres'], offlineNpm());
    expect(result.code).toBe(1);
    expect(existsSync(join(dir, '.env'))).toBe(true);
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(
      /^hiwelink init: npm install failed \(exit code \d+\), so the store cannot start yet\./,
    );
    expect(last).toContain(`Its @hiwelink/* packages are links to ${join(repo, 'packages')}`);
    expect(last).toMatch(/run npm install in \S*failing\.$/);
  });

  it('installed from a registry (not a checkout): registry ranges, and a failed install says @hiwelink/* may not be there', () => {
    // The CLI as npm installs it: a copy under node_modules, its @hiwelink/core next to it.
    const app = join(outside, 'app');
    const scope = join(app, 'node_modules', '@hiwelink');
    mkdirSync(join(scope, 'cli'), { recursive: true });
    for (const part of ['package.json', 'dist', 'templates']) {
      cpSync(join(repo, 'packages/cli', part), join(scope, 'cli', part), { recursive: true });
    }
    symlinkSync(join(repo, 'packages/core'), join(scope, 'core'));
    const dir = join(outside, 'from-registry');
    const result = run(join(scope, 'cli/dist/bin.js'), ['init', dir, '--yes'], offlineNpm());
    expect(result.code).toBe(1);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.dependencies['@hiwelink/core']).toMatch(/^\^\d/);
    expect(result.stderr).toContain('A 404 for @hiwelink/* means your registry does not have them');
    expect(result.stdout).not.toContain('file: links');
  });
});

describe('hiwelink init --database postgres', () => {
  let postgres: Postgres | undefined;
  const schemas: string[] = [];
  beforeAll(async () => {
    postgres = await connectPostgres();
  });
  afterAll(async () => {
    if (!postgres) return;
    // The stores create their schema themselves: dropped here, after the stores have stopped.
    for (const schema of schemas) await postgres.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await postgres.close();
  });

  for (const [framework, auth] of [
    ['express', 'bearer'],
    ['fastify', 'basic'],
    ['koa', 'api-key'],
  ] as const) {
    it(`writes a ${framework} store on PostgreSQL that passes hiwelink verify and shows admin changes`, async (context) => {
      if (!postgres) return context.skip('PostgreSQL is not reachable (see the warning above)');
      const dir = freshDir();
      const init = run(bin, [
        'init',
        dir,
        '--framework',
        framework,
        '--auth',
        auth,
        '--database',
        'postgres',
        '--yes',
        '--no-install',
      ]);
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(init.stdout).toContain('PostgreSQL');
      const env = readEnv(dir);
      expect(env).toMatchObject({ DATABASE_URL: '', DATABASE_SCHEMA: '' });
      expect(env.DATABASE_FILE).toBeUndefined();
      expect(existsSync(join(dir, 'src/store.postgres.js'))).toBe(false);
      expect(readFileSync(join(dir, 'src/store.js'), 'utf8')).toContain("from 'pg'");
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('DATABASE_URL');
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(manifest.dependencies.pg).toBeDefined();
      expect(manifest.dependencies['better-sqlite3']).toBeUndefined();

      const schema = `hiwelink_init_${framework}_${process.pid}_${randomUUID().slice(0, 8)}`;
      schemas.push(schema);
      const url = await start(dir, { DATABASE_URL: postgres.url, DATABASE_SCHEMA: schema });
      const credential = credentialFor(auth, env);
      const report = await verifyStore({ baseUrl: url, credential, perPage: 2 });
      expect(report.checks.filter((check) => check.status === 'failed')).toEqual([]);
      expect(report.ok).toBe(true);
      const seeded = await postgres.client.query(`SELECT COUNT(*)::int AS n FROM "${schema}".products`);
      expect(seeded.rows[0].n).toBe(25);

      const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const name = `Scarf ${randomUUID()}`;
      const created = await fetch(`${url}/admin/products`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name, regular_price: 29.5 }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: number };
      const duplicate = await fetch(`${url}/admin/products`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name, regular_price: 1 }),
      });
      expect(duplicate.status).toBe(409);

      // The crawl, page by page as HiWelink reads it, finds the new product once, last.
      const headers = credentialHeaders(credential);
      const crawled: { id: string; name: string }[] = [];
      for (let page = 1; page <= 10; page += 1) {
        const response = await fetch(`${url}/api/products?page=${page}&per_page=10`, { headers });
        expect(response.status).toBe(200);
        const { data } = (await response.json()) as { data: { id: string; name: string }[] };
        crawled.push(...data);
        if (data.length < 10) break;
      }
      expect(crawled).toHaveLength(26);
      expect(crawled.at(-1)).toMatchObject({ id: String(id), name });

      const deleted = await fetch(`${url}/admin/products/${id}`, {
        method: 'DELETE',
        headers: { authorization: admin.authorization },
      });
      expect(deleted.status).toBe(204);
      const missing = await fetch(`${url}/admin/products/not-a-number`, {
        method: 'PATCH',
        headers: admin,
        body: JSON.stringify({ stock_quantity: 1 }),
      });
      expect(missing.status).toBe(404);
    });
  }
});

describe('hiwelink webhooks status', () => {
  it('prints the counts of a durable queue', async () => {
    const redis = await connectRedis();
    if (!redis) return;
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const queue = `hiwelink-status-test-${randomUUID()}`;
    try {
      const json = run(bin, ['webhooks', 'status', '--redis', url, '--queue', queue, '--json']);
      expect(json.stderr).toBe('');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({
        queue,
        redis: expect.any(String),
        queued: 0,
        active: 0,
        delivered: 0,
        failed: 0,
        dead: 0,
      });
      const text = run(bin, ['webhooks', 'status', '--redis', url, '--queue', queue]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/queued\s+0/);
      expect(text.stdout).toMatch(/dead\s+0/);
    } finally {
      const keys = await redis.keys(`bull:${queue}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('fails with a message when Redis cannot be reached', () => {
    const result = run(bin, ['webhooks', 'status', '--redis', 'redis://127.0.0.1:1', '--timeout-ms', '2000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot read the webhook queue');
  });
});
