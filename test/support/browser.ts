import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); `CHROMIUM_PATH` names another binary. */
export const chromiumPath = () => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The flags this machine needs that Playwright does not pass itself. */
const OWN_FLAGS = ['--disable-gpu', '--disable-quic'];

/**
 * Every flag this machine needs. Playwright adds all but `OWN_FLAGS` (`--no-sandbox` by its
 * default `chromiumSandbox: false`), plus a fresh temporary `--user-data-dir` that it deletes on
 * close (it refuses one of ours); test/browser-smoke.test.ts checks that they all arrive.
 */
export const CHROMIUM_FLAGS = [
  ...OWN_FLAGS,
  '--headless',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Chromium headless from `chromiumPath()` through playwright-core (never its download).
 * Resolves to the Browser, which the caller closes in `afterAll`; to `undefined` when the binary
 * is missing or not executable, with the reason printed, so the caller skips (`describe.skipIf`).
 * With CI=true a missing binary throws instead. A binary that exists but fails to launch always
 * throws: that is a broken machine, not an absent browser.
 */
export async function openBrowser(): Promise<Browser | undefined> {
  const path = chromiumPath();
  try {
    await access(path, constants.X_OK);
  } catch (error) {
    const reason = `no Chromium at ${path} (${(error as NodeJS.ErrnoException).code})`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true requires it`);
    console.warn(
      `Skipping the browser tests: ${reason}. Run apt-get install chromium, or set CHROMIUM_PATH to run them.`,
    );
    return undefined;
  }
  return chromium.launch({ executablePath: path, headless: true, args: OWN_FLAGS, timeout: 30_000 });
}

/** What went wrong in a page: console errors, uncaught exceptions and CSP violations. */
export interface PageProblems {
  /** Text of each `console.error` and browser-logged error (a CSP refusal is one). */
  consoleErrors: string[];
  /** Messages of uncaught exceptions in the page. */
  pageErrors: string[];
  /** Each `securitypolicyviolation` event: the directive broken and what it blocked. */
  cspViolations: Array<{ directive: string; blocked: string }>;
}

/**
 * Starts recording a page's problems; call it before the first `goto`. CSP violations are caught by
 * a listener Playwright injects into every document (init scripts are not subject to the page's
 * CSP) and reported through a binding, so a page with a strict policy can still be watched.
 */
export async function watchProblems(page: Page): Promise<PageProblems> {
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  await page.exposeFunction('__reportCspViolation', (directive: string, blocked: string) => {
    problems.cspViolations.push({ directive, blocked });
  });
  // A string, not a function: the tests compile without the DOM's types.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
    window.__reportCspViolation(event.effectiveDirective, event.blockedURI));`);
  return problems;
}
