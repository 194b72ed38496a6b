/**
 * `sieve dlq [replay] [--topic T]… [--group G]`: what waits in the loader's DLQ topics, and replaying
 * it (src/loader/dlq-replay.ts). Topics default to those the config's pipelines write, as `sieve
 * loader` reads them; brokers and security come from the config's kafka exporter, as for the loader.
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { loadSieveConfig } from '../config/load.js';
import { DLQ_REASONS, type DlqReason } from '../loader/dlq.js';
import { dlqTopicOf } from '../loader/dlq-records.js';
import {
  DEFAULT_REPLAY_GROUP,
  type DlqTopicState,
  dlqTopicState,
  type ReplayResult,
  replayWaiting,
  summariseWaiting,
} from '../loader/dlq-replay.js';
import { configPathFrom } from './config-path.js';
import { brokersOf, kafkaSecurityOf, loaderTopicsOf } from './kafka-access.js';

export const DLQ_USAGE = `usage: sieve dlq [replay] [--topic <topic>]... [--reason <reason>]... [--group <group>] [--config <file>]
  sieve dlq           what waits in the DLQ topics: counts by reason, table and kind of error
  sieve dlq replay    send it back to the topics it came from, for the loader to load again
                      (after fixing the cause: a constraint, a view, a loader upgrade); a message
                      that fails again goes back to the DLQ and waits for the next replay
  --topic <topic>     a loader topic (otlp_spans) or its DLQ (otlp_spans.dlq); repeatable
                      (default: the topics the config's pipelines write)
  --reason <reason>   replay only dead letters of this reason (refused, undecodable); repeatable. The
                      others are passed over: marked replayed for the group, not sent (they stay in
                      the DLQ topic until its retention deletes them)
  --group <group>     the consumer group whose offsets mark what was replayed (default ${DEFAULT_REPLAY_GROUP})
  --config <file>     pipeline YAML for brokers, security and topics (env SIEVE_CONFIG)
env: KAFKA_BROKERS (when the config names none)
`;

export interface DlqArgs {
  replay: boolean;
  topics: string[] | undefined;
  /** replay only these reasons (undefined: all) */
  reasons: ReadonlySet<string> | undefined;
  group: string;
  config: string | undefined;
}

export function parseDlqArgs(args: string[]): DlqArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    options: {
      topic: { type: 'string', multiple: true },
      reason: { type: 'string', multiple: true },
      group: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'replay'))
    throw new Error(`unknown dlq command "${positionals.join(' ')}"\n\n${DLQ_USAGE}`);
  const group = values.group ?? DEFAULT_REPLAY_GROUP;
  if (group.trim() === '') throw new Error('--group must not be empty');
  const replay = positionals[0] === 'replay';
  for (const r of values.reason ?? [])
    if (!DLQ_REASONS.includes(r as DlqReason))
      throw new Error(`--reason ${r}: a dead letter's reason is one of ${DLQ_REASONS.join(', ')}`);
  if (values.reason !== undefined && !replay) throw new Error('--reason narrows a replay: sieve dlq replay --reason …');
  const reasons = values.reason === undefined ? undefined : new Set(values.reason);
  return { replay, topics: values.topic, reasons, group, config: values.config };
}

/** Every `interval` ms at most, `line` for a long read (a DLQ can hold millions of messages). */
function throttled(write: (line: string) => void, interval = 2000): (line: string) => void {
  let last = Date.now();
  return (line) => {
    if (Date.now() - last < interval) return;
    last = Date.now();
    write(line);
  };
}

export async function runDlq(
  args: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const parsed = parseDlqArgs(args);
  if (parsed === 'help') {
    out.write(DLQ_USAGE);
    return 0;
  }
  const config = loadSieveConfig(configPathFrom(parsed.config), { exportersOnly: true });
  const topics = [...new Set((parsed.topics ?? Object.keys(loaderTopicsOf(config).topics)).map(dlqTopicOf))];
  const brokers = brokersOf(config);
  const kafka = new Kafka({
    clientId: 'sieve-dlq',
    brokers,
    ...kafkaSecurityOf(config),
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  await admin.connect().catch((e: Error) => {
    throw new Error(`Kafka at ${brokers.join(',')}: ${e.message}`);
  });
  try {
    let waiting = 0;
    for (const topic of topics) {
      const state = await dlqTopicState(admin, topic, parsed.group);
      waiting += state.waiting;
      out.write(`${headline(state, parsed.group)}\n`);
      if (state.waiting === 0) continue;
      const tell = throttled((line) => err.write(`  ${line}\n`));
      const progress = (line: string, done: number) => done < state.waiting && tell(line);
      if (parsed.replay) {
        const r = await replayWaiting(
          kafka,
          state,
          parsed.group,
          (n) => progress(`${n} of ${state.waiting} done`, n),
          parsed.reasons,
        );
        out.write(`  ${replayLine(r)}\n`);
      } else {
        const summary = await summariseWaiting(kafka, admin, state, (n) =>
          progress(`${n} of ${state.waiting} read`, n),
        );
        for (const line of summary.lines()) out.write(`  ${line}\n`);
      }
    }
    if (!parsed.replay && waiting > 0) out.write('replay with: sieve dlq replay (once what the errors say is fixed)\n');
    return 0;
  } finally {
    await admin.disconnect();
  }
}

/** `replayed 3: 3 to otlp_spans`, and what was passed over: `; passed over 1: 1 undecodable` */
export function replayLine(r: ReplayResult): string {
  const to = Object.entries(r.byTopic).map(([t, n]) => `${n} to ${t}`);
  const passed = Object.entries(r.passedOver);
  const passedCount = passed.reduce((sum, [, n]) => sum + n, 0);
  return `replayed ${r.replayed}${to.length > 0 ? `: ${to.join(', ')}` : ''}${
    passedCount > 0 ? `; passed over ${passedCount}: ${passed.map(([reason, n]) => `${n} ${reason}`).join(', ')}` : ''
  }`;
}

function headline(s: DlqTopicState, group: string): string {
  if (!s.exists) return `${s.topic}: no such topic (nothing has gone to the DLQ)`;
  if (s.held === 0) return `${s.topic}: empty`;
  if (s.waiting === 0) return `${s.topic}: nothing waiting (${s.held} held, all replayed by group ${group})`;
  return `${s.topic}: ${s.waiting} waiting${s.held > s.waiting ? ` (of ${s.held} held; the rest replayed by group ${group})` : ''}`;
}
