import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './packages.js';
import { repo } from './readme.js';

/** The SQL for test/prisma/schema.prisma's tables in `schema` (`prisma migrate` cannot run here). */
export const prismaTables = (schema: string) => `
  CREATE TABLE "${schema}".products (
    id serial PRIMARY KEY, title text NOT NULL UNIQUE, handle text,
    list_price numeric(10, 2) NOT NULL, stock integer NOT NULL DEFAULT 0);
  CREATE TABLE "${schema}".orders (id serial PRIMARY KEY, status text NOT NULL, grand_total numeric(10, 2) NOT NULL);
  CREATE TABLE "${schema}".notes (id serial PRIMARY KEY, body text NOT NULL);
  CREATE TABLE "${schema}".order_lines (id serial PRIMARY KEY, quantity integer NOT NULL,
    order_id integer NOT NULL REFERENCES "${schema}".orders, product_id integer NOT NULL REFERENCES "${schema}".products);`;

/**
 * Generates the Prisma client of test/prisma/schema.prisma (the `prisma-client` generator, ESM)
 * into `dir/output` with the `prisma` CLI of `project` (default: this repository), and resolves
 * with the path of its entry, `dir/output/client.ts`. `dir` must be inside `project`, so that the
 * generated code finds `@prisma/client`.
 *
 * Offline: generating needs no engine, but the CLI downloads the schema engine unless
 * PRISMA_SCHEMA_ENGINE_BINARY names an existing file, so it is set (to node) when unset.
 */
export async function generatePrismaClient(dir: string, output = 'client', project = repo): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const source = readFileSync(join(repo, 'test', 'prisma', 'schema.prisma'), 'utf8');
  const schema = source.replace(/^(\s*output\s*=\s*)".*"$/m, `$1"${output}"`);
  if (schema === source) throw new Error('test/prisma/schema.prisma: no generator output line to point here');
  writeFileSync(join(dir, 'schema.prisma'), schema);
  const cli = join(project, 'node_modules', 'prisma', 'build', 'index.js');
  await run(process.execPath, [cli, 'generate', '--schema', 'schema.prisma', '--no-hints'], {
    cwd: dir,
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  });
  const entry = join(dir, output, 'client.ts');
  if (!existsSync(entry)) throw new Error(`prisma generate wrote no ${entry}`);
  return entry;
}
