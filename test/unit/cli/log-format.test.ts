import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prettyLine, resolveLogFormat } from '../../../src/cli/log.js';

test('log format: pretty on a terminal, JSON otherwise; --log-format beats SIEVE_LOG_FORMAT', () => {
  assert.equal(resolveLogFormat(undefined, {}, true), 'pretty');
  assert.equal(resolveLogFormat(undefined, {}, false), 'json');
  assert.equal(resolveLogFormat(undefined, { SIEVE_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(resolveLogFormat(undefined, { SIEVE_LOG_FORMAT: 'pretty' }, false), 'pretty');
  assert.equal(resolveLogFormat('json', { SIEVE_LOG_FORMAT: 'pretty' }, true), 'json');
  assert.equal(resolveLogFormat(undefined, { SIEVE_LOG_FORMAT: '' }, false), 'json');
});

test('an unknown log format is a clear error naming where it came from', () => {
  assert.throws(() => resolveLogFormat('yaml', {}, true), /--log-format must be json or pretty, got "yaml"/);
  assert.throws(() => resolveLogFormat(undefined, { SIEVE_LOG_FORMAT: 'text' }, true), /SIEVE_LOG_FORMAT must be/);
});

test('a pretty line names who logged and shows fields as key=value, not JSON', () => {
  const line = prettyLine({
    level: 40,
    time: 1,
    pid: 7,
    hostname: 'h',
    service: 'sieve-all',
    component: 'kafka-exporter',
    msg: 'kafka produce failed',
    err: { type: 'Error', message: 'broker down', stack: '…' },
    topics: ['otlp_spans', 'otlp_logs'],
    ready: false,
    config: '/a path/sieve.yaml',
  });
  assert.equal(
    line,
    'all · kafka-exporter: kafka produce failed  err="broker down" topics=otlp_spans,otlp_logs ready=false config="/a path/sieve.yaml"',
  );
  assert.equal(prettyLine({ service: 'sieve-loader', worker: 2, msg: 'stopped' }), 'loader #2: stopped');
});
