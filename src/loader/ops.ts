import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Loader } from './loader.js';

/** /healthz, /readyz, /metrics for the loader (default port 13134). */
export function buildLoaderOpsServer(loader: () => Loader | undefined, registry: Registry): Server {
  return createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200).end('ok');
    if (req.url === '/readyz') {
      const ok = loader()?.isReady() ?? false;
      return void res.writeHead(ok ? 200 : 503).end(ok ? 'ready' : 'not ready');
    }
    if (req.url === '/metrics') {
      registry.metrics().then(
        (t) => res.writeHead(200, { 'content-type': registry.contentType }).end(t),
        (e) => res.writeHead(500).end(String(e)),
      );
      return;
    }
    res.writeHead(404).end();
  });
}
