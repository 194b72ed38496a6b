/**
 * Regenerates src/otlp/testdata/ — OTLP payloads produced by the OpenTelemetry JS SDK's own
 * serializers, for every stage's tests:
 *
 *   node --import tsx test/unit/otlp/make-testdata.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  logsJson,
  logsProtobuf,
  makeLogRecords,
  makeResourceMetrics,
  makeSpans,
  metricsJson,
  metricsProtobuf,
  traceJson,
  traceProtobuf,
} from './fixtures.js';

const dir = fileURLToPath(new URL('../../../src/otlp/testdata/', import.meta.url));
mkdirSync(dir, { recursive: true });
const spans = await makeSpans(4, 6);
const logs = await makeLogRecords(3);
const metrics = await makeResourceMetrics();
const files: Record<string, Uint8Array | string> = {
  'traces.pb': traceProtobuf(spans),
  'traces.json': traceJson(spans),
  'logs.pb': logsProtobuf(logs),
  'logs.json': logsJson(logs),
  'metrics.pb': metricsProtobuf(metrics),
  'metrics.json': metricsJson(metrics),
};
for (const [name, data] of Object.entries(files)) writeFileSync(dir + name, data);
console.log(`wrote ${Object.keys(files).join(', ')} to ${dir}`);
