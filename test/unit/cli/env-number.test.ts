// Whole-number and enumerated settings from the environment: the default when unset, a clear error naming the variable otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envChoice, envInteger } from '../../../src/cli/env-number.js';

test('env integers: default when unset or blank, the value when whole and in range, else an error naming it', () => {
  const range = { min: 0, max: 60_000 };
  assert.equal(envInteger({}, 'X_MS', 1000, range), 1000);
  assert.equal(envInteger({ X_MS: ' ' }, 'X_MS', 1000, range), 1000);
  assert.equal(envInteger({ X_MS: '0' }, 'X_MS', 1000, range), 0);
  assert.equal(envInteger({ X_MS: '250' }, 'X_MS', 1000, range), 250);
  for (const bad of ['abc', '1.5', '-1', '60001', '1e9'])
    assert.throws(
      () => envInteger({ X_MS: bad }, 'X_MS', 1000, range),
      new RegExp(`X_MS must be a whole number from 0 to 60000, got "${bad.replace('.', '\\.')}"`),
      bad,
    );
});

test('env choices: default when unset or blank, a listed value as it is, else an error listing the choices', () => {
  const formats = ['RowBinary', 'Native'] as const;
  assert.equal(envChoice({}, 'FMT', formats, 'RowBinary'), 'RowBinary');
  assert.equal(envChoice({ FMT: '  ' }, 'FMT', formats, 'RowBinary'), 'RowBinary');
  assert.equal(envChoice({ FMT: 'Native' }, 'FMT', formats, 'RowBinary'), 'Native');
  assert.equal(envChoice({ FMT: ' Native ' }, 'FMT', formats, 'RowBinary'), 'Native');
  for (const bad of ['native', 'JSONEachRow', 'Native,RowBinary'])
    assert.throws(
      () => envChoice({ FMT: bad }, 'FMT', formats, 'RowBinary'),
      new RegExp(`FMT must be one of RowBinary, Native, got "${bad}"`),
      bad,
    );
});
