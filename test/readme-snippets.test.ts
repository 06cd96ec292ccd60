import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrict } from './support/packages.js';
import { generatePrismaClient } from './support/prisma.js';
import { codeBlocks, readmes, repo } from './support/readme.js';

// Every ```ts block of the READMEs is type-checked as a user's project would check it: `strict`,
// `module`/`moduleResolution` `nodenext`, an ESM package, the packages' published types. A quick
// start (a block that imports an adapter and listens) must compile on its own. Other blocks are
// excerpts: they may use the names below (your database, your app, ...), declared for them, and a
// block with `// Express`, `// Fastify`, `// Koa` sections is checked one section at a time, each
// against that framework's `app`. A block importing `./generated/prisma/client.js` gets the client
// of test/prisma/schema.prisma generated there (models Product and Order).
// against that framework's `app`. NestJS excerpts are checked with `experimentalDecorators` and
// `emitDecoratorMetadata`, as a Nest project has them (parameter decorators need them); its quick
// start compiles without them.

type Framework = 'express' | 'fastify' | 'koa' | 'nestjs';
const FRAMEWORKS: Framework[] = ['express', 'fastify', 'koa', 'nestjs'];
const DECORATORS = { experimentalDecorators: true, emitDecoratorMetadata: true };

/** What the excerpts may take as given: declared, never defined, so only their types matter. */
const COMMON = `
type AnyRecord = Record<string, any>;
declare const sql: (strings: TemplateStringsArray, ...values: unknown[]) => Promise<any[]>;
/** Your query builder (Knex-like) or data layer. */
declare const db: {
  (table: string): any;
  transaction<T>(work: (trx: (table: string) => any) => Promise<T>): Promise<T>;
  [name: string]: any;
};
declare const products: import('@hiwelink/core').ListCallback<AnyRecord>;
declare const orders: import('@hiwelink/core').ListCallback<AnyRecord>;
declare const product: AnyRecord & { id: string };
declare const order: AnyRecord & { id: string };
declare const mapping: import('@hiwelink/core').HiwelinkOptions<AnyRecord, AnyRecord>['mapping'];
declare const storeBaseUrl: string;
declare const auth: import('@hiwelink/core').AuthOptions;
declare const logger: { info(object: object, message: string): void };
declare const webhooks: import('@hiwelink/core').WebhookEmitter;
declare const Product: import('sequelize').ModelStatic<any>;
declare const Order: import('sequelize').ModelStatic<any>;
declare const dataSource: import('typeorm').DataSource;
declare const sequelize: import('sequelize').Sequelize;
declare const input: any;
declare const create: (input: AnyRecord) => Promise<AnyRecord>;
declare const update: (id: string, patch: AnyRecord) => Promise<AnyRecord | null>;
declare const remove: (id: string) => Promise<{ id: string } | null>;
type NewProduct = { name: string; price: number; stock: number };
/** A Next.js app's own module, imported by its route files through the \`@/\` path alias. */
declare module '@/lib/hiwelink' {
  export const hiwelink: import('@hiwelink/fetch').FetchHandler;
}
declare const yourApp: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
`;

const CONTEXT: Record<Framework, string> = {
  express: `
declare const express: typeof import('express');
declare const app: import('express').Express;
declare const hiwelink: typeof import('@hiwelink/express').hiwelink;
`,
  fastify: `
declare const app: import('fastify').FastifyInstance;
declare const hiwelink: typeof import('@hiwelink/fastify').hiwelink;
`,
  koa: `
declare const app: import('koa');
declare const hiwelink: typeof import('@hiwelink/koa').hiwelink;
declare const router: {
  patch(
    path: string,
    handler: (ctx: import('koa').Context & { params: Record<string, string>; request: { body: unknown } }) => unknown,
  ): void;
};
`,
  nestjs: '',
};

interface Snippet {
  /** Where it comes from: README file and line, and the section checked. */
  name: string;
  code: string;
  /** undefined: a whole program, checked with nothing declared for it. */
  context: Framework | undefined;
}

/** Where the README's Prisma blocks import their generated client from. */
const PRISMA_CLIENT = "from './generated/prisma/client.js'";

const COMPLETE = /from '@hiwelink\/(express|fastify|koa|fetch|nestjs)'[\s\S]*(\.listen|\bserve)\(/;
const SECTION = /^\/\/ (Express|Fastify|Koa)\b.*$/gm;

/** A block, or its framework sections (each with the lines before the first section, its imports). */
function snippets(file: string, code: string, line: number): Snippet[] {
  if (COMPLETE.test(code)) return [{ name: `${file}:${line}`, code, context: undefined }];
  const sections = [...code.matchAll(SECTION)];
  const imported = /from '(?:@hiwelink\/)?(express|fastify|koa|nestjs)'/.exec(code)?.[1] as
    | Framework
    | undefined;
  if (sections.length === 0) return [{ name: `${file}:${line}`, code, context: imported ?? 'express' }];
  const preamble = code.slice(0, sections[0]?.index);
  return sections.map((section, index) => ({
    name: `${file}:${line} (${section[1]})`,
    code: preamble + code.slice(section.index, sections[index + 1]?.index ?? code.length),
    context: (section[1] ?? '').toLowerCase() as Framework,
  }));
}

const all = readmes().flatMap(({ file, text }) =>
  codeBlocks(text, ['ts', 'typescript']).flatMap(({ code, line }) => snippets(file, code, line)),
);

// Inside the repository so that the packages resolve to the workspace's, with their built types.
const scratch = join(repo, '.scaffold-test', `snippets-${randomUUID()}`);
const diagnostics = new Map<string, string[]>();
const fileOf = new Map<Snippet, string>();

beforeAll(async () => {
  const groups: Array<Framework | undefined> = [undefined, ...FRAMEWORKS];
  await Promise.all(
    groups.map(async (context) => {
      const dir = join(scratch, context ?? 'complete');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
      if (context) writeFileSync(join(dir, 'context.d.ts'), COMMON + CONTEXT[context]);
      if (all.some((snippet) => snippet.context === context && snippet.code.includes(PRISMA_CLIENT))) {
        await generatePrismaClient(join(dir, 'generated'), 'prisma');
      }
      for (const [index, snippet] of all.entries()) {
        if (snippet.context !== context) continue;
        const file = join(dir, `snippet-${index}.ts`);
        // `export {}`: each excerpt is a module of its own, as a file with imports is.
        writeFileSync(file, `${snippet.code}\nexport {};\n`);
        fileOf.set(snippet, file);
      }
      const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
      const options = { noEmit: true, skipLibCheck: true, ...(context === 'nestjs' ? DECORATORS : {}) };
      const output = await compileStrict(dir, tsc, options, ['*.ts']);
      for (const message of output.split('\n').filter((text) => text.includes('error TS'))) {
        const file = join(dir, message.slice(0, message.indexOf('(')));
        diagnostics.set(file, [...(diagnostics.get(file) ?? []), message]);
      }
    }),
  );
}, 180_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README TypeScript blocks under strict, nodenext', () => {
  it('has the five quick starts as whole programs (Express, Fastify, Koa, Hono, NestJS)', () => {
    expect(
      all.filter((snippet) => snippet.context === undefined && snippet.name.startsWith('README.md:')),
    ).toHaveLength(5);
  });

  it('finds no error outside the blocks (the declarations above)', () => {
    const blocks = new Set(fileOf.values());
    expect(
      [...diagnostics].filter(([file]) => !blocks.has(file)).flatMap(([, messages]) => messages),
    ).toEqual([]);
  });

  for (const snippet of all) {
    it(`compiles ${snippet.name}`, () => {
      expect(diagnostics.get(fileOf.get(snippet) ?? '') ?? [], snippet.code).toEqual([]);
    });
  }
});
