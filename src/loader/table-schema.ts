/**
 * RowBinary has no names or separators: a column the encoder and the table disagree on would shift
 * every value after it. So before the first RowBinary insert into a table the loader compares the
 * encoder's declared columns with `DESCRIBE TABLE`, and refuses to insert (with the differences
 * named) until they agree. The INSERT names its columns, so a new table column with a DEFAULT is fine.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Column } from './row-binary.js';

export class SchemaMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaMismatchError';
  }
}

export interface DescribedColumn {
  name: string;
  type: string;
  /** '' for an ordinary column; DEFAULT, MATERIALIZED, ALIAS or EPHEMERAL otherwise */
  default_type: string;
}

/** What differs between the columns an encoder writes and the table (empty: they agree). */
export function columnProblems(written: readonly Column[], table: readonly DescribedColumn[]): string[] {
  const problems: string[] = [];
  const byName = new Map(table.map((c) => [c.name, c]));
  const writtenNames = new Set(written.map((c) => c.name));
  for (const c of written) {
    const t = byName.get(c.name);
    if (t === undefined) problems.push(`column ${c.name} (${c.type}) is missing from the table`);
    else if (t.default_type === 'MATERIALIZED' || t.default_type === 'ALIAS')
      problems.push(`column ${c.name} is ${t.default_type} in the table and cannot be inserted`);
    else if (t.type !== c.type)
      problems.push(`column ${c.name} is ${t.type} in the table, the loader writes ${c.type}`);
  }
  for (const t of table)
    if (!writtenNames.has(t.name) && t.default_type === '')
      problems.push(`column ${t.name} (${t.type}) has no DEFAULT and the loader does not write it`);
  return problems;
}

/** Throws SchemaMismatchError naming every difference; ClickHouse errors (down, no table) pass through. */
export async function checkTableColumns(
  client: ClickHouseClient,
  database: string,
  table: string,
  written: readonly Column[],
): Promise<void> {
  const rs = await client.query({ query: `DESCRIBE TABLE ${database}.${table}`, format: 'JSONEachRow' });
  const problems = columnProblems(written, (await rs.json()) as DescribedColumn[]);
  if (problems.length > 0)
    throw new SchemaMismatchError(
      `${database}.${table} does not match the columns the loader writes as RowBinary: ${problems.join('; ')}`,
    );
}
