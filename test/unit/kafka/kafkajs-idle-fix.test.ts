// kafkajs' request queue with the idle fix: no timer loop once nothing is pending, and requests that
// wait for an in-flight slot are still sent, in order.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import '../../../src/kafka/kafkajs-idle-fix.js';

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function queue() {
  return new RequestQueue({
    instrumentationEmitter: { emit() {} },
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:0',
    logger: quiet,
  });
}

test('an idle request queue arms no timer', async () => {
  const q = queue();
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks++;
    check();
  };
  const sent: number[] = [];
  const push = (correlationId: number) =>
    new Promise((resolve, reject) =>
      q.push({
        entry: { correlationId, apiName: 'Test', apiKey: 0, apiVersion: 0, resolve, reject },
        expectResponse: true,
        sendRequest: () => sent.push(correlationId),
      }),
    );
  const done = [push(1), push(2), push(3)];
  assert.deepEqual(sent, [1], 'one in flight, two waiting');
  for (const id of [1, 2, 3]) q.fulfillRequest({ correlationId: id, payload: null, size: 0 });
  await Promise.all(done);
  assert.deepEqual(sent, [1, 2, 3], 'waiting requests are sent as slots free up, in order');
  await new Promise((r) => setTimeout(r, 50)); // let any timer that was armed fire
  const before = checks;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(checks, before, 'nothing pending: no check keeps re-arming itself');
  assert.equal(q.throttleCheckTimeoutId, null);
  q.destroy();
});
