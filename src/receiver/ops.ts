/** The receiver's ops server: /healthz (process alive), /readyz (Kafka reachable), /metrics (Prometheus text). */
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import type { KafkaExporter } from '../kafka/exporter.js';

export interface OpsServerOptions {
  exporter: Pick<KafkaExporter, 'isReady'>;
  /** a Registry, or the receiver primary's view of its workers' registries */
  registry: Pick<Registry, 'contentType' | 'metrics'>;
  logger: pino.Logger;
}

/** Listen on 13133. */
export async function buildOpsServer(opts: OpsServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'ops' }),
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const kafka = opts.exporter.isReady();
    return reply
      .code(kafka ? 200 : 503)
      .send({ status: kafka ? 'ready' : 'not ready', kafka: kafka ? 'reachable' : 'unreachable' });
  });
  app.get('/metrics', async (_req, reply) => reply.type(opts.registry.contentType).send(await opts.registry.metrics()));
  return app as unknown as FastifyInstance;
}
