import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { hiwelink } from '@hiwelink/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmes, repo, shellLines } from './support/readme.js';

// Every command line the READMEs show for `hiwelink` and `create-hiwelink-store`, run as written
// from inside this repository after `npm ci`: `npx` and `npm create` find the workspace's bins the
// way they find a project's. The only changes made to a line are the stand-ins below (a real store
// for the placeholder URL, a free port for 4242, a queue of its own on the shared Redis).

const scratch = join(repo, '.scaffold-test', `readme-${randomUUID()}`);
const KEY = 'hwk_live_readme_cli_lines';
const SECRET = 'whsec_cmVhZG1lLWNsaS1saW5lcy1zZWNyZXQ=';
const STATUS_TOKEN = 'hws_readme_cli_lines_status_token';

const CLI_LINE =
  /^(npx hiwelink|hiwelink|npm create hiwelink-store|npx create-hiwelink-store|create-hiwelink-store)(\s|$)/;

const cliLines = [
  ...new Set(readmes().flatMap(({ text }) => shellLines(text).filter((line) => CLI_LINE.test(line)))),
];

const servers: Server[] = [];
const children: ChildProcess[] = [];
let storeUrl = '';
let listener: ChildProcess | undefined;
let hookPort = 0;
const queue = `readme-cli-${randomUUID()}`;

beforeAll(async () => {
  mkdirSync(scratch, { recursive: true });
  const catalog = Array.from({ length: 60 }, (_, index) => ({
    id: String(index + 1),
    name: `Product ${index + 1}`,
    price: 10,
    slug: `p-${index + 1}`,
    images: ['https://x.test/a.jpg'],
    stock_status: 'in_stock',
  }));
  const page =
    (records: unknown[]) =>
    ({ perPage, offset }: { perPage: number; offset: number }) => ({
      items: records.slice(offset, offset + perPage),
      total: records.length,
    });
  const app = express().use(
    hiwelink({
      products: page(catalog),
      orders: page([{ id: '1001' }]),
      auth: { apiKey: KEY },
      status: { path: '/hiwelink/status', auth: { bearer: STATUS_TOKEN } },
    }),
  );
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  storeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A free port for `webhooks listen` / `send`, which the README shows on 4242.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  hookPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  await Promise.all(children.map(stop));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Ends a line's process and everything it started: each runs in a process group of its own, as
 * `npx` runs the command as its child and does not pass a SIGTERM on.
 */
async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = once(child, 'exit');
  process.kill(-child.pid, 'SIGTERM');
  await exited;
}

/** The line as run: the README's placeholders replaced by the live stand-ins. */
function localized(line: string) {
  // `webhooks listen` defaults to 4242, the port the README's `send` line targets.
  const listen = /\bwebhooks listen\b/.test(line) && !line.includes('--port') ? ` --port ${hookPort}` : '';
  return `${line}${listen}`
    .replaceAll('https://api.yourstore.com', storeUrl)
    .replaceAll('4242', String(hookPort))
    .replaceAll('hiwelink-webhooks', queue);
}

function environment() {
  return {
    ...process.env,
    // A user's shell: no node_modules/.bin on PATH (npm test puts it there), so a bare `hiwelink`
    // line in a README fails here as it would for them; the README writes `npx hiwelink`.
    PATH: (process.env.PATH ?? '')
      .split(delimiter)
      .filter((entry) => !/node_modules[\\/]\.bin$/.test(entry))
      .join(delimiter),
    HIWELINK_API_KEY: KEY,
    HIWELINK_WEBHOOK_SECRET: SECRET,
    STATUS_TOKEN,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    npm_config_yes: 'false',
    npm_config_update_notifier: 'false',
  };
}

/** Runs one line in bash in a fresh directory of its own; resolves with its exit code and output. */
async function runLine(line: string, cwd: string) {
  mkdirSync(cwd, { recursive: true });
  const child = spawn('bash', ['-c', localized(line)], {
    cwd,
    env: environment(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('the CLI lines of the READMEs', () => {
  it('finds the lines a new user types first', () => {
    for (const expected of [
      'npx hiwelink --help',
      'npx hiwelink --version',
      'npx hiwelink init my-store --yes',
      'npm create hiwelink-store my-store',
      'npx create-hiwelink-store --help',
      'npx hiwelink keygen',
    ]) {
      expect(cliLines).toContain(expected);
    }
  });

  let count = 0;
  for (const line of cliLines) {
    it(`runs: ${line}`, { timeout: 120_000 }, async () => {
      const cwd = join(scratch, `line-${++count}`);
      if (/\bwebhooks listen\b/.test(line)) {
        // Runs until stopped: it must come up and say where it listens; the `send` line after it
        // talks to it. One listener at a time on the port: the previous one goes first.
        if (listener) await stop(listener);
        const child = spawn('bash', ['-c', `exec ${localized(line)}`], {
          cwd: repo,
          env: environment(),
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        children.push(child);
        listener = child;
        let output = '';
        const listening = new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            output += chunk;
            if (output.includes(`:${hookPort}`)) resolve();
          });
          child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
        });
        await listening;
        return;
      }
      if (/\bwebhooks send\b/.test(line)) {
        // The README's listener answers 500, then 200: the first send reports the 500, the next one lands.
        const first = await runLine(line, cwd);
        expect(first.output).toMatch(/500/);
        expect(first.code).toBe(1);
      }
      const { code, output } = await runLine(line, cwd);
      expect(output).not.toMatch(/E404|not found|unknown (option|command)/i);
      expect(code, output).toBe(0);
      if (/\binit\b|create/.test(line) && !/--help|--version/.test(line)) {
        // The store is written, and inside this repository it runs on the workspace's packages.
        const manifest = JSON.parse(readFileSync(join(cwd, 'my-store', 'package.json'), 'utf8'));
        expect(manifest.dependencies['@hiwelink/core']).toMatch(/^\^\d/);
        expect(existsSync(join(cwd, 'my-store', '.env'))).toBe(true);
        // npm 11 runs better-sqlite3's build only when the project allows it.
        expect(manifest.allowScripts).toEqual({ 'better-sqlite3': true });
        expect(output).toMatch(/not running npm install/);
      }
      if (/--version$/.test(line)) {
        const { version } = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8'));
        expect(output.trim()).toBe(version);
      }
      if (/\bhiwelink status\b/.test(line)) expect(output).toMatch(/\n {2}products +\S+ \S+ UTC/);
      if (/^hiwelink keygen$/.test(line)) expect(output).toMatch(/^key {5}hwk_live_[0-9a-f]{64}$/m);
    });
  }
});
