/**
 * Regenerates test/fixtures/collector-kafka: Kafka messages exactly as the OpenTelemetry Collector's
 * kafka exporter writes them, in otlp_json and otlp_proto, and checks that the Collector's kafka
 * receiver reads the otlp_json Sieve writes. CI does not run this (it needs the Collector binary).
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 OTELCOL=/work/otelcol/otelcol-sieve \
 *     node --import tsx test/collector/capture-kafka-fixtures.ts
 *
 * 1. Starts the Collector (OTELCOL, built with core v0.165.0 / contrib v0.165.1: kafka exporter and
 *    receiver, otlp receiver, file exporter) with an OTLP/HTTP receiver and two kafka exporters for
 *    every signal: kafka/json (encoding otlp_json) and kafka/proto (otlp_proto), fresh topics.
 * 2. Posts the SDK test data (src/otlp/testdata/*.pb) and a larger GenAI-style traces request to it.
 * 3. Reads both topics of each signal and writes every message value to
 *    <encoding>/<signal>.<n>.{json,pb}, with a manifest.
 * 4. Writes Sieve's otlp_json of the same test data to a topic a kafka receiver reads (encoding
 *    otlp_json) and compares what the Collector's file exporter writes with the data sent.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '../../src/kafka/exporter.js';
import { makeTraces } from '../../src/loader/testdata/spans.js';
import { countItems, decodeJson, decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { Signal } from '../../src/otlp/model.js';
import { encodePdataJson } from '../../src/otlp/pdata-json.js';
import { freePort } from '../support/sieve-process.js';

const OTELCOL = process.env.OTELCOL ?? '/work/otelcol/otelcol-sieve';
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const OUT = join(import.meta.dirname, '..', 'fixtures', 'collector-kafka');
const SIGNALS: Signal[] = ['traces', 'logs', 'metrics'];
const ENCODINGS = ['otlp_json', 'otlp_proto'] as const;
const id = randomBytes(3).toString('hex');
const topic = (enc: string, s: Signal) => `fixture_${enc}_${s}_${id}`;
const sieveJsonTopic = (s: Signal) => `fixture_sieve_json_${s}_${id}`;

/** The requests posted to the Collector, per signal (protobuf bodies). */
function payloads(): Record<Signal, Buffer[]> {
  const testdata = (s: Signal) =>
    readFileSync(join(import.meta.dirname, '..', '..', 'src', 'otlp', 'testdata', `${s}.pb`));
  return {
    traces: [testdata('traces'), Buffer.from(encodeProtobuf('traces', makeTraces(3, 40)))],
    logs: [testdata('logs')],
    metrics: [testdata('metrics')],
  };
}

function collectorConfig(otlpPort: number, outFile: string): string {
  const exporters = ENCODINGS.map(
    (enc) => `  kafka/${enc}:
    brokers: [${BROKERS.map((b) => JSON.stringify(b)).join(', ')}]
${SIGNALS.map((s) => `    ${s}:\n      topic: ${topic(enc, s)}\n      encoding: ${enc}`).join('\n')}`,
  ).join('\n');
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlpPort}
  kafka:
    brokers: [${BROKERS.map((b) => JSON.stringify(b)).join(', ')}]
    group_id: fixture_reader_${id}
    initial_offset: earliest
${SIGNALS.map((s) => `    ${s}:\n      topics: [${sieveJsonTopic(s)}]\n      encoding: otlp_json`).join('\n')}
exporters:
${exporters}
  file:
    path: ${outFile}
    format: json
service:
  telemetry:
    metrics:
      level: none
  pipelines:
${SIGNALS.map(
  (s) => `    ${s}:
      receivers: [otlp]
      exporters: [${ENCODINGS.map((e) => `kafka/${e}`).join(', ')}]
    ${s}/from_sieve:
      receivers: [kafka]
      exporters: [file]`,
).join('\n')}
`;
}

async function readTopic(kafka: Kafka, name: string, signal: Signal, items: number): Promise<Buffer[]> {
  const consumer = kafka.consumer({ groupId: `fixture_capture_${name}` });
  const values: { offset: bigint; partition: number; value: Buffer }[] = [];
  let got = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: name, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const value = message.value as Buffer;
      values.push({ partition, offset: BigInt(message.offset), value });
      const req = value[0] === 0x7b ? decodeJson(signal, value) : decodeProtobuf(signal, value);
      got += countItems(signal, req);
    },
  });
  const deadline = Date.now() + 60_000;
  while (got < items) {
    if (Date.now() > deadline) throw new Error(`${name}: ${got} of ${items} items after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await consumer.disconnect();
  values.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
  return values.map((v) => v.value);
}

async function main(): Promise<void> {
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const all = [...ENCODINGS.flatMap((e) => SIGNALS.map((s) => topic(e, s))), ...SIGNALS.map(sieveJsonTopic)];
  await ensureTopics(BROKERS, all, 1);

  // Sieve's otlp_json for the Collector's kafka receiver to read
  const sent = payloads();
  const producer = kafka.producer();
  await producer.connect();
  for (const s of SIGNALS)
    await producer.send({
      topic: sieveJsonTopic(s),
      acks: -1,
      messages: sent[s].map((body) => ({ value: Buffer.from(encodePdataJson(s, decodeProtobuf(s, body))) })),
    });
  await producer.disconnect();

  const work = mkdtempSync(join(tmpdir(), 'sieve-fixtures-'));
  const outFile = join(work, 'from-sieve.jsonl');
  const port = await freePort();
  writeFileSync(join(work, 'config.yaml'), collectorConfig(port, outFile));
  const col = spawn(OTELCOL, [`--config=${join(work, 'config.yaml')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  col.stdout.on('data', (d) => {
    log += d;
  });
  col.stderr.on('data', (d) => {
    log += d;
  });
  try {
    // post every request once the receiver listens
    for (const s of SIGNALS) {
      for (const body of sent[s]) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const res = await fetch(`http://127.0.0.1:${port}/v1/${s}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf' },
            body,
          }).catch((err: Error) => err);
          if (!(res instanceof Error) && res.ok) break;
          if (Date.now() > deadline)
            throw new Error(`POST /v1/${s}: ${res instanceof Error ? res.message : res.status}\n${log}`);
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    }
    rmSync(OUT, { recursive: true, force: true });
    const manifest: Record<string, unknown> = {};
    for (const enc of ENCODINGS) {
      mkdirSync(join(OUT, enc), { recursive: true });
      for (const s of SIGNALS) {
        const items = sent[s].reduce((n, b) => n + countItems(s, decodeProtobuf(s, b)), 0);
        const values = await readTopic(kafka, topic(enc, s), s, items);
        values.forEach((v, i) => {
          writeFileSync(join(OUT, enc, `${s}.${i}.${enc === 'otlp_json' ? 'json' : 'pb'}`), v);
        });
        manifest[`${enc}/${s}`] = { messages: values.length, items };
      }
    }
    writeFileSync(
      join(OUT, 'manifest.json'),
      `${JSON.stringify(
        {
          collector: 'otelcol built with core v0.165.0, contrib v0.165.1 (kafka exporter and receiver)',
          source: 'src/otlp/testdata/{traces,logs,metrics}.pb and makeTraces(3, 40), posted over OTLP/HTTP protobuf',
          regenerate: 'node --import tsx test/collector/capture-kafka-fixtures.ts',
          captured: new Date().toISOString(),
          files: manifest,
        },
        null,
        2,
      )}\n`,
    );

    // what the Collector's kafka receiver made of Sieve's otlp_json
    const expected = SIGNALS.flatMap((s) => sent[s].map((b) => ({ s, items: countItems(s, decodeProtobuf(s, b)) })));
    const deadline = Date.now() + 60_000;
    let lines: string[] = [];
    for (;;) {
      try {
        lines = readFileSync(outFile, 'utf8').split('\n').filter(Boolean);
      } catch {}
      if (lines.length >= expected.length) break;
      if (Date.now() > deadline)
        throw new Error(`file exporter wrote ${lines.length} of ${expected.length} lines\n${log}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    let matched = 0;
    for (const s of SIGNALS)
      for (const body of sent[s]) {
        const want = Buffer.from(encodeProtobuf(s, decodeProtobuf(s, body)));
        const hit = lines.some((line) => {
          try {
            return Buffer.from(encodeProtobuf(s, decodeJson(s, line))).equals(want);
          } catch {
            return false;
          }
        });
        if (!hit) throw new Error(`the Collector's kafka receiver did not read Sieve's otlp_json ${s} back unchanged`);
        matched++;
      }
    console.log(
      `fixtures written to ${OUT}; the Collector's kafka receiver read all ${matched} of Sieve's otlp_json requests unchanged`,
    );
  } finally {
    col.kill('SIGTERM');
    await new Promise((r) => col.once('exit', r));
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: all }).catch(() => {});
    await admin.disconnect();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
