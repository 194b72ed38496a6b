/**
 * `sieve <command>` — the single entry point (package bin).
 *
 *   sieve all        receiver + loader in one process
 *   sieve receiver   OTLP/HTTP → pipeline → Kafka
 *   sieve loader     Kafka → ClickHouse
 *   sieve migrate    apply ClickHouse migrations
 *   sieve validate <config.yaml>
 *   sieve scrub --config <yaml>   (OTLP JSON on stdin → scrubbed OTLP JSON on stdout)
 *   sieve stats [--watch]         the last minutes of the rollups in the terminal
 *   sieve demo [--duration 30s]   a realistic agent workload through the OpenTelemetry SDK
 *   sieve keys create|revoke|list  (API keys file)
 *   sieve reprice --from <t> --to <t>   (recompute stored LLM cost after pricing.yaml changed)
 *   sieve dlq [replay]            what waits in the DLQ topics; send it back to be loaded again
 */
import { parseArgs } from 'node:util';

const USAGE = `usage: sieve <command> [options]

commands:
  all                 run the receiver and the loader in one process
  receiver            run the OTLP receiver (HTTP :4318, gRPC :4317, ops on 13133)
  loader              run the Kafka → ClickHouse loader (ops on 13134)
  migrate             apply ClickHouse migrations and exit
  validate <file>     check a pipeline YAML file; exit 1 with file:line:column errors
                      --print-keys [--key K]: list the key rules; show what happens to key K
  scrub --config <f>  read an OTLP JSON payload on stdin, print it after the pipeline
                      --explain: list each changed field, how and by which rule (stderr)
  stats [--watch]     the last minutes of traffic, LLM cost, logs and pipeline health (--help)
  demo                send a realistic AI-agent workload for --duration (default 30s) (--help)
  keys create --tenant <t> --name <n> [--file <f>]   new API key (printed once; the file keeps its SHA-256)
  keys revoke <name> [--file <f>]                    running receivers refuse it within seconds
  keys list [--file <f>] [--ops <url>]               name, tenant, created, revoked, last used
                      (the keys file defaults to SIEVE_API_KEYS_FILE)
  reprice --from <t> --to <t> [--pricing <file>] [--chunk <minutes>]
                      recompute the cost of past LLM spans with the current pricing file and
                      rebuild llm_1m for that window (times: ISO 8601, epoch ms, now-<n>h)
  dlq [replay] [--topic <t>]   what waits in the DLQ topics (counts by reason, table, error);
                      replay: send it back to its topics for the loader to load again (--help)

options (all, receiver, loader):
  --config <file>     pipeline YAML (env SIEVE_CONFIG; default collector-config/sieve.yaml)
  --dev               allow running the receiver without API keys; generates a local hashing key
                      in $SIEVE_DATA_DIR/hash.key (default .data/) when none is set
  --log-format <f>    json or pretty (env SIEVE_LOG_FORMAT; default pretty on a terminal, else json)
  --workers <n>       receiver only: processes sharing the OTLP port (env SIEVE_RECEIVER_WORKERS,
                      which other commands ignore; default one per core, at most 4; 1 = a single process)
env: KAFKA_BROKERS, CLICKHOUSE_URL, CLICKHOUSE_DATABASE, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD,
     SIEVE_HASH_KEY / SIEVE_HASH_KEY_FILE, LOG_LEVEL, SIEVE_PRICING (pricing file),
     SIEVE_AI_DIALECTS (your AI attribute names, merged over collector-config/ai-dialects.yaml)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'all':
    case 'receiver':
    case 'loader': {
      const { values } = parseArgs({
        args: rest,
        options: {
          config: { type: 'string' },
          dev: { type: 'boolean', default: false },
          workers: { type: 'string' },
          'log-format': { type: 'string' },
        },
        strict: true,
      });
      const { useLogFormat } = await import('./log.js');
      useLogFormat(values['log-format']);
      const { runServices } = await import('./services.js');
      const { receiverWorkersOption } = await import('./receiver-cluster.js');
      const workers = receiverWorkersOption(command, values.workers, process.env.SIEVE_RECEIVER_WORKERS);
      const code = await runServices(command, {
        configPath: values.config,
        dev: values.dev ?? false,
        ...(workers !== undefined ? { workers } : {}),
      });
      // shutdown is complete (flushed, committed); client libraries may still hold reconnect timers
      return process.exit(code);
    }
    case 'migrate': {
      const { runMigrate } = await import('./services.js');
      return runMigrate();
    }
    case 'validate': {
      const { runValidate } = await import('./validate.js');
      return runValidate(rest);
    }
    case 'scrub': {
      const { runScrub } = await import('./scrub.js');
      return runScrub(rest, process.stdin, process.stdout);
    }
    case 'stats': {
      const { runStats } = await import('./stats.js');
      return runStats(rest);
    }
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      return runDemo(rest);
    }
    case 'keys': {
      const { runKeys } = await import('./keys.js');
      return runKeys(rest, { out: process.stdout, err: process.stderr, env: process.env });
    }
    case 'reprice': {
      const { runReprice } = await import('./reprice.js');
      return runReprice(rest);
    }
    case 'dlq': {
      const { runDlq } = await import('./dlq.js');
      return runDlq(rest);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`sieve: unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sieve: ${err instanceof Error ? err.message : String(err)}\n`);
    // a failed start may leave client reconnect timers behind; do not hang
    process.exit(1);
  },
);
