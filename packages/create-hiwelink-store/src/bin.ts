#!/usr/bin/env node
// `npm create hiwelink-store my-store -- --yes` runs this with `my-store --yes`: the same as
// `hiwelink init my-store --yes`.
import { readFileSync } from 'node:fs';

interface InitModule {
  runInit: (args: string[]) => Promise<number>;
  INIT_USAGE: string;
}

/** The init command of the installed @hiwelink/cli, next to its main module. */
async function loadInit(): Promise<InitModule> {
  const init = new URL('./init.js', import.meta.resolve('@hiwelink/cli'));
  return (await import(init.href)) as InitModule;
}

/** This package's version, from its package.json (one directory above dist/). */
function version(): string {
  return (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--version') || args.includes('-v')) {
    console.log(version());
    return 0;
  }
  const { runInit, INIT_USAGE } = await loadInit();
  if (args.includes('--help') || args.includes('-h')) {
    const options = INIT_USAGE.replace(/^hiwelink init \[dir\] /, '').replace(/\n\s+/g, ' ');
    console.log(`Usage:
  npm create hiwelink-store [dir] -- ${options}
  create-hiwelink-store [dir] ${options}

Writes a new store HiWelink can crawl into dir (default hiwelink-store), which must be missing or
empty, then runs npm install in it. Without --yes on a terminal it asks for what the options do
not give; --yes takes the defaults: express, api-key, sqlite.`);
    return 0;
  }
  return runInit(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`create-hiwelink-store: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
