import { startSecureKafka } from './test/support/secure-kafka.js';
import { checkKafkaAccess } from './src/kafka/security.js';
import { readFileSync } from 'node:fs';
const t0 = Date.now();
const k = await startSecureKafka();
console.log('ready in', Date.now() - t0, k.brokers);
const ca = readFileSync(k.caFile, 'utf8');
const sec = (o: any) => ({ tls: { ca, insecureSkipVerify: false, configKey: 'exporters.kafka.tls', ...o.tls }, sasl: { mechanism: 'scram-sha-512', ...k.user, configKey: 'exporters.kafka.auth.sasl', ...o.sasl } });
for (const [name, s] of Object.entries({
  good: sec({}),
  good256: sec({ sasl: { mechanism: 'scram-sha-256' } }),
  goodPlain: sec({ sasl: { mechanism: 'plain' } }),
  wrongPw: sec({ sasl: { password: 'nope' } }),
  wrongUser: sec({ sasl: { username: 'who' } }),
  otherCa: sec({ tls: { ca: readFileSync(k.otherCaFile, 'utf8') } }),
  noCa: sec({ tls: { ca: undefined } }),
  noTls: { sasl: sec({}).sasl },
  noSasl: { tls: sec({}).tls },
} as any)) {
  const t = Date.now();
  const r = await checkKafkaAccess(k.brokers, s as any, 10000);
  console.log(name, Date.now() - t, 'ms', JSON.stringify({ ok: r.ok, fatal: r.fatal?.message, reason: r.reason }));
}
await k.stop();
