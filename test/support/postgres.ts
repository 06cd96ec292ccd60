import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface Postgres {
  /** The connection string the tests use, for the ORMs under test. */
  url: string;
  /** An open connection for setting up and checking tables. */
  client: Client;
  /** Creates a schema of its own for one test file; `drop` removes it with everything in it. */
  createSchema(prefix: string): Promise<{ name: string; drop(): Promise<void> }>;
  close(): Promise<void>;
}

/**
 * Makes COMMIT fail for any transaction that wrote `value` into `schema.table.column`: a deferred
 * constraint trigger, checked only at commit time, as deferred foreign keys are.
 */
export async function rejectAtCommit(
  client: Client,
  schema: string,
  table: string,
  column: string,
  value: string,
) {
  const name = (part: string) => `"${part.replaceAll('"', '""')}"`;
  const fn = `${name(schema)}.${name(`reject_${table}_at_commit`)}`;
  await client.query(`
    CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
      IF NEW.${name(column)} = ${client.escapeLiteral(value)} THEN
        RAISE EXCEPTION 'rejected at commit: %', NEW.${name(column)};
      END IF;
      RETURN NULL;
    END $body$`);
  await client.query(`
    CREATE CONSTRAINT TRIGGER ${name(`reject_${table}_at_commit`)}
    AFTER INSERT OR UPDATE ON ${name(schema)}.${name(table)}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
}

/**
 * Connects to the PostgreSQL the tests use (`DATABASE_URL`, default the local one). Without it the
 * caller skips and the reason is printed; with CI=true a missing database fails the run instead.
 */
export async function connectPostgres(): Promise<Postgres | undefined> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {}); // a failed connect rejects connect() below; the event adds nothing
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    await client.end().catch(() => {});
    const reason = `PostgreSQL at ${url} is not reachable (${(error as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true requires it`);
    console.warn(
      `Skipping the PostgreSQL tests: ${reason}. Set DATABASE_URL or start PostgreSQL to run them.`,
    );
    return undefined;
  }
  return {
    url,
    client,
    async createSchema(prefix) {
      const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain schema name: ${name}`);
      await client.query(`CREATE SCHEMA "${name}"`);
      return { name, drop: () => client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).then(() => {}) };
    },
    close: () => client.end(),
  };
}
