// Every Sieve metric a dashboard panel or alert rule reads from Prometheus is one Sieve registers:
// a renamed or mistyped metric would otherwise leave a panel empty or an alert silent.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(dir, f));
}

test('dashboards and alerts read only metrics Sieve registers', () => {
  const registered = new Set<string>();
  for (const f of filesUnder(join(ROOT, 'src'), '.ts'))
    for (const m of readFileSync(f, 'utf8').matchAll(/name: '(sieve_[a-z0-9_]+)'/g)) registered.add(m[1] as string);
  assert.ok(registered.has('sieve_loader_message_age_seconds') && registered.size > 10, [...registered].join(' '));

  const read = new Map<string, string>();
  const generated = [
    ...filesUnder(join(ROOT, 'grafana', 'dashboards'), '.json'),
    join(ROOT, 'grafana', 'provisioning', 'alerting', 'sieve.yaml'),
  ];
  for (const f of generated)
    for (const m of readFileSync(f, 'utf8').matchAll(/\b(sieve_(?:receiver|loader|kafka|config)_[a-z0-9_]+)/g))
      read.set((m[1] as string).replace(/_(bucket|sum|count)$/, ''), f);
  assert.ok(read.size > 5, 'the dashboards read Sieve metrics');
  for (const [metric, file] of read) assert.ok(registered.has(metric), `${metric} (read in ${file}) is not registered`);
});
