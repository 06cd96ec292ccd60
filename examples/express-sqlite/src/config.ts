/** The demo store's settings, read once from the environment at startup. */
export interface StoreConfig {
  /** Listen port; 0 picks a free one. @default 3000 */
  port: number;
  /** How HiWelink authenticates. Only `api-key` so far. @default 'api-key' */
  auth: 'api-key';
  /** The `X-API-Key` HiWelink sends. @default generated once and kept in the database */
  apiKey: string | undefined;
  /** Bearer token for the store's admin API. @default generated once and kept in the database */
  adminToken: string | undefined;
  /** Products created on first start. @default 250 */
  seedProducts: number;
  /** Orders created on first start. @default 1200 */
  seedOrders: number;
  /** SQLite file, relative to the working directory, or `:memory:`. @default './data/store.db' */
  databaseFile: string;
}

const AUTH_METHODS = ['api-key', 'bearer', 'jwt', 'basic'];

/** An empty variable counts as unset, as with `PORT= npm start` or `${PORT:-}` in compose files. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number, rule: string): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value <= max)) throw new Error(`${name} must be ${rule}, got '${raw}'`);
  return value;
}

function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = read(env, name);
  if (value !== undefined && value.trim() !== value) {
    throw new Error(`${name} must not start or end with whitespace`);
  }
  return value;
}

/** Reads and checks the environment; throws an Error naming the variable when a value cannot work. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const auth = read(env, 'HIWELINK_AUTH') ?? 'api-key';
  if (auth !== 'api-key') {
    const known = AUTH_METHODS.includes(auth) ? `'${auth}' is not supported yet` : `'${auth}' is unknown`;
    throw new Error(`HIWELINK_AUTH: ${known}; only 'api-key' is supported so far`);
  }
  const count = 'a non-negative integer';
  const seedProducts = integer(env, 'SEED_PRODUCTS', 250, Number.MAX_SAFE_INTEGER, count);
  const seedOrders = integer(env, 'SEED_ORDERS', 1200, Number.MAX_SAFE_INTEGER, count);
  if (seedOrders > 0 && seedProducts === 0) {
    throw new Error(
      `SEED_ORDERS is ${seedOrders} but SEED_PRODUCTS is 0: seeded orders need products to reference`,
    );
  }
  return {
    port: integer(env, 'PORT', 3000, 65_535, 'an integer from 0 to 65535'),
    auth,
    apiKey: secret(env, 'HIWELINK_API_KEY'),
    adminToken: secret(env, 'ADMIN_TOKEN'),
    seedProducts,
    seedOrders,
    databaseFile: read(env, 'DATABASE_FILE') ?? './data/store.db',
  };
}
