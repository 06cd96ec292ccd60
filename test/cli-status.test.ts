import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { HiwelinkOptions, StatusReport } from '@hiwelink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingLogger } from './support/driver-values.js';
import { cleanupsAfterEach, memoryEmitter } from './support/emitters.js';
import { frameworks, startPerTest } from './support/frameworks.js';
import { send } from './support/http-client.js';
import { crawl, listProducts } from './support/status-crawl.js';
import { STACK_LINE } from './support/stores.js';

// `hiwelink status <url>`, the built bin run as a user runs it, against a real Express host app
// with the kit's status page on 127.0.0.1, after HiWelink-like requests.

const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const KEY = 'hwk_live_cli_status_api_key_00001';
const TOKEN = 'hws_cli_status_token_0123456789ab';

const options: HiwelinkOptions = {
  auth: { apiKey: KEY },
  storeBaseUrl: 'https://shop.example.com',
  products: listProducts,
  orders: () => {
    throw new Error('database is down');
  },
  status: { path: '/hiwelink/status', auth: { bearer: TOKEN } },
  logger: recordingLogger(),
};

const express = frameworks.find((framework) => framework.name === 'express 5');
if (!express) throw new Error('no express 5 host in test/support/frameworks.ts');

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Runs the CLI; HIWELINK_STATUS_TOKEN is only what `env` gives. */
function run(args: string[], env: Record<string, string> = {}) {
  const inherited = { ...process.env };
  delete inherited.HIWELINK_STATUS_TOKEN;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [bin, 'status', ...args],
      { timeout: 30_000, env: { ...inherited, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A server on 127.0.0.1 answering every request with `handler`. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('hiwelink status', () => {
  const start = startPerTest(express);
  const defer = cleanupsAfterEach();

  it('shows the webhook deliveries, resends a given-up one, sends a test event and requests a sync', async () => {
    let accept = false;
    // Signed, so that each delivery carries its webhook-id.
    const { emitter, receiver } = await memoryEmitter(defer, () => ({ status: accept ? 200 : 400 }), {
      secret: 'cli-status-test-webhook-secret-0123',
    });
    const app = await start({
      ...options,
      status: { path: '/hiwelink/status', auth: { bearer: TOKEN }, webhooks: emitter },
    });
    const url = `${app.url}/hiwelink/status`;
    emitter.productUpdated({ id: 42, name: 'Desk Lamp', price: 25 });
    const given = async () => {
      const { stdout } = await run([url, '--token', TOKEN, '--json']);
      return (JSON.parse(stdout) as StatusReport & { webhooks: { counts: { givenUp: number } } }).webhooks;
    };
    await expect.poll(async () => (await given()).counts.givenUp, { timeout: 10_000 }).toBe(1);
    const { stdout } = await run([url, '--token', TOKEN]);
    expect(stdout).toContain('Webhooks (this instance only: in-memory emitter)');
    expect(stdout).toMatch(/queued 0 {2}in flight 0 {2}delivered 0 {2}retrying 0 {2}given up 1\n/);
    const row = stdout.split('\n').find((line) => line.includes('product.updated')) ?? '';
    const id = /(\S+)$/.exec(row)?.[1] as string;
    expect(row).toMatch(/product\.updated +42 +given up +1 +400 +\d+ ms +— +\S+$/);
    expect(id).toMatch(/^msg_/);

    accept = true;
    const resent = await run([url, '--token', TOKEN, '--resend', id]);
    expect(resent.stderr).toBe('');
    expect(resent.stdout.trim()).toBe('The event is queued again, with its webhook-id.');
    expect(resent.code).toBe(0);
    await expect.poll(() => receiver.delivered().length, { timeout: 10_000 }).toBe(1);
    expect(receiver.delivered()[0]?.headers['webhook-id']).toBe(id);
    const again = await run([url, '--token', TOKEN, '--resend', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^hiwelink: resend: the page answered 404: No given-up or dead event with that webhook-id is kept/,
    );

    const test = await run([url, '--token', TOKEN, '--test-event', '--json']);
    expect(test.code).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ ok: true, notice: 'test_sent' });
    const sync = await run([url, '--token', TOKEN, '--request-sync']);
    expect(sync.stdout).toContain('Full sync requested');
    await expect
      .poll(() => receiver.delivered().map((entry) => entry.body.event), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['product.updated', 'sync.requested']));
  });

  it('prints the crawl, skipped records, unlinked products, credential, set-up and log as tables', async () => {
    const app = await start(options);
    await crawl(app.url, KEY);
    const { code, stdout, stderr } = await run([`${app.url}/hiwelink/status`, '--token', TOKEN]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const row = (name: string) => stdout.split('\n').find((line) => line.startsWith(`  ${name} `)) ?? '';
    expect(row('products')).toMatch(/3 from page 1\s+7\s+\d+ (ms|s)\s+yes\s+200×3/);
    expect(row('orders')).toMatch(/no crawl yet\s+401×1 500×1\s+500 at .*orders callback failed/);
    expect(stdout).toContain('1 request(s) answered 401');
    expect(stdout).toMatch(/Credential of the last accepted request: \S+ \(configured: \S+\): matches/);
    expect(stdout).toMatch(
      /Records HiWelink will skip: 1\n\s+LIST\s+ID\s+PAGE\s+WHY\n\s+products\s+4\s+2\s+\S/,
    );
    expect(stdout).toContain(
      'Products without a link in the last crawl: 2 (HiWelink links them to the homepage): 6, 7',
    );
    expect(stdout).toContain('API requests in the last hour: 5 (2 answered 4xx or 5xx)');
    expect(stdout).toContain('Webhooks: not connected');
    expect(stdout).toMatch(/store URL\s+https:\/\/shop\.example\.com/);
    expect(stdout).toMatch(
      /Recent warnings and errors of the API \(this instance, newest first; webhook failures are under Webhooks\)\n\s+AT\s+LEVEL\s+MESSAGE\n\s+\S+ \S+ UTC \(\d+ s ago\)\s+error/,
    );
    for (const secret of [KEY, TOKEN]) expect(stdout).not.toContain(secret);
  });

  it('--json prints the page JSON unchanged, and the token may come from HIWELINK_STATUS_TOKEN', async () => {
    const app = await start(options);
    await crawl(app.url, KEY);
    const url = `${app.url}/hiwelink/status`;
    const { code, stdout } = await run([url, '--json'], { HIWELINK_STATUS_TOKEN: TOKEN });
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as StatusReport;
    const direct = (
      await send(url, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json() as StatusReport;
    expect(printed.crawls).toEqual(direct.crawls);
    expect(printed.setup).toEqual(direct.setup);
    expect(printed.instance).toEqual(direct.instance);
    expect(printed.crawls.products.lastCrawl).toMatchObject({ pages: 3, records: 7, complete: true });
  });

  it('--token wins over HIWELINK_STATUS_TOKEN', async () => {
    const app = await start(options);
    const url = `${app.url}/hiwelink/status`;
    const flag = await run([url, '--token', TOKEN], { HIWELINK_STATUS_TOKEN: 'hws_some_other_token_000000' });
    expect(flag.code).toBe(0);
    const wrongFlag = await run([url, '--token', 'hws_some_other_token_000000'], {
      HIWELINK_STATUS_TOKEN: TOKEN,
    });
    expect(wrongFlag.code).toBe(1);
    expect(wrongFlag.stderr).toContain('the token from --token');
  });

  it('a wrong token: exit 1 and a line saying so, without the token', async () => {
    const app = await start(options);
    const wrong = 'hws_wrong_status_token_00000000';
    for (const env of [{}, { HIWELINK_STATUS_TOKEN: wrong }] as Record<string, string>[]) {
      const args = Object.keys(env).length ? [] : ['--token', wrong];
      const { code, stdout, stderr } = await run([`${app.url}/hiwelink/status`, ...args], env);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /^hiwelink: the status page at \S+ refused the token \(401\): the token from (--token|HIWELINK_STATUS_TOKEN) is not the page's/,
      );
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).not.toContain(wrong);
      expect(stderr).not.toMatch(STACK_LINE);
    }
  });

  it('a token no header can carry is refused before sending, without printing it', async () => {
    const { code, stderr } = await run(['http://127.0.0.1:9/hiwelink/status', '--token', 'abc\tsecret-part']);
    expect(code).toBe(1);
    expect(stderr).toContain('holds characters no HTTP header can carry');
    expect(stderr).not.toContain('secret-part');
  });

  it('a refused port, a timeout, no JSON, JSON of something else, a 404: one clear line and exit 1', async () => {
    const free = await serve(() => {});
    const refusedPort = new URL(free).port;
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const silent = await serve(() => {});
    const html = await serve((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<!doctype html><p>a shop</p>');
    });
    const other = await serve((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end('{"status":"ok"}');
    });
    const missing = await serve((_request, response) => {
      response.statusCode = 404;
      response.setHeader('content-type', 'application/json');
      response.end('{"error":"No route","code":"not_found"}');
    });
    const cases: [string, string[], RegExp][] = [
      [
        `http://127.0.0.1:${refusedPort}/hiwelink/status`,
        [],
        new RegExp(
          `^hiwelink: nothing answers at 127\\.0\\.0\\.1:${refusedPort} \\(connection refused\\): is the store running, and on that port\\?$`,
          'm',
        ),
      ],
      [`${silent}/hiwelink/status`, ['--timeout-ms', '300'], /no answer from .*: nothing within 300 ms/],
      [
        `${html}/hiwelink/status`,
        [],
        /answered 200 with text\/html, not JSON: is this the status page's URL/,
      ],
      [`${other}/hiwelink/status`, [], /answered JSON that is not a HiWelink status report/],
      [`${missing}/status`, [], /answered 404: No route: is this the status page URL/],
      ['localhost:3000/hiwelink/status', [], /is not an http\(s\) URL/],
      // fetch's own words (an OpenSSL routine, 'bad port') said in the store developer's.
      [
        `${other.replace('http:', 'https:')}/hiwelink/status`,
        [],
        /it does not speak TLS there: try http:\/\/ instead of https:\/\//,
      ],
      ['http://127.0.0.1:1/hiwelink/status', [], /fetch refuses that port \(a reserved one\): use another/],
    ];
    for (const [url, extra, message] of cases) {
      const { code, stderr } = await run([url, '--token', TOKEN, ...extra]);
      expect(code, url).toBe(1);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
      expect(stderr).not.toContain(TOKEN);
      expect(stderr).not.toMatch(STACK_LINE);
    }
    const none = await run([`${other}/hiwelink/status`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('needs the page token: --token T, or HIWELINK_STATUS_TOKEN');
  });

  it('a time still to come reads "in N s", and a last answer that is only the status shows it once', async () => {
    // Each delivery answered 500, the retry a minute later: retrying, with a next attempt ahead.
    const { emitter } = await memoryEmitter(defer, () => ({ status: 500 }), { retryDelaysMs: [60_000] });
    const app = await start({
      ...options,
      status: { path: '/hiwelink/status', auth: { bearer: TOKEN }, webhooks: emitter },
    });
    const url = `${app.url}/hiwelink/status`;
    emitter.productUpdated({ id: 7, name: 'Desk Lamp', price: 25 });
    const row = async () =>
      (await run([url, '--token', TOKEN])).stdout
        .split('\n')
        .find((line) => line.includes('product.updated')) ?? '';
    await expect.poll(row, { timeout: 10_000 }).toMatch(/ retrying /);
    const line = await row();
    expect(line).toMatch(/ retrying +1 +500 +\d+ ms +\S+ \S+ UTC \(in (\d+ s|1 min)\) +msg_/);
    expect(line).not.toContain('HTTP 500');
    expect(line).not.toContain('0 s ago)  msg_');
  });

  it("a 401 that is not the status page's (a wrong URL with the right token) says the URL is wrong", async () => {
    const app = await start(options);
    const { code, stdout, stderr } = await run([`${app.url}/api/products`, '--token', TOKEN]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^hiwelink: \S+\/api\/products answered 401 but is not the status page/);
    expect(stderr).toContain('check the URL');
    expect(stderr).not.toContain('token');
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it("an action the emitter did not confirm prints the page's message as is, without calling it refused", async () => {
    // The receiver never answers and the queue holds one event: the second one is not taken.
    const { emitter } = await memoryEmitter(defer, () => 'hang', { maxQueueSize: 1 });
    const app = await start({
      ...options,
      status: { path: '/hiwelink/status', auth: { bearer: TOKEN }, webhooks: emitter },
    });
    const url = `${app.url}/hiwelink/status`;
    expect((await run([url, '--token', TOKEN, '--test-event'])).code).toBe(0);
    const { code, stdout, stderr } = await run([url, '--token', TOKEN, '--test-event']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    // What the page itself answers to the same action, asked directly.
    const headers = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' };
    const { actions } = (await send(url, { headers })).json() as StatusReport;
    const direct = await send(`${url}?action=test-event&csrf=${actions.csrf}`, { method: 'POST', headers });
    expect(direct.status).toBe(409);
    const message = (direct.json() as { error: string }).error;
    expect(stderr).toBe(`hiwelink: test-event: the page answered 409: ${message}\n`);
    expect(stderr.replace(message, '')).not.toMatch(/refused|below/i);
  });

  it('an action on a page without an emitter says there is none, and sends nothing', async () => {
    const app = await start(options);
    const { code, stdout, stderr } = await run([
      `${app.url}/hiwelink/status`,
      '--token',
      TOKEN,
      '--request-sync',
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('the status page offers no actions');
    const both = await run([
      `${app.url}/hiwelink/status`,
      '--token',
      TOKEN,
      '--test-event',
      '--request-sync',
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give one of --resend, --test-event, --request-sync');
  });
});
