// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Collector ${env:X} / ${file:X} syntax in configs
/**
 * Kafka over SASL_SSL with the Collector's keys, against a real secured broker started for this
 * test (test/support/secure-kafka.ts: test CA, PKCS12 keystore/truststore, SCRAM users made with
 * Kafka's own tooling) and the real ClickHouse engine:
 * - `sieve all` with SCRAM-SHA-512 (username from env, password from a file) takes OTLP in,
 *   produces and consumes over SASL_SSL, and the rows reach ClickHouse;
 * - a wrong password, a certificate from another CA, or a missing tls block stops `sieve all` and
 *   `sieve loader` at start with a message naming the setting — no hang, no silent retry loop;
 * - the password is never in their output.
 * Needs ClickHouse (npm run services), Java and openssl/keytool.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { type SecureKafka, startSecureKafka } from '../support/secure-kafka.js';
import { type SieveProcess, startSieve, stopSieve } from '../support/sieve-process.js';

const id = randomBytes(4).toString('hex');
const database = `sieve_sasl_${id}`;
const clickhouse = createClickHouseClient();
const dir = mkdtempSync(join(tmpdir(), 'sieve-sasl-'));
let kafka: SecureKafka;

before(async () => {
  kafka = await startSecureKafka();
  writeFileSync(join(dir, 'kafka-password'), `${kafka.user.password}\n`);
  writeFileSync(join(dir, 'wrong-password'), 'not-the-password\n');
});
after(async () => {
  await kafka?.stop();
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await clickhouse.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Sieve config whose kafka exporter has `security` (YAML lines under the exporter). */
function writeConfig(name: string, security: string): string {
  const file = join(dir, `${name}.yaml`);
  const indented = security
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  const pipeline = (s: string) =>
    `    ${s}:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [kafka]`;
  writeFileSync(
    file,
    `receivers:
  otlp:
    protocols:
      http:
        endpoint: \${env:SIEVE_OTLP_ENDPOINT:-127.0.0.1:4318}
processors:
  batch:
    timeout: 100ms
exporters:
  kafka:
    brokers: [${kafka.brokers.join(', ')}]
    traces: { topic: sasl_spans_${id} }
    logs: { topic: sasl_logs_${id} }
    metrics: { topic: sasl_metrics_${id} }
${indented}
service:
  pipelines:
${['traces', 'logs', 'metrics'].map(pipeline).join('\n')}
`,
  );
  return file;
}

const goodSecurity = () => `
tls:
  ca_file: ${kafka.caFile}
auth:
  sasl:
    mechanism: SCRAM-SHA-512
    username: \${env:KAFKA_USERNAME}
    password: \${file:kafka-password}`;

function env(): NodeJS.ProcessEnv {
  return {
    KAFKA_USERNAME: kafka.user.username,
    CLICKHOUSE_DATABASE: database,
    SIEVE_LOADER_GROUP: `sasl_${id}`,
    LOG_LEVEL: 'debug', // the most output there is: still no password in it
  };
}

/** Waits for the process to exit (it must, by itself) and returns its code and output. */
async function exitOf(p: SieveProcess, timeoutMs = 60_000): Promise<{ code: number | null; log: string }> {
  if (p.child.exitCode === null) {
    const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
    await new Promise((r) => p.child.once('exit', r));
    clearTimeout(timer);
  }
  return { code: p.child.exitCode, log: p.log() };
}

async function waitFor(what: string, check: () => Promise<boolean>, p: SieveProcess, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (p.child.exitCode !== null)
      throw new Error(`sieve exited (${p.child.exitCode}) waiting for ${what}:\n${p.log()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${p.log()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('Kafka SASL_SSL with SCRAM-SHA-512', { timeout: 600_000 }, () => {
  test('end to end: OTLP in → Kafka (SASL_SSL) → loader → ClickHouse; the password is never logged', async () => {
    const config = writeConfig('good', goodSecurity());
    const sieve = await startSieve({ command: 'all', configPath: config, env: env() });
    try {
      await waitFor(
        'the receiver and the loader ready',
        async () => {
          const r = await fetch(`http://127.0.0.1:${sieve.ports.receiverOps}/readyz`);
          const l = await fetch(`http://127.0.0.1:${sieve.ports.loaderOps}/readyz`);
          return r.status === 200 && l.status === 200;
        },
        sieve,
      );
      const traceId = randomBytes(16).toString('hex');
      const now = BigInt(Date.now()) * 1_000_000n;
      const res = await fetch(`http://127.0.0.1:${sieve.ports.otlp}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: `sasl-${id}` } }] },
              scopeSpans: [
                {
                  spans: Array.from({ length: 5 }, (_, i) => ({
                    traceId,
                    spanId: randomBytes(8).toString('hex'),
                    name: `op-${i}`,
                    kind: 2,
                    startTimeUnixNano: String(now),
                    endTimeUnixNano: String(now + 1_000_000n),
                  })),
                },
              ],
            },
          ],
        }),
      });
      assert.equal(res.status, 200, await res.text());
      await waitFor(
        'the 5 spans in ClickHouse',
        async () => {
          const rs = await clickhouse.query({
            query: `SELECT count() AS n FROM ${database}.otel_traces WHERE TraceId = {t:String}`,
            query_params: { t: traceId },
            format: 'JSONEachRow',
          });
          return Number(((await rs.json()) as { n: string }[])[0]?.n) === 5;
        },
        sieve,
      );
    } finally {
      await stopSieve(sieve);
    }
    assert.ok(sieve.log().length > 0);
    assert.ok(!sieve.log().includes(kafka.user.password), 'the SASL password appears in the output');
  });

  const refused: [string, () => string, RegExp][] = [
    [
      'a wrong password',
      () => goodSecurity().replace('${file:kafka-password}', '${file:wrong-password}'),
      /refused the credentials of exporters\.kafka\.auth\.sasl \(mechanism SCRAM-SHA-512, username "sieve"\)/,
    ],
    [
      'a certificate from another CA',
      () => goodSecurity().replace(kafka.caFile, kafka.otherCaFile),
      /TLS certificate is not trusted by exporters\.kafka\.tls\.ca_file/,
    ],
    [
      'no tls block (SASL over plaintext to a SASL_SSL listener)',
      () => goodSecurity().replace(/tls:\n {2}ca_file: .*\n/, ''),
      /closes the connection during the handshake \(no tls, exporters\.kafka\.auth\.sasl set\)/,
    ],
  ];
  for (const [what, security, message] of refused) {
    for (const command of ['all', 'loader'] as const) {
      test(`${what}: \`sieve ${command}\` stops at start naming the setting`, async () => {
        const config = writeConfig(`bad-${command}-${what.replace(/\W+/g, '-')}`, security());
        const started = Date.now();
        const { code, log } = await exitOf(await startSieve({ command, configPath: config, env: env() }));
        assert.notEqual(code, 0, log);
        assert.match(log, message);
        assert.ok(Date.now() - started < 60_000, 'it fails fast');
        assert.ok(!log.includes(kafka.user.password), 'the SASL password appears in the output');
        assert.ok(!log.includes('not-the-password'), 'the (wrong) SASL password appears in the output');
      });
    }
  }

  test('the compose way: a config without tls/auth, security from KAFKA_TLS_CA_FILE and KAFKA_SASL_* (password file)', async () => {
    const config = writeConfig('env', '');
    const secureEnv = {
      ...env(),
      KAFKA_TLS_CA_FILE: kafka.caFile,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: kafka.user.username,
      KAFKA_SASL_PASSWORD_FILE: join(dir, 'kafka-password'),
      SIEVE_LOADER_GROUP: `sasl_env_${id}`,
    };
    const loader = await startSieve({ command: 'loader', configPath: config, env: secureEnv });
    try {
      await waitFor(
        'the loader ready',
        async () => (await fetch(`http://127.0.0.1:${loader.ports.loaderOps}/readyz`)).status === 200,
        loader,
      );
    } finally {
      await stopSieve(loader);
    }
    assert.ok(!loader.log().includes(kafka.user.password));

    const wrong = await exitOf(
      await startSieve({
        command: 'loader',
        configPath: config,
        env: { ...secureEnv, KAFKA_SASL_PASSWORD_FILE: join(dir, 'wrong-password') },
      }),
    );
    assert.notEqual(wrong.code, 0);
    assert.match(
      wrong.log,
      /refused the credentials of KAFKA_SASL_MECHANISM \/ KAFKA_SASL_USERNAME \/ KAFKA_SASL_PASSWORD_FILE/,
    );
    assert.ok(!wrong.log.includes(kafka.user.password) && !wrong.log.includes('not-the-password'));
  });
});
