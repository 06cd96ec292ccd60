import type { Logger } from '@hiwelink/core';
import type {
  DataSource,
  EntityMetadata,
  EntitySubscriberInterface,
  EntityTarget,
  InsertEvent,
  ObjectLiteral,
  QueryRunner,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
  UpdateEvent,
} from 'typeorm';
import {
  batches,
  consoleLogger,
  type Emitter,
  emitRecord,
  eventName,
  type RecordKind,
  type WriteAction,
  warnOnce,
} from './emit.js';

export type { Emitter, RecordKind } from './emit.js';

export interface HiwelinkSubscriberOptions {
  emitter: Emitter;
  /** The entity (class, `EntitySchema` or entity name) holding each kind of record. */
  entities: { products?: EntityTarget<ObjectLiteral>; orders?: EntityTarget<ObjectLiteral> };
  /** Where warnings (writes that carry no row) and emitter failures go. @default console */
  logger?: Logger;
}

/**
 * An event waiting to be sent. A deletion carries its record (the id); anything else carries the
 * row's primary key, and is read back once committed: the subscriber's entity is what was given
 * to the write (a partial `save()`, an upsert's columns), not the row.
 */
interface Pending {
  kind: RecordKind;
  action: WriteAction;
  metadata: EntityMetadata;
  record?: ObjectLiteral;
  id?: ObjectLiteral;
}

/** The calls behind each operation whose event carries no row, and the ones that do carry it. */
const NO_ROW = {
  insert: { calls: 'an insert that returned no key', fix: 'save() or insert() with the key returned' },
  update: {
    calls: 'repository.update()/increment()/decrement() by criteria, a query builder update',
    fix: 'save() on the entities',
  },
  delete: {
    calls: 'repository.delete() by criteria, a query builder delete',
    fix: 'remove() on the entities',
  },
  'soft delete': {
    calls: 'repository.softDelete() by criteria, a query builder softDelete()',
    fix: 'softRemove() on the entities',
  },
  restore: {
    calls: 'repository.restore() by criteria, a query builder restore()',
    fix: 'recover() on the entities',
  },
} satisfies Record<string, { calls: string; fix: string }>;

/** Own enumerable properties that are set: an entity's data, copied as it is now. */
function snapshot(entity: ObjectLiteral | undefined): ObjectLiteral {
  const copy: ObjectLiteral = {};
  if (!entity) return copy;
  for (const [key, value] of Object.entries(entity)) if (value !== undefined) copy[key] = value;
  return copy;
}

/**
 * A TypeORM 0.3 subscriber that sends HiWelink webhooks for the configured entities:
 * `created` after insert (upsert included) and recover, `updated` after update, `deleted` after
 * remove and soft remove (the id only, taken before TypeORM clears it).
 *
 * Created and updated rows are sent as committed: the event's entity is what the write was given
 * (a partial `save()` has `null` for the columns it left out), so only its primary key is kept and
 * the rows are read back after the commit, one query per entity per commit, on the query runner
 * that wrote them. A row gone by then is not sent.
 *
 * Writes made in a transaction are kept per query runner and sent once the outermost transaction
 * commits; a rolled-back transaction, or savepoint, sends nothing. A write outside any transaction
 * (`save(…, { transaction: false })`, a bare query builder) is sent at once.
 *
 * Writes by criteria (`repository.update()`, `increment()`, `decrement()`, `delete()`,
 * `softDelete()`, `restore()`, their query-builder forms) carry no row, so nothing can be sent for
 * them: a warning naming the entity, the calls and the fix says so once per operation.
 *
 * Register it on an initialized data source: `attachHiwelink(dataSource, options)`, or
 * `dataSource.subscribers.push(new HiwelinkSubscriber(options))`.
 */
export class HiwelinkSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  readonly #options: HiwelinkSubscriberOptions;
  readonly #logger: Logger;
  readonly #warn: ReturnType<typeof warnOnce>;
  /** Per query runner, one list of waiting events per open transaction level (savepoints nest). */
  readonly #levels = new WeakMap<QueryRunner, Pending[][]>();
  readonly #kinds = new WeakMap<EntityMetadata, RecordKind | null>();

  constructor(options: HiwelinkSubscriberOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger;
    this.#warn = warnOnce(this.#logger);
  }

  afterInsert(event: InsertEvent<ObjectLiteral>) {
    return this.#write(event, 'created', snapshot(event.entity), 'insert');
  }

  afterUpdate(event: UpdateEvent<ObjectLiteral>) {
    // `entity` is what was saved (for a partial save, with nulls for what it left out), and
    // `databaseEntity` the row before: together they give the key, and the row is read back.
    const record = { ...snapshot(event.databaseEntity), ...snapshot(event.entity) };
    return this.#write(event, 'updated', record, 'update');
  }

  afterRemove(event: RemoveEvent<ObjectLiteral>) {
    return this.#write(event, 'deleted', this.#removed(event), 'delete');
  }

  afterSoftRemove(event: SoftRemoveEvent<ObjectLiteral>) {
    return this.#write(event, 'deleted', this.#removed(event), 'soft delete');
  }

  afterRecover(event: RecoverEvent<ObjectLiteral>) {
    return this.#write(event, 'created', this.#removed(event), 'restore');
  }

  afterTransactionStart(event: TransactionStartEvent) {
    const levels = this.#levels.get(event.queryRunner) ?? [];
    levels.push([]);
    this.#levels.set(event.queryRunner, levels);
  }

  async afterTransactionCommit(event: TransactionCommitEvent) {
    const levels = this.#levels.get(event.queryRunner);
    if (!levels) return;
    const committed = levels.pop() ?? [];
    if (event.queryRunner.isTransactionActive) {
      // A savepoint was released: its events now wait for the level around it.
      const outer = levels.at(-1);
      if (outer) outer.push(...committed);
      else levels.push(committed);
      return;
    }
    this.#levels.delete(event.queryRunner);
    await this.#send(event.queryRunner, [...levels.flat(), ...committed]);
  }

  afterTransactionRollback(event: TransactionRollbackEvent) {
    const levels = this.#levels.get(event.queryRunner);
    levels?.pop();
    if (!event.queryRunner.isTransactionActive) this.#levels.delete(event.queryRunner);
  }

  /** A removed row's data with its id, which TypeORM has already cleared from the entity. */
  #removed(event: RemoveEvent<ObjectLiteral> | SoftRemoveEvent<ObjectLiteral> | RecoverEvent<ObjectLiteral>) {
    const record = { ...snapshot(event.databaseEntity), ...snapshot(event.entity) };
    const id: unknown = event.entityId;
    if (id !== undefined && id !== null) {
      const primary = event.metadata.primaryColumns;
      if (typeof id === 'object') Object.assign(record, id);
      else if (primary.length === 1) primary[0]?.setEntityValue(record, id);
    }
    return record;
  }

  #kindOf(metadata: EntityMetadata, dataSource: DataSource): RecordKind | undefined {
    const known = this.#kinds.get(metadata);
    if (known !== undefined) return known ?? undefined;
    let found: RecordKind | null = null;
    for (const kind of ['products', 'orders'] as const) {
      const entity = this.#options.entities[kind];
      if (entity === undefined) continue;
      const same =
        metadata.target === entity ||
        (dataSource.hasMetadata(entity) && dataSource.getMetadata(entity) === metadata) ||
        (typeof entity === 'function' &&
          typeof metadata.target === 'function' &&
          metadata.target.prototype instanceof entity);
      if (same) {
        found = kind;
        break;
      }
    }
    this.#kinds.set(metadata, found);
    return found ?? undefined;
  }

  #write(
    event: { metadata: EntityMetadata; connection: DataSource; queryRunner: QueryRunner },
    action: WriteAction,
    record: ObjectLiteral,
    operation: keyof typeof NO_ROW,
  ): Promise<void> | undefined {
    const { metadata, queryRunner } = event;
    const kind = this.#kindOf(metadata, event.connection);
    if (!kind) return undefined;
    const id = metadata.getEntityIdMap(record);
    if (id === undefined) {
      const { calls, fix } = NO_ROW[operation];
      this.#warn(
        `${metadata.name}:${operation}`,
        { entity: metadata.name },
        `${metadata.name}: TypeORM passes no row for this ${operation} (${calls}), so no ${eventName(kind, action)} ` +
          `webhook is sent; use ${fix}, or emit the events yourself after the commit`,
      );
      return undefined;
    }
    const pending: Pending =
      action === 'deleted' ? { kind, action, metadata, record } : { kind, action, metadata, id };
    if (!queryRunner.isTransactionActive) return this.#send(queryRunner, [pending]);
    const levels = this.#levels.get(queryRunner) ?? [];
    // Attached in the middle of a transaction: its start was not seen.
    if (levels.length === 0) levels.push([]);
    this.#levels.set(queryRunner, levels);
    levels.at(-1)?.push(pending);
    return undefined;
  }

  /**
   * Reads back the committed rows (one query per entity, on the query runner that wrote them,
   * now outside its transaction), then sends every event in order. A row gone by then is not
   * sent: its deletion is, or was rolled back with it.
   */
  async #send(queryRunner: QueryRunner, pending: Pending[]): Promise<void> {
    const rows = new Map<EntityMetadata, Map<string, ObjectLiteral>>();
    for (const { metadata, id } of pending) {
      if (id !== undefined && !rows.has(metadata)) rows.set(metadata, new Map());
    }
    for (const [metadata, found] of rows) {
      const ids = pending.filter((item) => item.metadata === metadata && item.id).map((item) => item.id);
      const manager = queryRunner.isReleased ? metadata.connection.manager : queryRunner.manager;
      for (const batch of batches(ids as ObjectLiteral[])) {
        try {
          for (const row of await manager.find(metadata.target, { where: batch })) {
            found.set(keyText(metadata, row), row);
          }
        } catch (error) {
          this.#logger.error(
            { err: error, entity: metadata.name, keys: batch },
            `webhooks not sent for ${batch.length} ${metadata.name} row(s): reading them back failed`,
          );
        }
      }
    }
    // Handed over in order, awaited together: a durable emitter's wait is paid once per commit.
    await Promise.all(
      pending.map(({ kind, action, metadata, record, id }) => {
        const row = id === undefined ? record : rows.get(metadata)?.get(keyText(metadata, id));
        return row ? emitRecord(this.#options.emitter, kind, action, snapshot(row), this.#logger) : undefined;
      }),
    );
  }
}

/** A primary key as text, to find a row read back by the key an event carries. */
const keyText = (metadata: EntityMetadata, entity: ObjectLiteral) =>
  JSON.stringify(metadata.primaryColumns.map((column) => column.getEntityValue(entity)));

/**
 * Registers a `HiwelinkSubscriber` on an initialized data source (initialization replaces the
 * subscriber list, so it must come first). Returns a function that removes it.
 */
export function attachHiwelink(dataSource: DataSource, options: HiwelinkSubscriberOptions): () => void {
  if (!dataSource.isInitialized) {
    throw new Error('attachHiwelink: call dataSource.initialize() first; it replaces the subscriber list');
  }
  const subscriber = new HiwelinkSubscriber(options);
  dataSource.subscribers.push(subscriber);
  return () => {
    const index = dataSource.subscribers.indexOf(subscriber);
    if (index !== -1) dataSource.subscribers.splice(index, 1);
  };
}
