// Reloads one at a time: SIGHUPs that arrive while a reload runs become one more reload after it
// (which reads the newest config), never two reloads at once.

/**
 * Wraps `task` so that runs never overlap. A call while it runs schedules one more run after it;
 * further calls meanwhile join that one. Every call resolves when the run that covers it is done.
 */
export function coalescing(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const call = (): Promise<void> => {
    if (!running) {
      running = task().finally(() => (running = undefined));
      return running;
    }
    next ??= running.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      next = undefined;
      return call();
    });
    return next;
  };
  return call;
}
