/**
 * kafkajs 2.2.4 (its last release) re-arms a 1 ms timer forever on every broker connection once
 * nothing is pending and nothing is throttled (RequestQueue.scheduleCheckPendingRequests computes a
 * negative delay): an idle loader spent ~50 CPU ms per second waking up for nothing, and a busy one
 * as much again between its batches (tulios/kafkajs#1556, #1704; the upstream fix #1667 is unmerged).
 * This applies that fix: nothing pending and not throttled → nothing to schedule. A request that has
 * to wait is queued by `push`, which schedules the check itself; a completed or timed-out request
 * checks the queue directly.
 *
 * Imported for its effect by every module that creates kafkajs clients.
 */
import { createRequire } from 'node:module';

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: RequestQueueLike & { [PATCHED]?: true };
};
const PATCHED = Symbol.for('sieve.kafkajs.idle-fix');

if (!RequestQueue.prototype[PATCHED]) {
  const schedule = RequestQueue.prototype.scheduleCheckPendingRequests;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueLike) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  RequestQueue.prototype[PATCHED] = true;
}
