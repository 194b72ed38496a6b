/**
 * A second, secured Kafka broker for the security tests, started the way deploy/docker-compose.yml
 * starts its broker: deploy/make-secrets.sh creates the CA, the broker's PKCS12 keystore/truststore
 * (openssl, keytool) and the passwords, and deploy/kafka/secure-kafka.sh runs one KRaft node with a
 * SASL_SSL listener only, SCRAM-SHA-512 users created with Kafka's own tooling (kafka-storage format
 * --add-scram) — here on the local jars ($SIEVE_CACHE_DIR/kafka/libs), with its own data dir and free
 * ports; the default local broker stays PLAINTEXT. A second CA the broker's certificate does not
 * chain to is made for "untrusted certificate" tests.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './sieve-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LIBS = join(process.env.SIEVE_CACHE_DIR ?? join(ROOT, '.cache'), 'kafka', 'libs');

export interface SecureKafka {
  brokers: string[];
  /** PEM of the CA that signed the broker's certificate */
  caFile: string;
  /** PEM of a CA that did not */
  otherCaFile: string;
  /** the SCRAM-SHA-512 user Sieve connects as */
  user: { username: string; password: string };
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startSecureKafka(): Promise<SecureKafka> {
  const dir = join(ROOT, '.data', `secure-kafka-${randomBytes(3).toString('hex')}`);
  const secrets = join(dir, 'secrets');
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', [join(ROOT, 'deploy', 'make-secrets.sh'), secrets], { stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'other-ca.key',
      '-out',
      'other-ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Some other CA',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await freePort();
  const controllerPort = await freePort();
  const child: ChildProcess = spawn('bash', [join(ROOT, 'deploy', 'kafka', 'secure-kafka.sh')], {
    env: {
      ...process.env,
      SECRETS: secrets,
      KAFKA_LIBS: LIBS,
      KAFKA_DATA: join(dir, 'data'),
      KAFKA_HOST: '127.0.0.1',
      KAFKA_ADVERTISED_HOST: '127.0.0.1',
      KAFKA_SASL_SSL_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_HEAP_OPTS: '-Xmx384m -Xms128m',
      KAFKA_LOG4J: join(ROOT, 'deploy', 'local', 'kafka', 'log4j2.yaml'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  for (const s of [child.stdout, child.stderr]) s?.on('data', (b: Buffer) => (out = (out + b).slice(-8000)));
  const log = () => {
    let server = '';
    try {
      server = readFileSync(join(dir, 'data', 'logs', 'kafka.log'), 'utf8').slice(-6000);
    } catch {}
    return `${out}\n${server}`;
  };
  const user = { username: 'sieve', password: readFileSync(join(secrets, 'kafka_sieve_password'), 'utf8') };
  const caFile = join(secrets, 'ca.pem');
  const brokers = [`127.0.0.1:${port}`];
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // ready when an authenticated client gets the cluster metadata
  const probe = new Kafka({
    brokers,
    ssl: { ca: [readFileSync(caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', ...user },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 3000,
  }).admin();
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) {
      const l = log();
      await stop();
      throw new Error(`secure kafka exited during start:\n${l}`);
    }
    try {
      await probe.connect();
      await probe.describeCluster();
      await probe.disconnect();
      break;
    } catch {
      await probe.disconnect().catch(() => undefined);
      if (Date.now() > deadline) {
        const l = log();
        await stop();
        throw new Error(`secure kafka not ready after 180 s:\n${l}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return {
    brokers,
    caFile,
    otherCaFile: join(dir, 'other-ca.pem'),
    user,
    dir,
    log,
    stop,
  };
}
