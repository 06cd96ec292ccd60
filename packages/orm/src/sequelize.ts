import { type Model, type ModelStatic, Op } from 'sequelize';
import {
  type BindingOptions,
  batches,
  consoleLogger,
  type Emitter,
  emitRecord,
  eventName,
  type WriteAction,
  warnOnce,
} from './emit.js';

export type { BindingOptions, Emitter, RecordKind } from './emit.js';

/** What is used of a Sequelize 6 transaction; `parent` is the enclosing one of a savepoint. */
interface TransactionNode {
  parent?: TransactionNode | null;
  finished?: string;
  commit(...args: unknown[]): Promise<unknown>;
}

/** One bound model's side of sending: how its rows are read back, keyed, and emitted. */
interface Binding {
  /** Reads rows back by primary key, outside any transaction; the rows found, by `keyText`. */
  read(keys: Key[]): Promise<Map<string, Key>>;
  keyText(values: Key): string;
  emit(action: WriteAction, record: Key): Promise<void>;
}

/**
 * One event to send: a created or updated row is read back by `key` once committed; a deleted
 * row is sent as `record`, the values it had (it is gone by then).
 */
interface Pending {
  binding: Binding;
  action: WriteAction;
  key?: Key;
  record?: Key;
}

/** An event waiting for its root transaction: the savepoints it was written in, innermost first. */
interface Waiting extends Pending {
  savepoints: TransactionNode[];
}

/** Keyed by root transaction; shared by every bound model, so one commit sends them all in order. */
const waiting = new WeakMap<TransactionNode, Waiting[]>();

/**
 * Sends `pending` in order: first every row to read back is read, one query per model and 1,000
 * keys (each row once, however often it was written), then every event is handed to the emitter
 * in order without waiting for one before the next, so a durable emitter's write time is paid
 * once per commit, not once per row. A row gone by then is not sent (its deletion is).
 */
async function sendAll(pending: readonly Pending[]): Promise<void> {
  const keys = new Map<Binding, Map<string, Key>>();
  for (const { binding, key } of pending) {
    if (!key) continue;
    const mine = keys.get(binding) ?? new Map<string, Key>();
    keys.set(binding, mine);
    mine.set(binding.keyText(key), key);
  }
  const rows = new Map<Binding, Map<string, Key>>();
  await Promise.all(
    [...keys].map(async ([binding, mine]) => rows.set(binding, await binding.read([...mine.values()]))),
  );
  await Promise.all(
    pending.map(({ binding, action, key, record }) => {
      const row = key ? rows.get(binding)?.get(binding.keyText(key)) : record;
      return row ? binding.emit(action, row) : undefined;
    }),
  );
}

/**
 * Holds events until the root transaction's `commit()` has succeeded.
 *
 * Sequelize 6 runs `afterCommit` hooks even when COMMIT fails (they sit in a `finally`), and a
 * savepoint's `afterCommit` runs at its release, long before anything is durable. So the root's
 * `commit` is wrapped instead: the events go once it resolved, and not at all when it throws.
 * Events written inside a savepoint that was later rolled back are dropped.
 */
function holdUntilCommit(transaction: TransactionNode, events: readonly Pending[]) {
  const savepoints: TransactionNode[] = [];
  let root = transaction;
  while (root.parent) {
    savepoints.push(root);
    root = root.parent;
  }
  let queue = waiting.get(root);
  if (!queue) {
    queue = [];
    waiting.set(root, queue);
    const commit = root.commit;
    root.commit = async function commitThenEmit(this: TransactionNode, ...args: unknown[]) {
      let result: unknown;
      try {
        result = await commit.apply(this, args);
      } catch (error) {
        waiting.delete(root);
        throw error;
      }
      const due = waiting.get(root) ?? [];
      waiting.delete(root);
      await sendAll(
        due.filter((event) => !event.savepoints.some((savepoint) => savepoint.finished === 'rollback')),
      );
      return result;
    };
  }
  for (const event of events) queue.push({ ...event, savepoints });
}

/** The model members used here; Sequelize's own typings are per model class. */
interface HookableModel {
  name: string;
  /** Its constructor holds the CLS namespace of `Sequelize.useCLS()`, if any. */
  sequelize?: { constructor: { _cls?: { get(key: string): unknown } } };
  primaryKeyAttributes: string[];
  getAttributes(): Record<string, { field?: string; type?: { key?: string } }>;
  findAll(options: object): Promise<Model[]>;
  unscoped(): HookableModel;
  increment(fields: unknown, options?: IncrementOptions): Promise<unknown>;
  addHook(type: string, name: string, fn: (...args: never[]) => unknown): unknown;
  removeHook(type: string, name: string): unknown;
}

interface HookOptions {
  transaction?: TransactionNode | null;
  individualHooks?: boolean;
  ignoreDuplicates?: boolean;
  updateOnDuplicate?: unknown;
}

/** What `Model.increment()` is given; `instance` and `increment` are set by Sequelize itself. */
interface IncrementOptions extends HookOptions {
  hooks?: boolean;
  /** `false` for `decrement()`, which Sequelize runs as an increment. */
  increment?: boolean;
  /** Set when the call came from `instance.increment()`/`instance.decrement()`. */
  instance?: Model;
}

/** A row's primary key, attribute => value. */
type Key = Record<string, unknown>;

let registrations = 0;

/**
 * Sends HiWelink webhooks for a Sequelize 6 model's writes: `created` after create (and restore of
 * a paranoid row), `updated` after update, upsert, `bulkCreate` with `updateOnDuplicate`,
 * `increment` and `decrement` (instance and static), `deleted` after destroy, each with the row
 * as plain data.
 *
 * The row sent is the row as committed: every created or updated row is read back by primary key
 * once the write has committed (an instance holds what this process last knew, which may be
 * stale after another writer's change, hold values `save({ fields })` did not write, or keep a
 * change whose transaction rolled back). The reads are one `SELECT` per model and commit (1,000
 * keys each), each row once; a row gone by then is not sent (its deletion is). A deletion sends
 * the row's values as the instance had them. Increments run no hooks at all: the binding wraps
 * `Model.increment`, which `decrement` and the instance methods call.
 *
 * A write inside a transaction (or a savepoint of one) is sent once the outermost transaction has
 * committed, and never if it or the savepoint rolls back; a write without one is sent at once.
 * Writes that cannot say which rows they changed send nothing, and a warning naming the model,
 * the call and the fix is logged once: `Model.update()`/`destroy()`/`restore()` without
 * `individualHooks: true`, `bulkCreate` with `ignoreDuplicates`, a static increment with
 * `returning: false` or on a database without `RETURNING`, a row handed over without its primary
 * key. Writes with `hooks: false` send nothing.
 *
 * Returns a function that removes the hooks and the `increment` wrapper.
 */
export function hiwelinkHooks<M extends Model>(
  model: ModelStatic<M>,
  emitter: Emitter,
  options: BindingOptions,
): () => void {
  const { kind } = options;
  const logger = options.logger ?? consoleLogger;
  const warn = warnOnce(logger);
  const target = model as unknown as HookableModel;
  const name = `hiwelink-${kind}-${++registrations}`;
  const attributes = Object.entries(target.getAttributes());
  const primaryKey = target.primaryKeyAttributes;
  const columnOf = new Map(attributes.map(([key, attribute]) => [key, attribute.field ?? key]));

  const keyText = (values: Key) => JSON.stringify(primaryKey.map((attribute) => values[attribute]));

  const binding: Binding = {
    keyText,
    async read(keys) {
      const found = new Map<string, Key>();
      for (const batch of batches(keys)) {
        try {
          // Unscoped: a default scope may filter rows or attributes out. transaction: null, or
          // Sequelize's CLS would put the finished transaction back.
          const rows = await target.unscoped().findAll({ where: { [Op.or]: batch }, transaction: null });
          for (const row of rows) {
            const values = row.get({ plain: true }) as Key;
            found.set(keyText(values), values);
          }
        } catch (error) {
          logger.error(
            { err: error, model: target.name, keys: batch },
            `webhooks not sent for ${batch.length} ${target.name} row(s): reading them back failed`,
          );
        }
      }
      return found;
    },
    emit: (action, record) => emitRecord(emitter, kind, action, record, logger),
  };

  /** Sends at once (resolving once the emitter took them), or after the root transaction commits. */
  const deliver = (hookOptions: HookOptions | undefined, events: Pending[]) => {
    const transaction = hookOptions?.transaction;
    if (transaction) {
      holdUntilCommit(transaction, events);
      return undefined;
    }
    return sendAll(events);
  };

  /** Events that read back the rows of `keys` once committed. */
  const readBack = (action: WriteAction, keys: Key[]): Pending[] =>
    keys.map((key) => ({ binding, action, key }));

  /** The primary key of plain values (by attribute, or by column for raw rows); none if a part is missing. */
  const keyOf = (values: Key, byColumn = false): Key | undefined => {
    const key: Key = {};
    for (const attribute of primaryKey) {
      const value = values[byColumn ? (columnOf.get(attribute) ?? attribute) : attribute];
      if (value === undefined || value === null) return undefined;
      key[attribute] = value;
    }
    return key;
  };

  const noKey = (call: string, action: WriteAction) =>
    warn(
      `${call}:key`,
      { model: target.name },
      `${target.name}.${call}() handed over a row without its primary key, so no ${eventName(kind, action)} ` +
        `webhook is sent for it; let the database return the key (returning: true) or emit the event yourself after the commit`,
    );

  const send = (action: WriteAction, instance: Model, hookOptions: HookOptions | undefined, call: string) => {
    const record = instance.get({ plain: true }) as Key;
    // Copied now: the instance may change again before the commit.
    if (action === 'deleted') return deliver(hookOptions, [{ binding, action, record }]);
    const key = keyOf(record);
    if (!key) return noKey(call, action);
    return deliver(hookOptions, readBack(action, [key]));
  };

  const bulk =
    (method: 'update' | 'destroy' | 'restore', action: WriteAction) => (bulkOptions: HookOptions) => {
      if (bulkOptions.individualHooks) return;
      warn(
        method,
        { model: target.name },
        `${target.name}.${method}() without individualHooks: true runs no per-row hooks, so no ` +
          `${eventName(kind, action)} webhook is sent for those rows; pass { individualHooks: true } ` +
          `(or emit the events yourself after the commit)`,
      );
    };

  /**
   * Runs after `Model.increment()` resolved. On PostgreSQL (and others with RETURNING) it resolves
   * to `[[rows, count]]`, the rows raw, by column; `returning: false` gives `[[[], count]]`.
   */
  const incremented = (incrementOptions: IncrementOptions | undefined, result: unknown) => {
    if (incrementOptions?.hooks === false) return undefined;
    const method = incrementOptions?.increment === false ? 'decrement' : 'increment';
    const [rows, count] = ((result as unknown[] | undefined)?.[0] ?? []) as [unknown, unknown];
    const returned = Array.isArray(rows) ? (rows as Key[]) : [];
    let keys = returned.map((row) => keyOf(row, true)).filter((key) => key !== undefined);
    if (keys.length === 0 && incrementOptions?.instance) {
      const key = keyOf(incrementOptions.instance.get({ plain: true }) as Key);
      keys = key ? [key] : [];
    }
    if (keys.length === 0) {
      if (count === 0) return undefined; // nothing matched
      warn(
        method,
        { model: target.name },
        `${target.name}.${method}() did not return the rows it changed (returning: false, or a database ` +
          `without RETURNING), so no ${eventName(kind, 'updated')} webhook is sent for them; leave returning ` +
          `on, call ${method}() on the instance, or emit the events yourself after the commit`,
      );
      return undefined;
    }
    // Sequelize fills a hook's options with the CLS transaction, but not increment's: it is looked
    // up here as Sequelize's query() does, so the event still waits for that commit.
    const transaction =
      incrementOptions?.transaction === undefined
        ? (target.sequelize?.constructor._cls?.get('transaction') as TransactionNode | null | undefined)
        : incrementOptions.transaction;
    return deliver({ transaction }, readBack('updated', keys));
  };

  // Sequelize runs no hook for increments: the static method, which decrement() and both instance
  // methods go through, is wrapped instead.
  const increment = target.increment;
  const hadOwnIncrement = Object.getOwnPropertyDescriptor(target, 'increment');
  let bound = true;
  const wrappedIncrement = async function (
    this: HookableModel,
    fields: unknown,
    incrementOptions?: IncrementOptions,
  ) {
    const result = await increment.call(this, fields, incrementOptions);
    if (bound) await incremented(incrementOptions, result);
    return result;
  };
  target.increment = wrappedIncrement;

  const hooks: Record<string, (...args: never[]) => unknown> = {
    afterCreate: (instance: M, hookOptions: HookOptions) => send('created', instance, hookOptions, 'create'),
    afterUpdate: (instance: M, hookOptions: HookOptions) => send('updated', instance, hookOptions, 'update'),
    afterDestroy: (instance: M, hookOptions: HookOptions) =>
      send('deleted', instance, hookOptions, 'destroy'),
    afterRestore: (instance: M, hookOptions: HookOptions) =>
      send('created', instance, hookOptions, 'restore'),
    // PostgreSQL (and others) cannot say whether an upsert inserted: `created` is null there.
    afterUpsert: ([instance, created]: [M, boolean | null], hookOptions: HookOptions) =>
      send(created === true ? 'created' : 'updated', instance, hookOptions, 'upsert'),
    afterBulkCreate: async (instances: readonly M[], hookOptions: HookOptions) => {
      if (hookOptions.individualHooks) return; // afterCreate ran for each row
      if (hookOptions.ignoreDuplicates) {
        warn(
          'bulkCreate',
          { model: target.name },
          `${target.name}.bulkCreate() with ignoreDuplicates cannot tell which rows it inserted, so no ` +
            `${eventName(kind, 'created')} webhook is sent for them; emit the events yourself after the commit`,
        );
        return;
      }
      // With updateOnDuplicate each row was inserted or updated, which the database does not say:
      // sent as updated.
      const action = hookOptions.updateOnDuplicate ? 'updated' : 'created';
      const keys: Key[] = [];
      for (const instance of instances) {
        const key = keyOf(instance.get({ plain: true }) as Key);
        if (key) keys.push(key);
        else noKey('bulkCreate', action);
      }
      if (keys.length > 0) await deliver(hookOptions, readBack(action, keys));
    },
    beforeBulkUpdate: bulk('update', 'updated'),
    beforeBulkDestroy: bulk('destroy', 'deleted'),
    beforeBulkRestore: bulk('restore', 'created'),
  };
  for (const [type, hook] of Object.entries(hooks)) target.addHook(type, name, hook);
  return () => {
    for (const type of Object.keys(hooks)) target.removeHook(type, name);
    bound = false;
    // A binding made later may have wrapped this wrapper: then it stays in place, doing nothing.
    if (target.increment === wrappedIncrement) {
      if (hadOwnIncrement) Object.defineProperty(target, 'increment', hadOwnIncrement);
      else delete (target as Partial<HookableModel>).increment;
    }
  };
}
