import { Counter, Gauge, type Registry } from 'prom-client';

export type ClientDropReason = 'slow' | 'full';
export type PhraseResult = 'embedded' | 'cached' | 'invalid' | 'rate_limited' | 'failed';

export interface ConsoleMetrics {
  clients(n: number): void;
  dropped(reason: ClientDropReason): void;
  phrase(result: PhraseResult): void;
  unauthorized(): void;
}

/** msta_console_*: live-feed clients, those dropped or refused, playground phrases, refused requests. */
export function registerConsoleMetrics(registry: Registry): ConsoleMetrics {
  const registers = [registry];
  const clients = new Gauge({ name: 'msta_console_clients', help: 'Live-feed (SSE) connections open', registers });
  const dropped = new Counter({
    name: 'msta_console_clients_dropped_total',
    help: 'Live-feed clients dropped (slow: too far behind) or refused (full: max_clients reached)',
    labelNames: ['reason'],
    registers,
  });
  const phrases = new Counter({ name: 'msta_console_phrases_total', help: 'Playground phrase requests, by result', labelNames: ['result'], registers });
  const unauthorized = new Counter({ name: 'msta_console_unauthorized_total', help: 'Console and /api requests refused for missing or wrong credentials', registers });
  // Zero from the start, so increase() sees the first one.
  for (const reason of ['slow', 'full'] as const) dropped.inc({ reason }, 0);
  for (const result of ['embedded', 'cached', 'invalid', 'rate_limited', 'failed'] as const) phrases.inc({ result }, 0);
  clients.set(0);
  return {
    clients: (n) => clients.set(n),
    dropped: (reason) => dropped.inc({ reason }),
    phrase: (result) => phrases.inc({ result }),
    unauthorized: () => unauthorized.inc(),
  };
}
