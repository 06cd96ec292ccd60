/** Reads the sort key of a store record; the key core hands back as `after`. */
export type KeyOf = (record: unknown) => unknown;

/**
 * The key at a dot `path` of the store record, as the store keeps it (a number stays a number, an
 * ObjectId stays an ObjectId), or `undefined` where the path is missing. The default key is the
 * record's id: `fieldKey(mapping.fields.id)` when a `fields` mapping says where the id lives
 * (`'_id'`), else `fieldKey('id')`.
 */
export function fieldKey(path: string): KeyOf {
  const names = path.split('.');
  return (record) => {
    let value = record;
    for (const name of names) {
      if (typeof value !== 'object' || value === null) return undefined;
      value = (value as Record<string, unknown>)[name];
    }
    return value;
  };
}

/** A record's `id`, as the store keeps it. */
export const idKey: KeyOf = fieldKey('id');

export interface PageKeys {
  /** The key to seek after for `page`: the last key of `page - 1` at this size, if served recently. */
  after(route: string, page: number, perPage: number): unknown;
  /** Notes the key of the last record of a page just served. */
  remember(route: string, page: number, perPage: number, key: unknown): void;
}

/**
 * Remembers the last sort key of the pages served most recently, at most `limit` of them and for
 * `maxAgeMs`. HiWelink crawls page 1, 2, 3, ... in order, so page N+1 nearly always finds page N's
 * key here: the repository can seek past it instead of skipping N pages of rows, and a record
 * deleted mid-crawl no longer shifts a later one out of sight.
 */
export function createPageKeys(limit = 1000, maxAgeMs = 10 * 60_000, now = () => Date.now()): PageKeys {
  // A Map keeps insertion order: re-inserting on use makes the first entry the least recent.
  const entries = new Map<string, { key: unknown; at: number }>();
  const slot = (route: string, page: number, perPage: number) => `${route} ${perPage} ${page}`;
  return {
    after(route, page, perPage) {
      if (page < 2) return undefined;
      const entry = entries.get(slot(route, page - 1, perPage));
      return entry && now() - entry.at <= maxAgeMs ? entry.key : undefined;
    },
    remember(route, page, perPage, key) {
      const name = slot(route, page, perPage);
      entries.delete(name);
      if (key === undefined || key === null) return;
      entries.set(name, { key, at: now() });
      if (entries.size > limit) entries.delete(entries.keys().next().value as string);
    },
  };
}
