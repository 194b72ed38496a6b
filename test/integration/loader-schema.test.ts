// RowBinary has no column names: a loader whose span columns differ from the table refuses to start
// and names the difference, instead of inserting shifted values.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { startLoader } from '../../src/loader/loader.js';

const db = `sieve_schema_${randomBytes(4).toString('hex')}`;
const client = createClickHouseClient();
after(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

const start = () =>
  startLoader({
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    topics: { [`${db}_spans`]: 'traces' },
    groupId: db,
    client,
    database: db,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
  });

test('a span column of another type, or a new column without DEFAULT, stops the loader at start', async () => {
  await migrate({ client, database: db });
  await client.command({ query: `ALTER TABLE ${db}.otel_traces MODIFY COLUMN GenAiCostUsd Float32` });
  await assert.rejects(start(), {
    name: 'SchemaMismatchError',
    message: /column GenAiCostUsd is Float32 in the table, the loader writes Float64/,
  });
  await client.command({ query: `ALTER TABLE ${db}.otel_traces MODIFY COLUMN GenAiCostUsd Float64` });
  await client.command({ query: `ALTER TABLE ${db}.otel_traces ADD COLUMN GenAiNewField LowCardinality(String)` });
  await assert.rejects(start(), { message: /column GenAiNewField .* has no DEFAULT and the loader does not write it/ });
});
