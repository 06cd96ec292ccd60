import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The runnable stores, started as their users start them: the demo store (`npm start`) and the
 * stores `hiwelink init` scaffolds, each as a child process with its own output, so a test sees
 * exactly what an operator would see in the log.
 */

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(repo, 'packages/cli/dist/bin.js');
const demoMain = join(repo, 'examples/express-sqlite/dist/main.js');
const fastifyExampleMain = join(repo, 'examples/fastify-postgres/dist/main.js');

/** Variables of the test runner's environment a store would otherwise pick up. */
const STORE_VARIABLES = [
  'HIWELINK_API_KEY',
  'HIWELINK_AUTH',
  'HIWELINK_BASIC_USER',
  'HIWELINK_JWT_SECRET',
  'HIWELINK_USERNAME',
  'ADMIN_TOKEN',
  'STATUS_TOKEN',
  'HIWELINK_STATUS_TOKEN',
  'PORT',
  'HOST',
  'DATABASE_FILE',
  'DATABASE_URL',
  'DATABASE_SCHEMA',
  'HIWELINK_WEBHOOK_URL',
  'HIWELINK_STORE_TOKEN',
  'HIWELINK_WEBHOOK_SECRET',
  'WEBHOOK_QUEUE',
  'HIWELINK_QUEUE',
  'HEADERS_TIMEOUT_MS',
  'REQUEST_TIMEOUT_MS',
  'KEEP_ALIVE_TIMEOUT_MS',
];

function cleanEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  for (const name of STORE_VARIABLES) delete inherited[name];
  return { ...inherited, ...env };
}

/** A store process: its output so far, its exit, and a stop that always ends it. */
export interface StoreProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
  /**
   * For a store expected to refuse to start: its exit code, or a rejection (and the process
   * stopped) if it is still running after `timeoutMs`.
   */
  refusal(timeoutMs?: number): Promise<number | null>;
}

function launch(args: string[], cwd: string, env: Record<string, string>): StoreProcess {
  const child = spawn(process.execPath, args, {
    cwd,
    env: cleanEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(force);
    },
    async refusal(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const running = new Promise<'running'>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, 'running');
      });
      const outcome = await Promise.race([exited, running]);
      clearTimeout(timer);
      if (outcome !== 'running') return outcome;
      await this.stop();
      throw new Error(`still running after ${timeoutMs} ms, expected a refusal:\n${stdout}${stderr}`);
    },
  };
}

/** A store to start: the demo, or one scaffold of `hiwelink init`. */
export interface StoreTarget {
  /** 'demo', or '<framework>/<database>'. */
  name: string;
  /** The environment that starts it on a free port with its credentials; `env` is laid over it. */
  environment(env?: Record<string, string>): Record<string, string>;
  /** Starts the store; does not wait for it to listen (see `listening`). */
  launch(env?: Record<string, string>): StoreProcess;
  adminToken: string;
  /** The headers HiWelink's crawler sends. */
  apiHeaders: Record<string, string>;
}

const DEMO_KEY = 'sk_test_malformed_requests_demo_key';
const DEMO_ADMIN = 'adm_test_demo_admin_token';

/** The demo store on an in-memory database, seeded small. */
export const demoStore: StoreTarget = {
  name: 'demo',
  environment: (env = {}) => ({
    PORT: '0',
    DATABASE_FILE: ':memory:',
    SEED_PRODUCTS: '12',
    SEED_ORDERS: '3',
    HIWELINK_API_KEY: DEMO_KEY,
    ADMIN_TOKEN: DEMO_ADMIN,
    ...env,
  }),
  launch(env = {}) {
    return launch([demoMain], repo, this.environment(env));
  },
  adminToken: DEMO_ADMIN,
  apiHeaders: { 'x-api-key': DEMO_KEY },
};

const EXAMPLE_KEY = 'sk_test_fastify_postgres_example_key';
const EXAMPLE_ADMIN = 'adm_test_fastify_postgres_example';

/** examples/fastify-postgres on `databaseUrl`, in its own `schema`, webhooks off. */
export function fastifyPostgresExample(databaseUrl: string, schema: string): StoreTarget {
  return {
    name: 'fastify-postgres example',
    environment: (env = {}) => ({
      PORT: '0',
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      HIWELINK_API_KEY: EXAMPLE_KEY,
      ADMIN_TOKEN: EXAMPLE_ADMIN,
      LOG_LEVEL: 'error',
      ...env,
    }),
    launch(env = {}) {
      return launch([fastifyExampleMain], repo, this.environment(env));
    },
    adminToken: EXAMPLE_ADMIN,
    apiHeaders: { 'x-api-key': EXAMPLE_KEY },
  };
}

export const FRAMEWORKS = ['express', 'fastify', 'koa'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** Where the scaffolds go: inside the repository, so they resolve the workspace packages. */
export function scaffoldRoot(): { dir: string; remove(): void } {
  const dir = join(repo, '.scaffold-test', randomUUID());
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes a store with `hiwelink init` (API-key auth, no install) into `root` and returns how to
 * start it. SQLite stores run on `:memory:` unless `DATABASE_FILE` is given.
 */
export function scaffoldStore(
  root: string,
  framework: Framework,
  database: 'sqlite' | 'postgres',
): StoreTarget {
  const dir = join(root, `${framework}-${database}`);
  const init = spawnSync(
    process.execPath,
    [cli, 'init', dir, '--framework', framework, '--database', database, '--yes', '--no-install'],
    { cwd: repo, encoding: 'utf8', timeout: 30_000 },
  );
  if (init.status !== 0) throw new Error(`hiwelink init failed: ${init.stderr}`);
  const dotenv: Record<string, string> = {};
  for (const line of readFileSync(join(dir, '.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1] && match[2] !== undefined) dotenv[match[1]] = match[2];
  }
  return {
    name: `${framework}/${database}`,
    environment: (env = {}) => ({
      PORT: '0',
      ...(database === 'sqlite' ? { DATABASE_FILE: ':memory:' } : {}),
      HIWELINK_WEBHOOK_URL: '',
      HIWELINK_STORE_TOKEN: '',
      ...env,
    }),
    // As `npm start` runs it: .env read by Node, the environment winning over it.
    launch(env = {}) {
      return launch(['--env-file=.env', 'src/server.js'], dir, this.environment(env));
    },
    adminToken: dotenv.ADMIN_TOKEN ?? '',
    apiHeaders: { 'x-api-key': dotenv.HIWELINK_API_KEY ?? '' },
  };
}

/** Waits for the start-up banner's `listening on <url>`; rejects with the output if the store exits first. */
export async function listening(store: StoreProcess, timeoutMs = 15_000): Promise<string> {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    const url = /listening on (http:\/\/\S+)/.exec(store.stdout())?.[1];
    if (url) return url;
    if (store.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the store did not start:\n${store.stdout()}${store.stderr()}`);
}

/** A stack trace line, as Node prints them: what an operator must never need to read. */
export const STACK_LINE = /\n\s+at .+[(:]\d+/;
