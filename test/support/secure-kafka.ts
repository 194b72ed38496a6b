/**
 * A second, secured Kafka broker for the security tests: the same jars as deploy/local/kafka.sh
 * ($SIEVE_CACHE_DIR/kafka/libs), one KRaft node with a SASL_SSL listener only (plus its plaintext
 * controller listener), its own data dir and free ports; the default local broker stays PLAINTEXT.
 *
 * Generated at start: a test CA and the broker's certificate (openssl), Kafka's PKCS12 keystore and
 * truststore (openssl, keytool), SCRAM-SHA-512 / SCRAM-SHA-256 users created with Kafka's own
 * tooling (`kafka-storage format --add-scram`) and PLAIN users in the listener's JAAS config, plus a
 * second CA the broker's certificate does not chain to (for "untrusted certificate" tests).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /** SCRAM (SHA-256 and SHA-512) and PLAIN user */
  user: { username: string; password: string };
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeCertificates(dir: string, storePass: string): void {
  const days = '3';
  run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      days,
      '-subj',
      '/CN=Sieve test CA',
    ],
    dir,
  );
  run(
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
      days,
      '-subj',
      '/CN=Some other CA',
    ],
    dir,
  );
  run(
    'openssl',
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'],
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'broker.pem',
      '-days',
      days,
      '-extfile',
      'san.ext',
    ],
    dir,
  );
  // Kafka's keystore (the broker's key and chain) and truststore (the CA), both PKCS12
  run(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-in',
      'broker.pem',
      '-inkey',
      'broker.key',
      '-certfile',
      'ca.pem',
      '-name',
      'broker',
      '-out',
      'keystore.p12',
      '-passout',
      `pass:${storePass}`,
    ],
    dir,
  );
  run(
    'keytool',
    [
      '-importcert',
      '-noprompt',
      '-alias',
      'ca',
      '-file',
      'ca.pem',
      '-keystore',
      'truststore.p12',
      '-storetype',
      'PKCS12',
      '-storepass',
      storePass,
    ],
    dir,
  );
}

export async function startSecureKafka(): Promise<SecureKafka> {
  const dir = join(ROOT, '.data', `secure-kafka-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const port = await freePort();
  const controllerPort = await freePort();
  const storePass = randomBytes(12).toString('hex');
  const admin = { username: 'admin', password: randomBytes(12).toString('hex') };
  const user = { username: 'sieve', password: randomBytes(12).toString('hex') };
  makeCertificates(dir, storePass);
  const config = join(dir, 'server.properties');
  writeFileSync(
    config,
    `process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}
controller.listener.names=CONTROLLER
listeners=SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=SASL_SSL://127.0.0.1:${port}
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin.username}" password="${admin.password}";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin.username}" password="${admin.password}" user_${admin.username}="${admin.password}" user_${user.username}="${user.password}";
ssl.keystore.type=PKCS12
ssl.keystore.location=${join(dir, 'keystore.p12')}
ssl.keystore.password=${storePass}
ssl.key.password=${storePass}
ssl.truststore.type=PKCS12
ssl.truststore.location=${join(dir, 'truststore.p12')}
ssl.truststore.password=${storePass}
ssl.client.auth=none
log.dirs=${join(dir, 'data')}
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
num.network.threads=2
num.io.threads=2
background.threads=2
`,
  );
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const log4j = [
    `-Dlog4j2.configurationFile=${join(ROOT, 'deploy', 'local', 'kafka', 'log4j2.yaml')}`,
    `-Dkafka.logs.dir=${join(dir, 'logs')}`,
  ];
  const clusterId = `A${randomBytes(15).toString('base64url').slice(0, 21)}`;
  const scram = (mech: string, u: { username: string; password: string }) => [
    '--add-scram',
    `${mech}=[name=${u.username},password=${u.password}]`,
  ];
  run(
    java,
    [
      '-Xmx256m',
      '-cp',
      `${LIBS}/*`,
      ...log4j,
      'kafka.tools.StorageTool',
      'format',
      '--standalone',
      `--cluster-id=${clusterId}`,
      '--config',
      config,
      ...scram('SCRAM-SHA-512', admin),
      ...scram('SCRAM-SHA-512', user),
      ...scram('SCRAM-SHA-256', user),
    ],
    dir,
  );
  const child: ChildProcess = spawn(
    java,
    ['-Xmx384m', '-Xms128m', '-XX:+UseG1GC', ...log4j, '-cp', `${LIBS}/*`, 'kafka.Kafka', config],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: false },
  );
  let out = '';
  for (const s of [child.stdout, child.stderr]) s?.on('data', (b: Buffer) => (out = (out + b).slice(-8000)));
  const log = () => {
    let server = '';
    try {
      server = readFileSync(join(dir, 'logs', 'server.log'), 'utf8').slice(-6000);
    } catch {}
    return `${out}\n${server}`;
  };
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
    ssl: { ca: [readFileSync(join(dir, 'ca.pem'), 'utf8')] },
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
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    user,
    dir,
    log,
    stop,
  };
}
