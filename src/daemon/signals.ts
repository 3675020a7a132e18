// Signals from the first moment of the process: main installs these handlers before it loads
// anything else, so a SIGTERM during start-up is never the default silent exit. A command that
// runs long (run) claims the signals; a signal that came before the claim is handed to it then.
export type HandledSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

const SIGNALS: HandledSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

export interface SignalRouter {
  /** From now on `handler` gets every signal; signals received before are replayed to it, in order. */
  claim(handler: (signal: HandledSignal) => void): void;
}

/**
 * Until a command claims them: SIGTERM and SIGINT end the process at once (nothing has started
 * that needs stopping) with a line on stderr and exit 0, as a clean stop does later; SIGHUP is
 * kept for the claimer (there is no running config to reload yet).
 */
export function installSignalRouter(write: (line: string) => void = (l) => process.stderr.write(l), exit: (code: number) => void = (c) => process.exit(c)): SignalRouter {
  let handler: ((signal: HandledSignal) => void) | undefined;
  const pending: HandledSignal[] = [];
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (handler) return handler(signal);
      if (signal === 'SIGHUP') {
        pending.push(signal);
        return;
      }
      write(`msta-edge: ${signal} during start-up, before anything started: exiting\n`);
      exit(0);
    });
  }
  return {
    claim(h) {
      handler = h;
      for (const signal of pending.splice(0)) h(signal);
    },
  };
}
