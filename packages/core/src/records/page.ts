import type { PageMeta } from '../pagination.js';
import type { MappedRecord, RecordKind } from './mapper.js';
import { orderSchema, productSchema } from './schemas.js';

const schemas = { products: productSchema, orders: orderSchema };

export interface PageReview {
  /** What makes HiWelink skip records or stop its crawl early: a warning, or an error in strict mode. */
  problems: string[];
  /** Products HiWelink can only link to the homepage. */
  unlinked: MappedRecord[];
  /** `fields` paths found in none of this page's records. */
  missingPaths: string[];
}

const label = (entry: MappedRecord, index: number) =>
  `#${index + 1}${entry.record.id === undefined ? '' : ` (id ${String(entry.record.id)})`}`;

/**
 * Reviews one mapped page the way HiWelink's crawler will read it. In strict mode each record is
 * also checked against its schema, a second look at what the mapper builds by construction.
 */
export function reviewPage(
  kind: RecordKind,
  mapped: MappedRecord[],
  meta: PageMeta,
  strict: boolean,
): PageReview {
  const where = `${kind} page ${meta.current_page}`;
  const invalid: string[] = [];
  const unlinked: MappedRecord[] = [];
  for (let index = 0; index < mapped.length; index++) {
    const entry = mapped[index] as MappedRecord;
    if (entry.unlinked) unlinked.push(entry);
    const check = strict && !entry.invalid ? schemas[kind].safeParse(entry.record) : undefined;
    const reason =
      entry.invalid ??
      check?.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join(', ');
    if (reason) invalid.push(`${label(entry, index)}: ${reason}`);
  }
  const problems: string[] = [];
  if (invalid.length > 0) {
    problems.push(
      `${where}: HiWelink will skip ${invalid.length} record(s): ${invalid.slice(0, 5).join('; ')}`,
    );
  }
  if (mapped.length > meta.per_page) {
    problems.push(`${where}: the callback returned ${mapped.length} records for per_page=${meta.per_page}`);
  }
  if (mapped.length < meta.per_page && meta.current_page < meta.last_page) {
    problems.push(
      `${where}: ${mapped.length} of ${meta.per_page} records, but ${meta.last_page} pages in all: the crawl stops at this short page`,
    );
  }
  // A path missing from every record is missing from the first one: start there.
  const first = mapped[0]?.missingPaths;
  const missingPaths =
    first === undefined
      ? []
      : first.filter((path) => mapped.every((entry) => entry.missingPaths?.includes(path)));
  return { problems, unlinked, missingPaths };
}
