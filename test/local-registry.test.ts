import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, packAll, run } from './support/packages.js';
import { repo } from './support/readme.js';

// `npm create hiwelink-store` as a user runs it once the packages are published: our packages are
// published to a real local registry (Verdaccio on 127.0.0.1, started and stopped here), which
// proxies everything else to the public npm registry, and a new store is created, installed,
// started and verified in the system's temp directory, with no path into this workspace.
// Verdaccio is pinned to 6.8.0: the 6.x line declares and runs on Node 20 (`engines: >=20`); its
// verdaccio-audit asks for node-fetch by the dist-tag `cjs`, which the root `overrides` pins to
// 2.7.0 so that `npm ci` installs the same tree every time.

const work = mkdtempSync(join(tmpdir(), 'hiwelink-registry-'));
let registry = '';
let verdaccio: ChildProcess | undefined;
let store: ChildProcess | undefined;
const integrities: Record<string, string> = {};

/** The environment of every npm command: the local registry and a user config of its own. */
const npmEnv = () => ({
  ...process.env,
  npm_config_registry: registry,
  npm_config_userconfig: join(work, '.npmrc'),
  // A cache of its own: `npm create` keeps packages it ran in the cache, and an earlier run's
  // create-hiwelink-store@0.1.0 must not stand in for the one just published.
  npm_config_cache: join(work, 'cache'),
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
});

beforeAll(async () => {
  const port = await freePort();
  registry = `http://127.0.0.1:${port}/`;
  const config = [
    `storage: ${join(work, 'storage')}`,
    'auth:',
    '  htpasswd:',
    `    file: ${join(work, 'htpasswd')}`,
    'uplinks:',
    '  npmjs:',
    '    url: https://registry.npmjs.org/',
    '    timeout: 60s',
    'packages:',
    // Ours come only from here, never from the public registry.
    "  '@hiwelink/*': { access: $all, publish: $authenticated }",
    "  'create-hiwelink-store': { access: $all, publish: $authenticated }",
    "  '**': { access: $all, proxy: npmjs }",
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n');
  writeFileSync(join(work, 'config.yaml'), config);
  const bin = join(repo, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  verdaccio = spawn(
    process.execPath,
    [bin, '--config', join(work, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  verdaccio.stdout?.on('data', (chunk: Buffer) => {
    log += chunk;
  });
  verdaccio.stderr?.on('data', (chunk: Buffer) => {
    log += chunk;
  });
  for (let attempt = 0; ; attempt++) {
    if (verdaccio.exitCode !== null) throw new Error(`Verdaccio exited with ${verdaccio.exitCode}:\n${log}`);
    if (
      await fetch(`${registry}-/ping`).then(
        (response) => response.ok,
        () => false,
      )
    )
      break;
    if (attempt > 300) throw new Error(`Verdaccio did not answer within 30 s:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // A user, as `npm adduser` makes one; its token publishes.
  const user = await fetch(`${registry}-/user/org.couchdb.user:kit-test`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'kit-test', password: 'kit-test-password', type: 'user', roles: [] }),
  });
  const { token } = (await user.json()) as { token?: string };
  if (!token) throw new Error(`Verdaccio made no user: ${user.status}`);
  writeFileSync(join(work, '.npmrc'), `registry=${registry}\n//127.0.0.1:${port}/:_authToken=${token}\n`);

  const packed = join(work, 'tarballs');
  mkdirSync(packed);
  for (const { name, filename, integrity } of await packAll(packed)) {
    integrities[name] = integrity;
    await run('npm', ['publish', join(packed, filename), '--access', 'public'], {
      cwd: work,
      env: npmEnv(),
    });
  }
}, 180_000);

afterAll(async () => {
  for (const child of [store, verdaccio]) {
    const pid = child?.pid;
    if (child && pid && child.exitCode === null && child.signalCode === null) {
      // The store runs as npm start's child, in a process group of its own.
      const signal = (name: NodeJS.Signals) => {
        try {
          if (child === store) process.kill(-pid, name);
          else child.kill(name);
        } catch {
          // Gone already (ESRCH): its exit event is on its way.
        }
      };
      const exited = once(child, 'exit');
      signal('SIGTERM');
      // Under load (the whole suite on two CPUs) verdaccio has taken over 10 s to stop; after 5 s
      // it is killed, so a slow shutdown never fails a run whose tests passed.
      const late = setTimeout(() => signal('SIGKILL'), 5_000);
      await exited;
      clearTimeout(late);
    }
  }
  rmSync(work, { recursive: true, force: true });
}, 30_000);

describe('npm create hiwelink-store from a local registry', () => {
  const users = join(work, 'projects');
  const dir = join(users, 'my-store');

  it('creates and installs the store: npm create hiwelink-store my-store', { timeout: 600_000 }, async () => {
    mkdirSync(users);
    // Not a terminal, so no questions: the defaults (Express, API key, SQLite), then npm install.
    const { stdout } = await run('npm', ['create', 'hiwelink-store', 'my-store'], {
      cwd: users,
      env: npmEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toContain('npm start');
    const text = readFileSync(join(dir, 'package-lock.json'), 'utf8');
    const { packages } = JSON.parse(text) as { packages: Record<string, { integrity?: string }> };
    for (const name of ['@hiwelink/core', '@hiwelink/express', '@hiwelink/cli']) {
      // Exactly the tarball packed from this build, published to the local registry.
      expect(packages[`node_modules/${name}`], name).toMatchObject({ integrity: integrities[name] });
    }
    expect(text).not.toContain(repo);
    // The CLI does not bring the durable queue into every store.
    expect(packages['node_modules/bullmq']).toBeUndefined();
    expect(packages['node_modules/ioredis']).toBeUndefined();
  });

  it('installs again as the next steps say: npm install', { timeout: 300_000 }, async () => {
    await run('npm', ['install'], { cwd: dir, env: npmEnv() });
  });

  it('starts (npm start) and passes npx hiwelink verify', { timeout: 120_000 }, async () => {
    const port = await freePort();
    store = spawn('npm', ['start'], {
      cwd: dir,
      env: { ...npmEnv(), PORT: String(port) }, // the environment wins over .env
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const listening = new Promise<void>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk;
        if (output.includes(`:${port}`)) resolve();
      };
      store?.stdout?.on('data', read);
      store?.stderr?.on('data', read);
      store?.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
    await Promise.race([
      listening,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no listening line in 60 s:\n${output}`)), 60_000),
      ),
    ]);
    const key = /^HIWELINK_API_KEY=(\S+)$/m.exec(readFileSync(join(dir, '.env'), 'utf8'))?.[1] ?? '';
    expect(key).toMatch(/^hwk_live_[0-9a-f]{64}$/);
    try {
      const { stdout } = await run(
        'npx',
        ['hiwelink', 'verify', `http://127.0.0.1:${port}`, '--api-key', key],
        {
          cwd: dir,
          env: npmEnv(),
        },
      );
      expect(stdout).toMatch(/Ready for HiWelink/);
    } finally {
      // npm start runs node as its child: end the whole group.
      if (store.pid) process.kill(-store.pid, 'SIGTERM');
      await once(store, 'exit');
    }
  });
});
