import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, openBrowser, watchProblems } from './support/browser.js';

// Guards the browser infrastructure itself: Chromium really runs, scripts run, a form posts, a
// screenshot is a PNG and a strict CSP blocks inline script. The status page tests build on it.

const browser = await openBrowser();

// Nothing but same-origin files: what the status page promises (no CDN, no inline code).
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Browser smoke</title>
<link rel="stylesheet" href="/app.css"></head>
<body>
<form method="post" action="/submit">
  <label>Item <input name="item"></label>
  <button type="submit">Save</button>
</form>
<script src="/app.js"></script>
<script>document.title = 'inline script ran';</script>
</body></html>`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const readBody = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

describe.skipIf(!browser)('real browser: Chromium through playwright-core', () => {
  const shared = browser as Browser;
  const posts: Array<{ contentType?: string; body: string }> = [];
  const server = createServer(async (request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'content-security-policy': CSP });
      response.end(body);
    };
    const route = `${request.method} ${request.url}`;
    if (route === 'GET /') return send(200, 'text/html; charset=utf-8', PAGE);
    if (route === 'GET /app.js') {
      return send(200, 'text/javascript', "document.body.dataset.script = 'ran';");
    }
    if (route === 'GET /app.css') return send(200, 'text/css', 'body { background: #fff; }');
    if (route === 'POST /submit') {
      const body = await readBody(request);
      posts.push({ contentType: request.headers['content-type'], body });
      const item = new URLSearchParams(body).get('item') ?? '';
      return send(
        200,
        'text/html; charset=utf-8',
        `<!doctype html><title>Saved</title><p id="result">Saved: ${escapeHtml(item)}</p>`,
      );
    }
    send(404, 'text/plain', 'not found');
  });
  let origin = '';
  let screenshots = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    screenshots = await mkdtemp(join(tmpdir(), 'hiwelink-screenshots-'));
  });
  afterAll(async () => {
    await shared.close();
    await new Promise((resolve) => server.close(resolve));
    if (screenshots) await rm(screenshots, { recursive: true, force: true });
  });

  it('runs the page script, blocks the inline one by CSP, posts the form and renders the answer', async () => {
    const context = await shared.newContext();
    const page = await context.newPage();
    const problems = await watchProblems(page);
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(CSP);

    // The same-origin script ran, so scripts run at all; the inline one did not.
    await page.waitForFunction("document.body.dataset.script === 'ran'");
    expect(await page.title()).toBe('Browser smoke');
    await expect
      .poll(() => problems.cspViolations)
      .toContainEqual({ directive: 'script-src-elem', blocked: 'inline' });
    await expect.poll(() => problems.consoleErrors.join('\n')).toMatch(/Content Security Policy/);
    expect(problems.pageErrors).toEqual([]);

    const item = '<b>chair & "table"</b>';
    await page.getByLabel('Item').fill(item);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${origin}/submit`);
    // Escaped by the server, so the text comes back exactly and no element was made of it.
    expect(await page.locator('#result').textContent()).toBe(`Saved: ${item}`);
    expect(await page.locator('#result b').count()).toBe(0);
    expect(posts).toEqual([
      { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ item }).toString() },
    ]);
    await context.close();
  });

  it('takes a screenshot that is a PNG of the viewport size', async () => {
    const context = await shared.newContext({
      viewport: { width: 640, height: 360 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    const path = join(screenshots, 'smoke.png');
    await page.screenshot({ path });
    const png = await readFile(path);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR is the first chunk: width and height as big-endian 32-bit numbers after its type.
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([640, 360]);
    await context.close();
  });

  it('launches with the flags this machine needs and a temporary profile it removes on close', async () => {
    // A browser of this test's own, to watch its profile go when it closes.
    const own = (await openBrowser()) as Browser;
    const page = await own.newPage();
    await page.goto('chrome://version');
    const commandLine = (await page.locator('#command_line').textContent()) ?? '';
    const flags = commandLine.trim().split(/\s+/);
    for (const flag of CHROMIUM_FLAGS) expect(flags).toContain(flag);
    const profiles = flags.filter((flag) => flag.startsWith('--user-data-dir='));
    expect(profiles).toHaveLength(1);
    const profile = String(profiles[0]).slice('--user-data-dir='.length);
    expect(profile.startsWith(tmpdir())).toBe(true);
    expect(existsSync(profile)).toBe(true);
    await own.close();
    expect(existsSync(profile)).toBe(false);
  });
});
