// /metrics, /healthz and /readyz; everything else on the port is a 404.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MstaError } from '../errors.js';

export interface Check {
  ok: boolean;
  /** Per-component reasons, served as JSON so an operator sees why. */
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface HttpEndpoints {
  registry: Registry;
  /** Alive: the process answers and its event loop is responsive. */
  health: () => Check;
  /** Ready: model loaded, MQTT connected or spooling, at least one camera streaming. */
  ready: () => Check;
}

function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

export async function startHttpServer(listen: string, endpoints: HttpEndpoints): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      endpoints.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': endpoints.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`),
      );
      return;
    }
    const check = path === '/healthz' ? endpoints.health : path === '/readyz' ? endpoints.ready : undefined;
    if (!check) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
      return;
    }
    const result = check();
    res.writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(result)}\n`);
  });
  const { host, port } = parseListen(listen);
  await new Promise<void>((resolve, reject) => {
    // EADDRINUSE, EADDRNOTAVAIL, EACCES: the configured address, named, not a stack trace.
    const failed = (e: NodeJS.ErrnoException): void => {
      const why = e.code === 'EADDRINUSE' ? 'the address is already in use (another msta-edge or service on that port?)' : e.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : `${e.code ?? e.message}`;
      reject(new MstaError('HTTP_LISTEN_FAILED', `cannot listen on ${listen}: ${why}`, { where: 'http.listen', cause: e }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    server,
    address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
