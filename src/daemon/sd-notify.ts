// systemd's notify protocol (Type=notify): datagrams to $NOTIFY_SOCKET. Silent when not under
// systemd. Node has no unix datagram sockets of its own, hence unix-dgram.
import { createRequire } from 'node:module';

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}

const require = createRequire(import.meta.url);

export interface Notifier {
  ready(status?: string): void;
  stopping(status?: string): void;
  status(status: string): void;
  /**
   * Starts WATCHDOG=1 pings at half of WATCHDOG_USEC when systemd asked for them, only while
   * healthy; a change of health is told in STATUS= (why, when unhealthy).
   */
  startWatchdog(health: () => { ok: boolean; reason?: string }): void;
  close(): void;
}

/** The socket path from NOTIFY_SOCKET ('@' = Linux abstract namespace), or undefined. */
export function notifySocketPath(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.NOTIFY_SOCKET;
  if (!raw) return undefined;
  return raw.startsWith('@') ? `\0${raw.slice(1)}` : raw;
}

/** Ping interval in ms: half of WATCHDOG_USEC, when it is meant for this process. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 1000 / 2));
}

export function createNotifier(env: NodeJS.ProcessEnv = process.env, onError: (e: Error) => void = () => undefined): Notifier {
  const path = notifySocketPath(env);
  let socket: UnixDgramSocket | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  if (path) {
    const unix = require('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };
    socket = unix.createSocket('unix_dgram');
    socket.on('error', onError);
  }
  const send = (message: string): void => {
    if (!socket || !path) return;
    const buf = Buffer.from(message);
    socket.send(buf, 0, buf.length, path, (err) => err && onError(err));
  };
  const withStatus = (line: string, status?: string): string => (status ? `${line}\nSTATUS=${status}` : line);
  return {
    ready: (status) => send(withStatus(`READY=1\nMAINPID=${process.pid}`, status)),
    stopping: (status) => send(withStatus('STOPPING=1', status)),
    status: (status) => send(`STATUS=${status}`),
    startWatchdog(health) {
      const every = watchdogIntervalMs(env);
      if (!socket || every === undefined) return;
      let wasOk = true;
      // A sick process stops pinging, so systemd restarts it.
      watchdog = setInterval(() => {
        const h = health();
        if (h.ok) send(wasOk ? 'WATCHDOG=1' : 'WATCHDOG=1\nSTATUS=healthy again');
        else if (wasOk) send(`STATUS=unhealthy: ${h.reason ?? 'unknown'}`);
        wasOk = h.ok;
      }, every);
      watchdog.unref();
    },
    close() {
      if (watchdog) clearInterval(watchdog);
      socket?.close();
      socket = undefined;
    },
  };
}
