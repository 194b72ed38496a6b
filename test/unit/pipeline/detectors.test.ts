import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECTOR_NAMES, detectorsByName, scrubString } from '../../../src/pipeline/detectors.js';

const all = detectorsByName([...DETECTOR_NAMES]);
const hits = (s: string) => {
  const found: string[] = [];
  const out = scrubString(
    s,
    all,
    () => '****',
    (d) => found.push(d),
  );
  return { out, found };
};

test('true positives', () => {
  const cases: [string, string][] = [
    ['mail alice.smith+x@example.co.uk now', 'email'],
    ['call +1 415-555-0132 please', 'phone'],
    ['call (415) 555-0132', 'phone'],
    ['card 4111 1111 1111 1111 ok', 'payment_card'],
    ['card 5500-0000-0000-0004', 'payment_card'],
    ['from 192.168.10.21 via lb', 'ipv4'],
    ['peer 2001:db8::8a2e:370:7334 ok', 'ipv6'],
    ['tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'jwt'],
    ['Authorization: Bearer abcdef1234567890XYZ', 'bearer_token'],
    ['key sk-proj-abcdefghijklmnopqrstuvwx1234', 'api_key'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'api_key'],
    ['gh ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', 'api_key'],
    ['slack xoxb-123456789012-abcdefghij', 'api_key'],
    ['g AIzaSyA1234567890abcdefghijklmnopqrstuv', 'api_key'],
    ['ssn 123-45-6789 on file', 'us_ssn'],
    ['iban DE89 3704 0044 0532 0130 00 paid', 'iban'],
    ['iban GB82WEST12345698765432', 'iban'],
  ];
  for (const [s, det] of cases) {
    const r = hits(s);
    assert.ok(r.found.includes(det), `${det} not found in ${s}: ${JSON.stringify(r)}`);
    assert.ok(r.out.includes('****'), s);
  }
  assert.equal(hits('Bearer abcdef1234567890XYZ').out, 'Bearer ****');
});

test('tricky negatives', () => {
  const negatives = [
    'order 4111111111111112 shipped', // fails Luhn
    'order id 1234567890123456',
    'version 1.2.3.4-beta released',
    'lib 10.0.1.2.3',
    'request 550e8400-e29b-41d4-a716-446655440000',
    'at 2024-01-15T10:30:00.123Z',
    '2024-01-15 10:30:00',
    'took 12:30:45',
    'iban DE89370400440532013001', // bad mod-97
    'ssn 000-12-3456',
    'no pii here at all',
    'model gpt-4o-2024-08-06',
    'trace 4bf92f3577b34da6a3ce929d0e0e4736',
  ];
  for (const s of negatives) assert.deepEqual(hits(s).found, [], s);
});

test('context: phone words, version words, key context; epoch timestamps stay', () => {
  const cases: [string, string[]][] = [
    ['call me on 4155550132', ['phone']],
    ['Tel: 612 345 678', ['phone']],
    ['612 345 678 units sold', []],
    ['SMS sent at 1700000000123', []],
    ['SMS sent at 1700000000', []],
    ['sms to 14155550132', ['phone']],
    ['upgraded to version 1.2.3.4', []],
    ['login from 1.2.3.4', ['ipv4']],
    ['http://10.0.0.7:8080/metrics', ['ipv4']],
    ['/opt/app/1.2.3.4/bin', []],
    ['ts=1700000000123456789 msg=ok', []],
    ['isbn 978-0-306-40615-7', []],
    ['POINT(-122.4194155 37.7749295)', []],
    ['mailto:jane%40example.com', ['email']],
    ['josé.garcía@correo.es wrote', ['email']],
    ['Bearer authentication failed', []],
    ['ASIAKXUVOWAEILPMWIFN', ['api_key']],
    ['fe80::1ff:fe23:4567:890a%eth0', ['ipv6']],
    ['peer [::ffff:203.0.113.7]:443', ['ipv6']],
    ['::1 and 127.0.0.1 and 0.0.0.0', []],
  ];
  for (const [s, want] of cases) assert.deepEqual(hits(s).found, want, s);
});
