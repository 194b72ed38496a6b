import { type InsertJob, mergeJobs } from './job.js';

/**
 * The insert queue: jobs in fetch order, drained by one worker (so commits per partition stay in
 * offset order), bounded by message bytes so that fetching pauses while ClickHouse is slow or down.
 */
export class JobQueue {
  private readonly jobs: InsertJob[] = [];
  private queuedBytes = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly onBytes: (bytes: number) => void,
  ) {}

  /** Wakes everyone waiting on the queue (the worker, batches waiting for room, stop). */
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next notify(). */
  changed(): Promise<void> {
    return new Promise<void>((r) => this.waiters.push(r));
  }

  get length(): number {
    return this.jobs.length;
  }

  head(): InsertJob | undefined {
    return this.jobs[0];
  }

  /** Whether a job of `bytes` fits (an empty queue takes any job). */
  hasRoomFor(bytes: number): boolean {
    return this.queuedBytes === 0 || this.queuedBytes + bytes <= this.maxBytes;
  }

  /**
   * Folds the later queued jobs of the head's partition (same generation) into the head, up to
   * `maxBytes` of messages: while one insert runs, the batches fetched meanwhile become one insert
   * per partition instead of one per fetch (ClickHouse pays per insert: a part, the views, the token).
   */
  mergeIntoHead(maxBytes: number): InsertJob | undefined {
    let head = this.jobs[0];
    if (head === undefined || head.exactRange) return head;
    for (let i = 1; i < this.jobs.length; i++) {
      const j = this.jobs[i]!;
      if (j.topic !== head.topic || j.partition !== head.partition || j.generation !== head.generation) continue;
      if (j.exactRange || head.bytes + j.bytes > maxBytes) break;
      head = mergeJobs(head, j);
      this.jobs.splice(i--, 1);
    }
    this.jobs[0] = head;
    return head;
  }

  push(job: InsertJob): void {
    this.jobs.push(job);
    this.setBytes(this.queuedBytes + job.bytes);
  }

  /** Removes the head job once it is done. */
  shift(): void {
    const job = this.jobs.shift();
    if (job) this.setBytes(this.queuedBytes - job.bytes);
  }

  clear(): void {
    this.jobs.length = 0;
    this.setBytes(0);
  }

  private setBytes(bytes: number): void {
    this.queuedBytes = bytes;
    this.onBytes(bytes);
    this.notify();
  }
}
