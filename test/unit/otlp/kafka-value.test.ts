/** Kafka message values in otlp_proto and otlp_json: pdata's JSON, detection, conversion, merging. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { concatValues, encodeRawTracesValue, encodeValue } from '../../../src/kafka/encoding.js';
import { decodeJson, decodeProtobuf, encodeProtobuf, OtlpDecodeError } from '../../../src/otlp/codec.js';
import { hexToBytes } from '../../../src/otlp/ids.js';
import {
  detectKafkaEncoding,
  kafkaEncodingFromConfig,
  kafkaValueAsProtobuf,
  otlpJsonToProto,
} from '../../../src/otlp/kafka-value.js';
import type { RequestBySignal, Signal } from '../../../src/otlp/model.js';
import { encodePdataJson } from '../../../src/otlp/pdata-json.js';
import { scanTraces } from '../../../src/otlp/raw-traces.js';

const SIGNALS: Signal[] = ['traces', 'logs', 'metrics'];
const pb = (s: Signal) => readFileSync(`src/otlp/testdata/${s}.pb`);

describe("pdata's OTLP/JSON (the Collector kafka exporter's otlp_json)", () => {
  it('writes the exact bytes pdata writes: declaration order, non-nullable messages, hex ids, int64 strings, enum ints', () => {
    const req: RequestBySignal['traces'] = {
      resourceSpans: [
        {
          // no resource: pdata writes "resource":{} all the same
          scopeSpans: [
            {
              spans: [
                {
                  traceId: hexToBytes('5b8efff798038103d269b633813fc60c'),
                  spanId: hexToBytes('eee19b7ec3c1b174'),
                  flags: 257,
                  name: 'say "hi"\n\u0001',
                  kind: 2,
                  startTimeUnixNano: '1544712660000000000',
                  endTimeUnixNano: '1544712661000000000',
                  attributes: [
                    { key: 'a', value: { intValue: '9007199254740993' } },
                    { key: 'd', value: { doubleValue: 0.0000001 } },
                    { key: 'neg', value: { doubleValue: -0 } },
                    { key: 'nan', value: { doubleValue: Number.NaN } },
                    { key: 'b', value: { bytesValue: Buffer.from([1, 2, 3]) } },
                    { key: 'empty' },
                  ],
                  events: [],
                  links: [],
                },
              ],
            },
          ],
        },
      ],
    } as unknown as RequestBySignal['traces'];
    assert.equal(
      encodePdataJson('traces', req),
      '{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",' +
        '"spanId":"eee19b7ec3c1b174","flags":257,"name":"say \\"hi\\"\\n\\u0001","kind":2,' +
        '"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","attributes":[' +
        '{"key":"a","value":{"intValue":"9007199254740993"}},{"key":"d","value":{"doubleValue":1e-7}},' +
        '{"key":"neg","value":{"doubleValue":-0}},{"key":"nan","value":{"doubleValue":"NaN"}},' +
        '{"key":"b","value":{"bytesValue":"AQID"}},{"key":"empty","value":{}}],"status":{}}]}]}]}',
    );
  });

  it('logs: body always written, observedTimeUnixNano before severityNumber (declaration order)', () => {
    const req = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
          scopeLogs: [
            {
              scope: { name: 's' },
              logRecords: [{ timeUnixNano: '1', observedTimeUnixNano: '2', severityNumber: 9, severityText: 'INFO' }],
            },
          ],
        },
      ],
    } as unknown as RequestBySignal['logs'];
    assert.equal(
      encodePdataJson('logs', req),
      '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},' +
        '"scopeLogs":[{"scope":{"name":"s"},"logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":"2",' +
        '"severityNumber":9,"severityText":"INFO","body":{}}]}]}]}',
    );
  });

  for (const signal of SIGNALS) {
    it(`${signal}: SDK data → pdata JSON → decodeJson is the same request (otlp_proto bytes equal)`, () => {
      const request = decodeProtobuf(signal, pb(signal));
      const json = encodePdataJson(signal, request);
      assert.deepEqual(
        Buffer.from(encodeProtobuf(signal, decodeJson(signal, json))),
        Buffer.from(encodeProtobuf(signal, request)),
      );
      assert.deepEqual(Buffer.from(otlpJsonToProto(signal, json)), Buffer.from(encodeProtobuf(signal, request)));
    });
  }
});

describe('encoding detection and the loader entry point', () => {
  it('tells OTLP/JSON from otlp_proto by the first bytes', () => {
    const cases: [string, Uint8Array, string][] = [
      ['json object', Buffer.from('{"resourceSpans":[]}'), 'otlp_json'],
      ['json after spaces', Buffer.from(' \t\r{}'), 'otlp_json'],
      ['json after a BOM', Buffer.from('\ufeff{}'), 'otlp_json'],
      ['protobuf field 1 (0x0a is also "\\n")', Buffer.from('\n{'), 'otlp_proto'],
      ['empty value: an empty request', Buffer.alloc(0), 'otlp_proto'],
      ['SDK protobuf', pb('traces'), 'otlp_proto'],
    ];
    for (const [what, value, expected] of cases) assert.equal(detectKafkaEncoding(value), expected, what);
    assert.deepEqual(
      ['otlp_proto', 'otlp_json', 'json', undefined, 'avro'].map((n) => kafkaEncodingFromConfig(n)),
      ['otlp_proto', 'otlp_json', 'otlp_json', 'otlp_proto', undefined],
    );
  });

  it('a protobuf value passes through untouched; a JSON value becomes the same protobuf', () => {
    const proto = pb('logs');
    const out = kafkaValueAsProtobuf({ signals: ['logs'], encoding: 'auto' }, proto);
    assert.equal(out.protobuf, proto);
    const json = Buffer.from(encodePdataJson('logs', decodeProtobuf('logs', proto)));
    assert.deepEqual(kafkaValueAsProtobuf({ signals: ['logs'], encoding: 'auto' }, json), {
      signal: 'logs',
      protobuf: Buffer.from(encodeProtobuf('logs', decodeProtobuf('logs', proto))),
    });
  });

  it('a topic several signals share (otlp_json): the value names its signal', () => {
    const fmt = { signals: ['traces', 'metrics'] as Signal[], encoding: 'auto' as const };
    const metrics = Buffer.from(encodePdataJson('metrics', decodeProtobuf('metrics', pb('metrics'))));
    assert.equal(kafkaValueAsProtobuf(fmt, metrics).signal, 'metrics');
    const traces = Buffer.from(encodePdataJson('traces', decodeProtobuf('traces', pb('traces'))));
    assert.equal(kafkaValueAsProtobuf(fmt, traces).signal, 'traces');
    // snake_case keys are OTLP/JSON too
    assert.equal(kafkaValueAsProtobuf(fmt, Buffer.from('{"resource_metrics":[]}')).signal, 'metrics');
    const logs = Buffer.from(encodePdataJson('logs', decodeProtobuf('logs', pb('logs'))));
    assert.throws(() => kafkaValueAsProtobuf(fmt, logs), /message holds logs, but the topic carries traces, metrics/);
  });

  it('bad values: clear OtlpDecodeErrors (the loader sends them to the DLQ)', () => {
    const auto = { signals: ['traces'] as Signal[], encoding: 'auto' as const };
    assert.throws(
      () => kafkaValueAsProtobuf(auto, Buffer.from('{"resourceSpans":')),
      (e: Error) => {
        return e instanceof OtlpDecodeError && /invalid JSON/.test(e.message);
      },
    );
    assert.throws(
      () =>
        kafkaValueAsProtobuf(auto, Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}')),
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected a hex id/,
    );
    assert.throws(
      () => kafkaValueAsProtobuf({ signals: ['traces'], encoding: 'otlp_proto' }, Buffer.from('{}')),
      /looks like otlp_json, but the topic is read as otlp_proto/,
    );
    assert.throws(
      () => kafkaValueAsProtobuf({ signals: ['traces'], encoding: 'otlp_json' }, pb('traces')),
      /looks like otlp_proto, but the topic is read as otlp_json/,
    );
  });
});

describe('exporter message values', () => {
  for (const signal of SIGNALS) {
    it(`${signal}: values merged into one message equal the merged request, in both encodings`, () => {
      const a = decodeProtobuf(signal, pb(signal));
      const b = decodeProtobuf(signal, pb(signal));
      const key = { traces: 'resourceSpans', logs: 'resourceLogs', metrics: 'resourceMetrics' }[signal];
      const merged = {
        [key]: [...(a as never)[key], ...(b as never)[key]],
      } as unknown as RequestBySignal[typeof signal];
      for (const enc of ['otlp_proto', 'otlp_json'] as const) {
        const parts = [encodeValue(signal, a, enc), encodeValue(signal, b, enc)];
        const bytes = parts[0]!.length + parts[1]!.length;
        const value = concatValues(signal, enc, parts, bytes);
        assert.deepEqual(value, encodeValue(signal, merged, enc), enc);
        assert.ok(value.length <= bytes);
      }
    });
  }

  it('an empty request merges to nothing; traces kept encoded are written as pdata JSON too', () => {
    const t = encodeValue('traces', decodeProtobuf('traces', pb('traces')), 'otlp_json');
    const empty = encodeValue('traces', { resourceSpans: [] } as never, 'otlp_json');
    assert.equal(empty.toString(), '{}');
    assert.deepEqual(concatValues('traces', 'otlp_json', [empty, t], empty.length + t.length), t);
    const raw = scanTraces(pb('traces')).traces;
    assert.deepEqual(encodeRawTracesValue(raw, 'otlp_json'), t);
    // spans stay as received (the SDK's explicit zeros included): the same request once decoded
    const reencode = (bytes: Uint8Array) => Buffer.from(encodeProtobuf('traces', decodeProtobuf('traces', bytes)));
    assert.deepEqual(reencode(encodeRawTracesValue(raw, 'otlp_proto')), reencode(pb('traces')));
  });
});

describe('against messages a real Collector kafka exporter wrote (test/fixtures/collector-kafka)', () => {
  const D = 'test/fixtures/collector-kafka';
  const manifest = JSON.parse(readFileSync(`${D}/manifest.json`, 'utf8')) as { files: Record<string, unknown> };
  const names = Object.keys(manifest.files).filter((k) => k.startsWith('otlp_proto/'));
  it('the fixtures cover every signal', () => {
    assert.deepEqual(names.map((n) => n.split('/')[1]).sort(), ['logs', 'metrics', 'traces']);
  });
  for (const signal of SIGNALS) {
    it(`${signal}: Sieve's otlp_json of the Collector's otlp_proto message is byte for byte the Collector's otlp_json`, () => {
      for (let i = 0; ; i++) {
        let proto: Buffer;
        try {
          proto = readFileSync(`${D}/otlp_proto/${signal}.${i}.pb`);
        } catch {
          assert.ok(i > 0, `no ${signal} fixture`);
          return;
        }
        const json = readFileSync(`${D}/otlp_json/${signal}.${i}.json`, 'utf8');
        assert.equal(encodePdataJson(signal, decodeProtobuf(signal, proto)), json);
        // and the loader's entry point turns the Collector's JSON into the same data as its protobuf (pdata
        // writes protobuf fields in declaration order and empty parent span ids; Sieve in field-number order)
        const reencode = (b: Uint8Array) => Buffer.from(encodeProtobuf(signal, decodeProtobuf(signal, b)));
        const fromJson = kafkaValueAsProtobuf({ signals: [signal], encoding: 'auto' }, Buffer.from(json));
        assert.equal(fromJson.signal, signal);
        assert.deepEqual(reencode(fromJson.protobuf), reencode(proto));
      }
    });
  }
});
