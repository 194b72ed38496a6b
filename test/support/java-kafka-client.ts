// Kafka's own Java client (test/support/java/KafkaCompressionClient.java, run from the jars the local
// broker runs from): the producer other services use, with each compression Kafka has.
//   produce <brokers> <file> <count> <topic>=<compression>…   count records of the file's bytes, one batch per topic
//   consume <brokers> <count> <topic>…                          "<topic> <sha256 of the value>" per record
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..', '..');
const KAFKA_LIBS = join(process.env.SIEVE_CACHE_DIR ?? join(ROOT, '.cache'), 'kafka', 'libs');
const JAVA_CLIENT = join(ROOT, 'test', 'support', 'java', 'KafkaCompressionClient.java');

/** Runs the Java client; its stdout lines. Needs Java 17+ and the local Kafka's jars (npm run services). */
export async function javaKafkaClient(...args: string[]): Promise<string[]> {
  const { stdout } = await promisify(execFile)('java', ['-cp', `${KAFKA_LIBS}/*`, JAVA_CLIENT, ...args], {
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.split('\n').filter(Boolean);
}
