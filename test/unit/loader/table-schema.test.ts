// The RowBinary column check: every difference between the encoder's columns and the table is named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { columnProblems, type DescribedColumn } from '../../../src/loader/table-schema.js';
import { TRACE_COLUMNS } from '../../../src/loader/traces-rowbinary.js';

const table = (): DescribedColumn[] => TRACE_COLUMNS.map((c) => ({ ...c, default_type: '' }));

test('the encoder and a table created by the migrations agree', () => {
  assert.deepEqual(columnProblems(TRACE_COLUMNS, table()), []);
});

test('a changed type, a missing column, a computed one and a new column without DEFAULT are each named', () => {
  const t = table()
    .filter((c) => c.name !== 'GenAiToolName')
    .map((c) => (c.name === 'GenAiCostUsd' ? { ...c, type: 'Float32' } : c))
    .map((c) => (c.name === 'TenantId' ? { ...c, default_type: 'MATERIALIZED' } : c));
  t.push({ name: 'GenAiNewField', type: 'LowCardinality(String)', default_type: '' });
  t.push({ name: 'Later', type: 'String', default_type: 'DEFAULT' });
  assert.deepEqual(columnProblems(TRACE_COLUMNS, t), [
    'column TenantId is MATERIALIZED in the table and cannot be inserted',
    'column GenAiToolName (LowCardinality(String)) is missing from the table',
    'column GenAiCostUsd is Float32 in the table, the loader writes Float64',
    'column GenAiNewField (LowCardinality(String)) has no DEFAULT and the loader does not write it',
  ]);
});
