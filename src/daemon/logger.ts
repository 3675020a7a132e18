// Structured JSON logs (pino) to stdout / journald, human-readable on a terminal, with every secret
// scrubbed on the way out: URL passwords anywhere in a line, and the exact secret values given.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets, redactUrlsIn } from '../redact.js';

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Values that must never appear (MQTT password, camera passwords...). */
  secrets?: string[];
  /** Where lines go; stdout by default (tests pass their own). */
  destination?: NodeJS.WritableStream;
}

/** Replaces URL passwords and known secret values in every string of a log record. */
function scrubber(secrets: readonly string[]): (value: unknown) => unknown {
  const known = secrets.filter((s) => s.length >= 3);
  const scrubString = (s: string): string => redactSecrets(redactUrlsIn(s), known);
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubString(value);
    if (Array.isArray(value)) return value.map(scrub);
    if (value instanceof Error) return { type: value.name, message: scrubString(value.message), code: (value as { code?: unknown }).code };
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    }
    return value;
  };
  return scrub;
}

export function createLogger(options: LoggerOptions): Logger {
  const scrub = scrubber(options.secrets ?? []);
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true && !options.destination);
  const destination = usePretty
    ? pretty({ colorize: process.stdout.isTTY === true, sync: true, singleLine: true, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss.l' })
    : (options.destination ?? pino.destination({ fd: 1, sync: true }));
  return pino(
    {
      name: 'msta-edge',
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (record) => scrub(record) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? (scrub(a) as string) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
