import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  anyValueKind,
  anyValueToString,
  attributesToRecord,
  boolValue,
  deleteAttribute,
  doubleValue,
  getAttribute,
  getNumberAttribute,
  getStringAttribute,
  intValue,
  setAttribute,
  stringValue,
} from '../../../src/otlp/anyvalue.js';
import { decodeProtobuf, encodeProtobuf, otlpRoot } from '../../../src/otlp/codec.js';
import type { AnyValue, KeyValue } from '../../../src/otlp/model.js';

describe('anyValueKind', () => {
  it('reads plain objects', () => {
    assert.equal(anyValueKind(undefined), 'empty');
    assert.equal(anyValueKind({}), 'empty');
    assert.equal(anyValueKind({ stringValue: '' }), 'string');
    assert.equal(anyValueKind({ stringValue: null, intValue: 0 }), 'int');
    assert.equal(anyValueKind({ boolValue: false }), 'bool');
    assert.equal(anyValueKind({ doubleValue: 0 }), 'double');
    assert.equal(anyValueKind({ arrayValue: {} }), 'array');
    assert.equal(anyValueKind({ kvlistValue: { values: [] } }), 'kvlist');
    assert.equal(anyValueKind({ bytesValue: new Uint8Array() }), 'bytes');
  });

  it('ignores the oneof defaults protobufjs puts on message prototypes', () => {
    const AnyValueType = otlpRoot.lookupType('opentelemetry.proto.common.v1.AnyValue');
    const inst = AnyValueType.decode(AnyValueType.encode({ boolValue: true }).finish()) as unknown as AnyValue;
    assert.equal(inst.stringValue, ''); // the trap: a prototype default
    assert.equal(anyValueKind(inst), 'bool');
    assert.equal(anyValueKind(AnyValueType.create({}) as unknown as AnyValue), 'empty');
  });

  it('reads decoded values, including zero values set on the wire', () => {
    const req = decodeProtobuf(
      'traces',
      encodeProtobuf('traces', {
        resourceSpans: [
          {
            resource: {
              attributes: [
                { key: 'z', value: { intValue: 0 } },
                { key: 'e', value: { stringValue: '' } },
                { key: 'n' },
              ],
            },
          },
        ],
      }),
    );
    const attrs = req.resourceSpans?.[0]?.resource?.attributes ?? [];
    assert.deepEqual(
      attrs.map((a) => anyValueKind(a.value)),
      ['int', 'string', 'empty'],
    );
  });
});

describe('anyValueToString (ClickHouse exporter style)', () => {
  it('formats every kind', () => {
    assert.equal(anyValueToString(stringValue('héllo')), 'héllo');
    assert.equal(anyValueToString(intValue('1700000000123456789')), '1700000000123456789');
    assert.equal(anyValueToString(intValue(-5)), '-5');
    assert.equal(anyValueToString(doubleValue(1.5)), '1.5');
    assert.equal(anyValueToString(boolValue(true)), 'true');
    assert.equal(anyValueToString({ bytesValue: Buffer.from('hi') }), 'aGk=');
    assert.equal(
      anyValueToString({ arrayValue: { values: [stringValue('a'), intValue(1), { boolValue: false }] } }),
      '["a",1,false]',
    );
    assert.equal(
      anyValueToString({
        kvlistValue: {
          values: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'n', value: doubleValue(2) }] } } }],
        },
      }),
      '{"k":{"n":2}}',
    );
    assert.equal(anyValueToString({}), '');
    assert.equal(anyValueToString(null), '');
  });
});

describe('attribute helpers', () => {
  const attrs = (): KeyValue[] => [
    { key: 'service.name', value: stringValue('checkout') },
    { key: 'gen_ai.usage.input_tokens', value: intValue(1200) },
    { key: 'cost', value: doubleValue(0.25) },
    { key: 'count.str', value: stringValue('42') },
    { key: '__proto__', value: stringValue('x') },
  ];

  it('gets values by key', () => {
    const a = attrs();
    assert.deepEqual(getAttribute(a, 'cost'), doubleValue(0.25));
    assert.equal(getAttribute(a, 'missing'), undefined);
    assert.equal(getAttribute(undefined, 'x'), undefined);
    assert.equal(getStringAttribute(a, 'service.name'), 'checkout');
    assert.equal(getStringAttribute(a, 'gen_ai.usage.input_tokens'), '1200');
    assert.equal(getNumberAttribute(a, 'gen_ai.usage.input_tokens'), 1200);
    assert.equal(getNumberAttribute(a, 'cost'), 0.25);
    assert.equal(getNumberAttribute(a, 'count.str'), 42);
    assert.equal(getNumberAttribute(a, 'service.name'), undefined);
  });

  it('sets, replaces and deletes', () => {
    const a = attrs();
    setAttribute(a, 'cost', doubleValue(1));
    setAttribute(a, 'new', boolValue(true));
    assert.equal(getNumberAttribute(a, 'cost'), 1);
    assert.equal(a.length, 6);
    assert.equal(deleteAttribute(a, 'new'), true);
    assert.equal(deleteAttribute(a, 'new'), false);
    assert.equal(a.length, 5);
  });

  it('converts to a string map without prototype pollution', () => {
    const rec = attributesToRecord(attrs());
    assert.equal(rec['service.name'], 'checkout');
    assert.equal(rec['gen_ai.usage.input_tokens'], '1200');
    assert.equal(Object.getPrototypeOf(rec), Object.prototype);
    assert.equal(Object.keys(rec).includes('__proto__'), true);
    assert.deepEqual(attributesToRecord(null), {});
  });
});

describe('anyValueToString maps and slices (Go encoding/json style)', () => {
  it('sorts map keys, escapes HTML characters and keeps ints exact', () => {
    const v: AnyValue = {
      kvlistValue: {
        values: [
          { key: 'z', value: { intValue: '9007199254740993' } },
          { key: 'a', value: { stringValue: '<b>&' } },
          {
            key: 'm',
            value: { arrayValue: { values: [{}, { doubleValue: 1.5 }, { bytesValue: Buffer.from('hi') }] } },
          },
        ],
      },
    };
    assert.equal(anyValueToString(v), '{"a":"\\u003cb\\u003e\\u0026","m":[null,1.5,"aGk="],"z":9007199254740993}');
  });
});
