// A loader for integration tests: one topic of spans into `database` on the local broker, with a
// silent logger, a registry of its own and short retries; a test passes what it varies (its own
// registry to read metrics from, the insert format, batch sizes, slower retries).
import pino from 'pino';
import { Registry } from 'prom-client';
import { type Loader, type LoaderOptions, startLoader } from '../../src/loader/loader.js';

export function startTestLoader(
  o: Pick<LoaderOptions, 'groupId' | 'client' | 'database'> & { topic: string } & Partial<LoaderOptions>,
): Promise<Loader> {
  const { topic, ...rest } = o;
  return startLoader({
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    topics: { [topic]: 'traces' },
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    retry: { initialMs: 50, maxMs: 200 },
    ...rest,
  });
}
