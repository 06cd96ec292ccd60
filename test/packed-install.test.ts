import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileStrict, freePort, packAll, run } from './support/packages.js';
import { generatePrismaClient } from './support/prisma.js';
import { codeBlocks, repo, shellLines } from './support/readme.js';

// What users install: every package packed by `npm pack` from the build, installed from the
// tarballs into fresh projects in the system's temp directory (outside the workspace, so nothing
// resolves to it), with the frameworks and TypeScript from the registry. In each project the
// README's quick start runs, as plain ESM JavaScript and as strict TypeScript, and answers the
// README's curl lines. The only change made to the README's code is the port (a free one for 3000).
// The Prisma extension is loaded from its tarball in a project of its own, and the README's Prisma
// block compiled there against a client `prisma generate` made in that project.

const KEY = 'hwk_live_packed_install_test_key';
const work = mkdtempSync(join(tmpdir(), 'hiwelink-packed-'));
const tarballs: Record<string, string> = {};
const rootManifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const ormManifest = JSON.parse(readFileSync(join(repo, 'packages', 'orm', 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
/** The versions the workspace tests with, so the projects get the same from the registry. */
const pinned = (name: string) =>
  `${name}@${rootManifest.devDependencies[name] ?? ormManifest.devDependencies[name]}`;

type Framework = 'express' | 'fastify' | 'koa' | 'hono' | 'nestjs';
const TITLES: Record<Framework, string> = {
  express: 'Express',
  fastify: 'Fastify',
  koa: 'Koa',
  hono: 'Hono',
  nestjs: 'NestJS',
};
/** What each project installs from the registry besides the kit and TypeScript. */
const FRAMEWORK: Record<Framework, string[]> = {
  express: [pinned('express'), pinned('@types/express')],
  fastify: [pinned('fastify')],
  koa: [pinned('koa'), pinned('@types/koa')],
  hono: [pinned('hono'), pinned('@hono/node-server')],
  nestjs: ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs'].map(
    pinned,
  ),
};
/** The kit's package for a framework: Hono takes the fetch-standard handler. */
const adapter = (framework: Framework) => (framework === 'hono' ? 'fetch' : framework);

const readme = readFileSync(join(repo, 'README.md'), 'utf8');

/** The first ```ts block under the README's `### <title>` heading. */
function quickStart(framework: Framework): string {
  const start = readme.indexOf(`\n### ${TITLES[framework]}\n`);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const block = codeBlocks(section, ['ts'])[0];
  if (start < 0 || !block) throw new Error(`README.md has no ${TITLES[framework]} quick start`);
  return block.code;
}

/** The curl lines of the README's "Check it" section. */
const checkLines = (() => {
  const start = readme.indexOf('\n### Check it\n');
  return shellLines(readme.slice(start, readme.indexOf('\n## ', start + 1))).filter((line) =>
    line.startsWith('curl '),
  );
})();

const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });

beforeAll(async () => {
  const packed = join(work, 'tarballs');
  mkdirSync(packed);
  for (const entry of await packAll(packed)) tarballs[entry.name] = join(packed, entry.filename);
}, 120_000);

// Five projects with their node_modules: removing them has taken over 10 s on a loaded machine.
afterAll(() => rmSync(work, { recursive: true, force: true }), 120_000);

const servers: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }),
  );
});

/** Starts `node <file>` in the project; resolves once /health answers (any status). */
async function serve(cwd: string, file: string, port: number) {
  const child = spawn(process.execPath, [file], {
    cwd,
    env: { PATH: process.env.PATH, HIWELINK_API_KEY: KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  for (let attempt = 0; attempt < 150; attempt++) {
    if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode}:\n${output}`);
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${file} did not answer on port ${port} within 15 s:\n${output}`);
}

/** Runs the README's curl lines against the port; checks what each answers. */
async function checkWithCurl(port: number) {
  expect(checkLines.length).toBeGreaterThanOrEqual(2);
  for (const line of checkLines) {
    const { stdout } = await run('bash', ['-c', line.replaceAll(':3000', `:${port}`)], {
      env: { ...process.env, HIWELINK_API_KEY: KEY },
    });
    if (line.includes('/health')) expect(stdout).toMatch(/^HTTP\/1\.1 200/);
    if (line.includes('/api/products')) {
      const body = JSON.parse(stdout) as { data: Array<{ name: string }>; meta: { total: number } };
      expect(body.data.map((product) => product.name)).toEqual(['Blue Hoodie']);
      expect(body.meta.total).toBe(1);
    }
  }
  // And without the key, the same URL is refused.
  expect((await fetch(`http://127.0.0.1:${port}/api/products`)).status).toBe(401);
}

for (const framework of ['express', 'fastify', 'koa', 'hono', 'nestjs'] as const) {
  describe(`${TITLES[framework]} app from the packed tarballs`, () => {
    const dir = join(work, framework);

    beforeAll(async () => {
      mkdirSync(dir);
      writeFileSync(
        join(dir, 'package.json'),
        `${JSON.stringify({ name: `packed-${framework}`, private: true, type: 'module' }, null, 2)}\n`,
      );
      await npm(
        [
          'install',
          tarballs['@hiwelink/core'] ?? '',
          tarballs[`@hiwelink/${adapter(framework)}`] ?? '',
          ...FRAMEWORK[framework],
          pinned('typescript'),
          pinned('@types/node'),
        ],
        dir,
      );
      if (framework === 'express') await npm(['install', '--save-dev', tarballs['@hiwelink/cli'] ?? ''], dir);
    }, 300_000);

    it('installed the kit from the tarballs, nothing from the workspace', () => {
      const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
      expect(lock).toContain('hiwelink-core-0.1.0.tgz');
      expect(lock).not.toContain(repo);
    });

    // Nest's quick start declares its module with a decorator, which JavaScript has no syntax for yet.
    it.skipIf(framework === 'nestjs')(
      'runs the README quick start as plain ESM JavaScript',
      {
        timeout: 60_000,
      },
      async () => {
        const port = await freePort();
        writeFileSync(join(dir, 'server.mjs'), quickStart(framework).replace(/\b3000\b/, String(port)));
        await serve(dir, 'server.mjs', port);
        await checkWithCurl(port);
      },
    );

    it('compiles the README quick start as strict TypeScript (nodenext) and runs it', {
      timeout: 120_000,
    }, async () => {
      const port = await freePort();
      mkdirSync(join(dir, 'ts'), { recursive: true });
      writeFileSync(join(dir, 'ts', 'server.ts'), quickStart(framework).replace(/\b3000\b/, String(port)));
      const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
      // The packages' own declarations are checked too: what a project without skipLibCheck sees.
      const compiled = await compileStrict(join(dir, 'ts'), tsc, { outDir: 'dist', skipLibCheck: false }, [
        'server.ts',
      ]);
      expect(compiled).toBe('');
      await serve(dir, join('ts', 'dist', 'server.js'), port);
      await checkWithCurl(port);
    });

    if (framework === 'express') {
      it('passes `npx hiwelink verify` from the packed CLI', { timeout: 60_000 }, async () => {
        const port = await freePort();
        writeFileSync(join(dir, 'verify.mjs'), quickStart(framework).replace(/\b3000\b/, String(port)));
        await serve(dir, 'verify.mjs', port);
        const { stdout } = await run(
          'npx',
          ['hiwelink', 'verify', `http://127.0.0.1:${port}`, '--api-key', KEY],
          {
            cwd: dir,
          },
        );
        expect(stdout).toMatch(/Ready for HiWelink/);
      });

      it('installs the CLI without BullMQ, ioredis or the durable queue', async () => {
        for (const name of ['bullmq', 'ioredis', '@hiwelink/webhooks-bullmq', 'msgpackr-extract']) {
          expect(existsSync(join(dir, 'node_modules', name)), name).toBe(false);
        }
        const status = await run('npx', ['hiwelink', 'webhooks', 'status'], { cwd: dir }).then(
          () => ({ code: 0, stderr: '' }),
          (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
        );
        expect(status.code).toBe(1);
        expect(status.stderr).toContain('npm install --save-dev @hiwelink/webhooks-bullmq');
      });
    }
  });
}

describe('Prisma extension from the packed tarballs', () => {
  const dir = join(work, 'prisma');

  beforeAll(async () => {
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: 'packed-prisma', private: true, type: 'module' }, null, 2)}\n`,
    );
    await npm(
      [
        'install',
        tarballs['@hiwelink/core'] ?? '',
        tarballs['@hiwelink/orm'] ?? '',
        pinned('@prisma/client'),
        pinned('@prisma/adapter-pg'),
        pinned('prisma'),
        pinned('typescript'),
        pinned('@types/node'),
      ],
      dir,
    );
  }, 300_000);

  it('loads @hiwelink/orm/prisma as plain ESM', async () => {
    const script = "const m = await import('@hiwelink/orm/prisma'); console.log(typeof m.hiwelinkExtension);";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    expect(stdout.trim()).toBe('function');
  });

  it('compiles the README Prisma block as strict TypeScript against a generated client', {
    timeout: 120_000,
  }, async () => {
    const block = codeBlocks(readme, ['ts']).find(({ code }) => code.includes("from '@hiwelink/orm/prisma'"));
    if (!block) throw new Error('README.md has no block importing @hiwelink/orm/prisma');
    await generatePrismaClient(join(dir, 'generated'), 'prisma', dir);
    // The block takes the emitter the README's webhooks section makes.
    const emitter =
      "import { createWebhookEmitter } from '@hiwelink/core';\nconst webhooks = createWebhookEmitter();\n";
    writeFileSync(join(dir, 'app.ts'), `${emitter}${block.code}`);
    const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(await compileStrict(dir, tsc, { noEmit: true, skipLibCheck: false }, ['app.ts'])).toBe('');
  });
});
