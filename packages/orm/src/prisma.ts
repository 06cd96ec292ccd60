import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '@hiwelink/core';
import type { Types } from '@prisma/client/runtime/client';
import {
  consoleLogger,
  type Emitter,
  emitRecord,
  eventName,
  type RecordKind,
  type WriteAction,
  warnOnce,
} from './emit.js';

export type { Emitter, RecordKind } from './emit.js';

export interface HiwelinkPrismaOptions {
  /**
   * Takes each event (`createWebhookEmitter(...)` or a durable emitter). Its promise is awaited:
   * a write, or a `$transaction`, resolves once its events were taken.
   */
  emitter: Emitter;
  /**
   * The Prisma model holding each kind of record, named as in `schema.prisma` (`model Product`
   * is `'Product'`, also when it is `@@map`ped to another table). At least one is required.
   */
  models: { products?: string; orders?: string };
  /** Where warnings (bulk writes that send nothing) and emitter failures go. @default console */
  logger?: Logger;
}

/**
 * What `$extends()` takes. It adds no member and keeps every signature (`$transaction` included),
 * so the extended client has the types of the client it extends.
 */
export type HiwelinkPrismaExtension = (client: unknown) => {
  $extends: { extArgs: Types.Extensions.DefaultArgs };
};

/** An event to send: the record as the write returned it, copied when the write resolved. */
interface Pending {
  kind: RecordKind;
  action: WriteAction;
  record: object;
}

/**
 * One open `$transaction`, interactive or batch: the events written in it so far. `parent` is
 * the transaction a nested one (called on a `tx`) runs in.
 */
interface Frame {
  events: Pending[];
  parent: Frame | undefined;
}

/** The members of a Prisma client used here (Prisma's own types are generated per schema). */
interface ClientLike {
  $transaction(this: unknown, arg: unknown, options?: unknown): Promise<unknown>;
  $extends(extension: object): unknown;
  [model: string]: unknown;
}

/** What a query extension's `$allOperations` is given; `__internalParams` is Prisma's own. */
interface OperationParams {
  model?: string;
  operation: string;
  args: unknown;
  query(args: unknown): Promise<unknown>;
  __internalParams?: { transaction?: { kind?: string } };
}

/** The writes that return their row(s), and the event each sends. */
const SENT: Record<string, WriteAction> = {
  create: 'created',
  createManyAndReturn: 'created',
  update: 'updated',
  updateManyAndReturn: 'updated',
  // Prisma does not say whether an upsert inserted: it is sent as updated, as the Sequelize
  // binding does on PostgreSQL.
  upsert: 'updated',
  delete: 'deleted',
};

/** The writes that resolve to a count, not rows: the event they would send, and the fix. */
const COUNT_ONLY: Record<string, { action: WriteAction; fix: string }> = {
  createMany: { action: 'created', fix: 'use createManyAndReturn()' },
  updateMany: { action: 'updated', fix: 'use updateManyAndReturn()' },
  deleteMany: { action: 'deleted', fix: 'delete the rows one at a time with delete()' },
};

/**
 * The nested writes (under a relation field of a write's `data`) that change the related rows, and
 * the event each would send; `connect`, `disconnect` and `set` only link rows.
 */
const NESTED: Record<string, WriteAction> = {
  create: 'created',
  createMany: 'created',
  connectOrCreate: 'created',
  update: 'updated',
  updateMany: 'updated',
  upsert: 'updated',
  delete: 'deleted',
  deleteMany: 'deleted',
};

/** Where a nested write's own nested writes are: a payload, or its `data`, `create` or `update`. */
const NESTED_DATA = ['data', 'create', 'update'] as const;

/** Each model's relation fields and the model each points to, from the client's data model. */
type Relations = Map<string, Map<string, string>>;

/**
 * Reads the relation fields from the generated client's data model. `_runtimeDataModel` is
 * Prisma's own (no public API lists relations at run time): without it, nested writes are not
 * looked for.
 */
function relationsOf(client: unknown): Relations {
  const models = (
    client as {
      _runtimeDataModel?: {
        models?: Record<string, { fields?: { name: string; kind: string; type: string }[] }>;
      };
    }
  )._runtimeDataModel?.models;
  const relations: Relations = new Map();
  for (const [model, { fields = [] }] of Object.entries(models ?? {})) {
    relations.set(
      model,
      new Map(fields.filter((field) => field.kind === 'object').map((field) => [field.name, field.type])),
    );
  }
  return relations;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** The operations whose arguments may hold nested writes. */
const WRITES = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
]);

/** `Product` is the client's `product`: Prisma lowers the first letter of the model's name. */
const propertyOf = (model: string) => model.charAt(0).toLowerCase() + model.slice(1);

/**
 * A Prisma 7 client extension that sends HiWelink webhooks for the models named in
 * `options.models`: `created` after `create` and `createManyAndReturn`, `updated` after
 * `update`, `updateManyAndReturn` and `upsert` (Prisma does not say whether an upsert inserted),
 * `deleted` after `delete`, each with the record the query returned (its `select`, `omit` and
 * `include` shape it; the data is copied once the query resolved).
 *
 * Events are sent only once the write is committed. A write outside a transaction is sent once
 * its query resolved. A write inside an interactive `$transaction(async (tx) => …)` or a batch
 * `$transaction([…])` is held until the outermost transaction's promise resolves (COMMIT
 * succeeded) and dropped if it rejects (the callback or a statement threw, or COMMIT failed: in a
 * batch, a statement's own promise may resolve before a later one fails). One inside a nested
 * `tx.$transaction(…)` (a savepoint) is dropped when that one rejects, even if the outer one
 * commits. To see the commit, the extension wraps `$transaction` (same signature and result) and
 * follows each transaction with `AsyncLocalStorage`. A write on the extended client itself inside
 * a transaction's callback is not in that transaction: it is sent once it resolved. A
 * `$transaction` called on a client without this extension (the one `$extends` was called on) is
 * not seen: the writes of its callback are not either, and those of the extended client it batches
 * send nothing and are warned about once. Because a transaction is followed by async context, a
 * `tx` query handed to work that another transaction started (a module-wide job queue such as
 * p-queue whose loop began in that transaction) is held with that other transaction's events:
 * keep `tx` queries in the callback's own async flow.
 *
 * `createMany`, `updateMany` and `deleteMany` resolve to a count, not the rows: nothing is sent
 * for them, and a warning naming the model, the call and the fix is logged once per model and
 * call. Nested writes (a `create`, `update`, `upsert`, `delete`… under a relation field of a
 * write's `data`, such as `order.create({ data: { lines: { create: [{ product: { create } }] } } })`)
 * are not seen either: Prisma runs query extensions for the top-level call only. Nothing is sent
 * for the rows they change, and when they reach a model in `options.models` a warning naming the
 * call and the nested path is logged once per model, call and path (`connect`, `disconnect` and
 * `set` only link rows and are not warned about). Raw queries (`$executeRaw`, `$queryRaw`,
 * TypedSQL) are not seen at all. Other models'
 * writes, reads and failed writes send nothing. Sending never fails the write: an emitter that
 * throws or rejects is logged, and the query's result is returned unchanged.
 *
 * Use: `new PrismaClient({ adapter }).$extends(hiwelinkExtension({ emitter, models: { products:
 * 'Product', orders: 'Order' } }))`. Throws a `TypeError` when `models` names no model or the
 * same one twice; `$extends` throws one when a name in `models` is not one of the client's
 * models. See Prisma's client extensions, https://www.prisma.io/docs/orm/prisma-client/client-extensions.
 */
export function hiwelinkExtension(options: HiwelinkPrismaOptions): HiwelinkPrismaExtension {
  const logger = options.logger ?? consoleLogger;
  const warn = warnOnce(logger);
  const kindOf = new Map<string, RecordKind>();
  for (const kind of ['products', 'orders'] as const) {
    const model = options.models?.[kind];
    if (model === undefined) continue;
    if (kindOf.has(model)) {
      throw new TypeError(`hiwelinkExtension: models.products and models.orders are both '${model}'`);
    }
    kindOf.set(model, kind);
  }
  if (kindOf.size === 0) {
    throw new TypeError(
      "hiwelinkExtension: options.models names no model; pass e.g. { products: 'Product', orders: 'Order' }",
    );
  }
  const transactions = new AsyncLocalStorage<Frame>();
  /** The open transaction each interactive transaction client (`tx`) belongs to. */
  const frameOf = new WeakMap<object, Frame>();

  const send = (events: readonly Pending[]) =>
    // Handed over in order, awaited together: a durable emitter's wait is paid once per commit.
    Promise.all(
      events.map(({ kind, action, record }) => emitRecord(options.emitter, kind, action, record, logger)),
    );

  /**
   * Calls `found` for each nested write in `node` (the arguments or data of a write on `model`)
   * that changes rows of a model in `options.models`, with its path (`lines.product.create`).
   */
  function nestedWrites(
    relations: Relations,

    model: string,
    node: unknown,
    path: string,
    found: (path: string, target: string, op: string) => void,
  ) {
    if (Array.isArray(node)) {
      for (const item of node) nestedWrites(relations, model, item, path, found);
      return;
    }
    if (!isObject(node)) return;
    for (const key of NESTED_DATA) nestedWrites(relations, model, node[key], path, found);
    const fields = relations.get(model);
    if (!fields) return;
    for (const [field, value] of Object.entries(node)) {
      const target = fields.get(field);
      if (target === undefined || !isObject(value)) continue;
      for (const [op, payload] of Object.entries(value)) {
        if (NESTED[op] === undefined) continue;
        if (kindOf.has(target)) found(`${path}${field}.${op}`, target, op);
        nestedWrites(relations, target, payload, `${path}${field}.${op}.`, found);
      }
    }
  }

  async function $allOperations(
    { model, operation, args, query, __internalParams }: OperationParams,
    relations: Relations,
  ) {
    if (model !== undefined && WRITES.has(operation)) {
      nestedWrites(relations, model, args, '', (path, target, op) => {
        const event = eventName(kindOf.get(target) as RecordKind, NESTED[op] as WriteAction);
        warn(
          `${model}.${operation}:${path}`,
          { model, operation, nested: path },
          `${model}.${operation}() writes ${target} rows through a nested write (${path}), which this ` +
            `extension does not see, so no ${event} webhook is sent for them; write ${target} with its own ` +
            'calls (in a $transaction with the rest), or emit the events yourself after the commit',
        );
      });
    }
    const kind = model === undefined ? undefined : kindOf.get(model);
    if (kind === undefined) return query(args);
    const counted = COUNT_ONLY[operation];
    if (counted) {
      warn(
        `${model}.${operation}`,
        { model, operation },
        `${model}.${operation}() resolves to a count, not the rows, so no ${eventName(kind, counted.action)} ` +
          `webhook is sent for them; ${counted.fix}, or emit the events yourself after the commit`,
      );
      return query(args);
    }
    const action = SENT[operation];
    if (action === undefined) return query(args);
    const result = await query(args);
    const rows: unknown[] = Array.isArray(result) ? result : [result];
    // A shallow copy: the caller may change the object before a held event is sent.
    const events = rows
      .filter((row): row is object => typeof row === 'object' && row !== null)
      .map((row) => ({ kind, action, record: { ...row } }));
    if (__internalParams?.transaction === undefined) {
      await send(events);
      return result;
    }
    // In an interactive or a batch transaction: held until $transaction resolves.
    const frame = transactions.getStore();
    if (frame) frame.events.push(...events);
    else {
      warn(
        `${model}:untracked`,
        { model },
        `${model}.${operation}() ran in a transaction this extension did not see start, so no ` +
          `${eventName(kind, action)} webhook is sent for it; call $transaction on the extended client`,
      );
    }
    return result;
  }

  return (client: unknown) => {
    const base = client as ClientLike;
    for (const [model, kind] of kindOf) {
      const delegate = base[propertyOf(model)] as { $name?: unknown } | undefined;
      if (delegate?.$name !== model) {
        throw new TypeError(
          `hiwelinkExtension: models.${kind} is '${model}', which is not a model of this Prisma client; ` +
            'name it as schema.prisma does (e.g. "Product" for model Product)',
        );
      }
    }
    const relations = relationsOf(base);
    // Captured here, not reached through $parent: called with the extended client (or its `tx`)
    // as `this`, Prisma builds the transaction client from it, so every extension applies inside.
    const transaction = base.$transaction;
    return base.$extends({
      name: '@hiwelink/orm/prisma',
      client: {
        async $transaction(this: object, arg: unknown, transactionOptions?: unknown) {
          // Called on a `tx`: a nested transaction (a savepoint) of that one's.
          const frame: Frame = { events: [], parent: frameOf.get(this) };
          const work =
            typeof arg === 'function'
              ? (tx: object) => {
                  frameOf.set(tx, frame);
                  return (arg as (tx: object) => unknown)(tx);
                }
              : arg; // a batch: its queries start inside this call, so they see `frame` too
          const result = await transactions.run(frame, () =>
            transaction.call(this, work, transactionOptions),
          );
          if (frame.parent) frame.parent.events.push(...frame.events);
          else await send(frame.events);
          return result;
        },
      },
      query: {
        $allModels: { $allOperations: (params: OperationParams) => $allOperations(params, relations) },
      },
    }) as ReturnType<HiwelinkPrismaExtension>;
  };
}
