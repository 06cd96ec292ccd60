#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keygen } from '@hiwelink/core';
import { INIT_USAGE, runInit } from './init.js';
import { formatReport } from './report.js';
import { STATUS_USAGE, webhooksStatus } from './status.js';
import { STORE_STATUS_USAGE, storeStatus } from './store-status.js';
import { type Credential, verifyStore } from './verify.js';
import { listen, sendTestEvent } from './webhooks.js';

const USAGE = `Usage:
  hiwelink --help | --version
  ${INIT_USAGE}
  hiwelink verify <base-url> [--api-key K | --bearer T | --basic user:pass] [--per-page 50]
                  [--health-path /health] [--products-path /api/products] [--orders-path /api/orders] [--json]
  hiwelink keygen [--prefix hwk_live_] [--json]
  hiwelink webhooks listen [--port 4242] [--secret S] [--status 200]...
  hiwelink webhooks send <url> [--secret S] [--event product.updated]
  ${STATUS_USAGE}
  ${STORE_STATUS_USAGE}`;

class UsageError extends Error {}

function credentialFrom(values: Record<string, unknown>): Credential {
  const given = ['api-key', 'bearer', 'basic'].filter((name) => values[name] !== undefined);
  if (given.length > 1) throw new UsageError('give one of --api-key, --bearer, --basic');
  if (typeof values['api-key'] === 'string') return { apiKey: values['api-key'] };
  if (typeof values.bearer === 'string') return { bearer: values.bearer };
  if (typeof values.basic === 'string') {
    const colon = values.basic.indexOf(':');
    if (colon < 1) throw new UsageError('--basic takes user:password');
    return { basic: { username: values.basic.slice(0, colon), password: values.basic.slice(colon + 1) } };
  }
  const fromEnv = process.env.HIWELINK_API_KEY;
  return fromEnv ? { apiKey: fromEnv } : {};
}

async function verify(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'api-key': { type: 'string' },
      bearer: { type: 'string' },
      basic: { type: 'string' },
      'per-page': { type: 'string' },
      'health-path': { type: 'string' },
      'products-path': { type: 'string' },
      'orders-path': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const baseUrl = positionals[0];
  if (!baseUrl) throw new UsageError('verify needs the store base URL');
  const perPage = values['per-page'] === undefined ? 50 : Number(values['per-page']);
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100)
    throw new UsageError('--per-page takes 1 to 100');
  const progress = !values.json && process.stderr.isTTY;
  const report = await verifyStore({
    baseUrl,
    credential: credentialFrom(values),
    perPage,
    paths: {
      ...(values['health-path'] ? { health: values['health-path'] } : {}),
      ...(values['products-path'] ? { products: values['products-path'] } : {}),
      ...(values['orders-path'] ? { orders: values['orders-path'] } : {}),
    },
    onProgress: progress
      ? (list, page, lastPage) => {
          const done = lastPage ? Math.min(20, Math.round((20 * page) / lastPage)) : 0;
          process.stderr.write(
            `\r  ${list.padEnd(8)} [${'#'.repeat(done).padEnd(20)}] page ${page}${lastPage ? `/${lastPage}` : ''}   `,
          );
        }
      : undefined,
  });
  if (progress) process.stderr.write('\r\x1b[K');
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.ok ? 0 : 1;
}

function keygenCommand(args: string[]) {
  const { values } = parseArgs({ args, options: { prefix: { type: 'string' }, json: { type: 'boolean' } } });
  const { key, digest } = keygen(values.prefix);
  if (values.json) console.log(JSON.stringify({ key, digest, env: `HIWELINK_API_KEY=${key}` }));
  else {
    console.log(`key     ${key}`);
    console.log(`digest  ${digest}   (configure this instead of the key to store no secret)`);
    console.log('');
    console.log(`HIWELINK_API_KEY=${key}`);
  }
  return 0;
}

/** This package's version, from its package.json (one directory above dist/). */
function version(): string {
  return (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    console.log(version());
    return 0;
  }
  // `hiwelink verify --help` is what people type first: usage, not an unknown-option error.
  if (command === undefined || command === 'help' || argv.some((arg) => arg === '--help' || arg === '-h')) {
    console.log(USAGE);
    return 0;
  }
  if (command === 'init') return runInit(rest);
  if (command === 'verify') return verify(rest);
  if (command === 'keygen') return keygenCommand(rest);
  if (command === 'status') return storeStatus(rest);
  if (command === 'webhooks' && rest[0] === 'listen') return listen(rest.slice(1));
  if (command === 'webhooks' && rest[0] === 'send') return sendTestEvent(rest.slice(1));
  if (command === 'webhooks' && rest[0] === 'status') return webhooksStatus(rest.slice(1));
  throw new UsageError(`unknown command '${[command, ...rest].slice(0, 2).join(' ')}'`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`hiwelink: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`hiwelink: ${(error as Error).message ?? String(error)}`);
      process.exitCode = 1;
    }
  },
);
