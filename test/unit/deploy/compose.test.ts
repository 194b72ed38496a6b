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
}
const compose = parse(readFileSync(resolve(deploy, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};

test('compose has the expected services', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ['clickhouse', 'grafana', 'kafka', 'prometheus', 'sieve']);
});

test('ports: OTLP 4318 on sieve, Grafana 3000', () => {
  assert.ok(compose.services.sieve?.ports?.includes('4318:4318'));
  assert.ok(compose.services.grafana?.ports?.includes('3000:3000'));
});

test('sieve gets KAFKA_BROKERS, CLICKHOUSE_URL, CLICKHOUSE_DATABASE', () => {
  const env = compose.services.sieve?.environment ?? {};
  for (const k of ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'CLICKHOUSE_DATABASE']) assert.ok(env[k], k);
  assert.ok(compose.services.grafana?.environment?.GRAFANA_CLICKHOUSE_PASSWORD);
});

test('mounted paths and the Dockerfile exist in the repo', () => {
  for (const [name, s] of Object.entries(compose.services))
    for (const v of s.volumes ?? []) {
      const src = v.split(':')[0] as string;
      if (!src.startsWith('.')) continue; // named volume
      assert.ok(existsSync(resolve(deploy, src)), `${name}: ${src}`);
    }
  const b = compose.services.sieve?.build;
  assert.ok(b && existsSync(resolve(deploy, b.context, b.dockerfile)));
});
