import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repo } from './readme.js';

export const run = promisify(execFile);

/** Every package this repository publishes, by directory under packages/. */
export const PACKAGES = [
  'core',
  'express',
  'fastify',
  'koa',
  'fetch',
  'nestjs',
  'cli',
  'orm',
  'webhooks-bullmq',
  'create-hiwelink-store',
];

/** A port nothing listens on right now (bound on 127.0.0.1 port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** `npm pack` of every package from the current build into `destination`, as npm reports each. */
export async function packAll(
  destination: string,
): Promise<Array<{ name: string; filename: string; integrity: string }>> {
  const { stdout } = await run(
    'npm',
    [
      'pack',
      '--json',
      '--pack-destination',
      destination,
      ...PACKAGES.map((name) => `--workspace=packages/${name}`),
    ],
    { cwd: repo, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout);
}

/**
 * Writes `dir/tsconfig.json` as a user's strict project has it (`strict`, `nodenext`), with
 * `options` over it, and runs `tsc` (the one at `tsc`) on it. Resolves with the diagnostics
 * printed, empty when it compiled.
 */
export async function compileStrict(
  dir: string,
  tsc: string,
  options: Record<string, unknown>,
  include: string[],
) {
  const compilerOptions = {
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    types: ['node'],
    ...options,
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include }, null, 2));
  return run(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: dir }).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  );
}
