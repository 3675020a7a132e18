// The demo's MQTT broker when none is configured: aedes in-process on loopback (MQTT 3.1.1 only).
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** Listens on 127.0.0.1:preferredPort, or on a free port when that one is taken. */
export async function startEmbeddedBroker(preferredPort = 1883): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  let port: number;
  try {
    port = await listen(server, preferredPort);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    port = await listen(server, 0);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        broker.close(() => server.close(() => resolve()));
        // Open client sockets would keep server.close() waiting.
        server.unref();
      }),
  };
}
