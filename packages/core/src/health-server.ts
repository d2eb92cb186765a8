import { createServer, type Server } from 'node:http';

/** What `app.health()` reports. */
export interface HealthReport {
  /** `up`: connected, every consumer attached. `down`: starting, reconnecting or closing. `closed`: stopped. */
  status: 'up' | 'down' | 'closed';
  transport: string;
  connected: boolean;
  consumers: Array<{ consumer: string; queue: string; attached: boolean }>;
  lastError?: string;
}

/**
 * A tiny HTTP endpoint for container probes: `/healthz` (liveness: the process and the app are up,
 * even while reconnecting) and `/readyz` (readiness: connected and every consumer attached).
 * Both answer JSON; anything else is 404. Listens on 127.0.0.1 unless `host` says otherwise (in a
 * container whose probes come from outside, `host: '0.0.0.0'`); the report carries no credentials.
 */
export async function startHealthServer(report: () => HealthReport, options: { port: number; host?: string }): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const health = report();
    const ok = path === '/healthz' ? health.status !== 'closed' : health.status === 'up';
    response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(health));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback unless told otherwise: health output is for the probe on this host, not the network.
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}
