import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const deploy = resolve(repo, 'deploy');
interface Service {
  ports?: string[];
  environment?: Record<string, unknown>;
  volumes?: string[];
  build?: { context: string; dockerfile: string };
  command?: string[];
  restart?: string;
  secrets?: string[];
}
const compose = parse(readFileSync(resolve(deploy, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};

test('compose has the expected services', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), [
    'clickhouse',
    'grafana',
    'kafka',
    'prometheus',
    'sieve-loader',
    'sieve-receiver',
  ]);
  assert.deepEqual(compose.services['sieve-receiver']?.command, ['receiver']);
  assert.deepEqual(compose.services['sieve-loader']?.command, ['loader']);
  // the loader exits when ClickHouse is not reachable yet at start; compose must bring it back
  for (const name of ['sieve-receiver', 'sieve-loader'])
    assert.equal(compose.services[name]?.restart, 'unless-stopped', name);
});

test('ports: OTLP 4318 on the receiver, Grafana 3000, ops ports on loopback only', () => {
  assert.ok(compose.services['sieve-receiver']?.ports?.includes('4318:4318'));
  assert.ok(compose.services.grafana?.ports?.includes('3000:3000'));
  assert.ok(compose.services['sieve-receiver']?.ports?.includes('127.0.0.1:13133:13133'));
  assert.ok(compose.services['sieve-loader']?.ports?.includes('127.0.0.1:13134:13134'));
});

test('each Sieve service gets what it needs, and the loader no PII key', () => {
  const receiver = compose.services['sieve-receiver'] ?? {};
  const loader = compose.services['sieve-loader'] ?? {};
  for (const k of ['KAFKA_BROKERS', 'SIEVE_CONFIG', 'SIEVE_HASH_KEY_FILE', 'SIEVE_API_KEYS_FILE'])
    assert.ok(receiver.environment?.[k], `receiver ${k}`);
  for (const k of ['KAFKA_BROKERS', 'SIEVE_CONFIG', 'CLICKHOUSE_URL', 'CLICKHOUSE_DATABASE', 'CLICKHOUSE_USER'])
    assert.ok(loader.environment?.[k], `loader ${k}`);
  assert.equal(loader.environment?.SIEVE_HASH_KEY_FILE, undefined);
  assert.equal(loader.secrets, undefined);
  assert.ok(compose.services.grafana?.environment?.GRAFANA_CLICKHOUSE_PASSWORD);
});

test('Prometheus scrapes both Sieve services on their ops ports', () => {
  const prom = parse(readFileSync(resolve(deploy, 'prometheus.yml'), 'utf8')) as {
    scrape_configs: { static_configs: { targets: string[] }[] }[];
  };
  const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
  assert.deepEqual(targets.sort(), ['sieve-loader:13134', 'sieve-receiver:13133']);
});

test('mounted paths and the Dockerfile exist in the repo', () => {
  for (const [name, s] of Object.entries(compose.services))
    for (const v of s.volumes ?? []) {
      const src = v.split(':')[0] as string;
      if (!src.startsWith('.')) continue; // named volume
      assert.ok(existsSync(resolve(deploy, src)), `${name}: ${src}`);
    }
  for (const name of ['sieve-receiver', 'sieve-loader']) {
    const b = compose.services[name]?.build;
    assert.ok(b && existsSync(resolve(deploy, b.context, b.dockerfile)), name);
  }
});

test('Sieve logs JSON lines in compose, whatever the terminal', () => {
  for (const name of ['sieve-receiver', 'sieve-loader'])
    assert.equal(compose.services[name]?.environment?.SIEVE_LOG_FORMAT, 'json', name);
});

test('receiver: OTLP/gRPC 4317 exposed; OTLP TLS certificate and key as secrets', () => {
  const receiver = compose.services['sieve-receiver'] ?? {};
  assert.ok(receiver.ports?.includes('4317:4317'));
  assert.equal(receiver.environment?.SIEVE_OTLP_TLS_CERT_FILE, '/run/secrets/otlp_tls_cert');
  assert.equal(receiver.environment?.SIEVE_OTLP_TLS_KEY_FILE, '/run/secrets/otlp_tls_key');
  for (const s of ['otlp_tls_cert', 'otlp_tls_key']) assert.ok(receiver.secrets?.includes(s), s);
  assert.match(readFileSync(resolve(deploy, 'Dockerfile'), 'utf8'), /EXPOSE .*\b4317\b/);
});
