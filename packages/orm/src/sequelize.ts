import type { Model, ModelStatic } from 'sequelize';
import {
  type BindingOptions,
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

/** An event waiting for its root transaction: the savepoints it was written in, innermost first. */
interface Waiting {
  savepoints: TransactionNode[];
  send: () => Promise<void>;
}

/** Keyed by root transaction; shared by every bound model, so one commit sends them all in order. */
const waiting = new WeakMap<TransactionNode, Waiting[]>();

/**
 * Holds an event until the root transaction's `commit()` has succeeded.
 *
 * Sequelize 6 runs `afterCommit` hooks even when COMMIT fails (they sit in a `finally`), and a
 * savepoint's `afterCommit` runs at its release, long before anything is durable. So the root's
 * `commit` is wrapped instead: the events go once it resolved, and not at all when it throws.
 * Events written inside a savepoint that was later rolled back are dropped.
 */
function holdUntilCommit(transaction: TransactionNode, send: () => Promise<void>) {
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
      for (const event of due) {
        if (event.savepoints.some((savepoint) => savepoint.finished === 'rollback')) continue;
        await event.send();
      }
      return result;
    };
  }
  queue.push({ savepoints, send });
}

/** The model methods used here; Sequelize's own hook typings are per model class. */
interface HookableModel {
  name: string;
  addHook(type: string, name: string, fn: (...args: never[]) => unknown): unknown;
  removeHook(type: string, name: string): unknown;
}

interface HookOptions {
  transaction?: TransactionNode | null;
  individualHooks?: boolean;
  ignoreDuplicates?: boolean;
  updateOnDuplicate?: unknown;
}

let registrations = 0;

/**
 * Sends HiWelink webhooks for a Sequelize 6 model's writes: `created` after create (and restore of
 * a paranoid row), `updated` after update (and upsert), `deleted` after destroy, each with the row
 * as plain data.
 *
 * A write inside a transaction (or a savepoint of one) is sent once the outermost transaction has
 * committed, and never if it or the savepoint rolls back; a write without one is sent at once.
 * `Model.update()`/`destroy()`/`restore()` run per-row hooks only with `individualHooks: true`:
 * without it nothing can be sent, and a warning naming the model says so once.
 *
 * Returns a function that removes the hooks.
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

  const send = (action: WriteAction, instance: Model, hookOptions: HookOptions | undefined) => {
    // Copied now: the instance may change again before the commit.
    const record = instance.get({ plain: true });
    const emit = () => emitRecord(emitter, kind, action, record, logger);
    const transaction = hookOptions?.transaction;
    if (transaction) {
      holdUntilCommit(transaction, emit);
      return undefined;
    }
    return emit();
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

  const hooks: Record<string, (...args: never[]) => unknown> = {
    afterCreate: (instance: M, hookOptions: HookOptions) => send('created', instance, hookOptions),
    afterUpdate: (instance: M, hookOptions: HookOptions) => send('updated', instance, hookOptions),
    afterDestroy: (instance: M, hookOptions: HookOptions) => send('deleted', instance, hookOptions),
    afterRestore: (instance: M, hookOptions: HookOptions) => send('created', instance, hookOptions),
    // PostgreSQL (and others) cannot say whether an upsert inserted: `created` is null there.
    afterUpsert: ([instance, created]: [M, boolean | null], hookOptions: HookOptions) =>
      send(created === true ? 'created' : 'updated', instance, hookOptions),
    afterBulkCreate: async (instances: readonly M[], hookOptions: HookOptions) => {
      if (hookOptions.individualHooks) return; // afterCreate ran for each row
      if (hookOptions.ignoreDuplicates || hookOptions.updateOnDuplicate) {
        warn(
          'bulkCreate',
          { model: target.name },
          `${target.name}.bulkCreate() with ignoreDuplicates or updateOnDuplicate cannot tell which rows ` +
            `it inserted or changed, so no ${kind} webhook is sent for them; emit the events yourself after the commit`,
        );
        return;
      }
      for (const instance of instances) await send('created', instance, hookOptions);
    },
    beforeBulkUpdate: bulk('update', 'updated'),
    beforeBulkDestroy: bulk('destroy', 'deleted'),
    beforeBulkRestore: bulk('restore', 'created'),
  };
  for (const [type, hook] of Object.entries(hooks)) target.addHook(type, name, hook);
  return () => {
    for (const type of Object.keys(hooks)) target.removeHook(type, name);
  };
}
