import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Event-loop responsiveness for /healthz: a heartbeat timer notes when it last ran; if the loop
 * is blocked, the heartbeat is late. (A blocked loop cannot answer /healthz at all, but a loop
 * that is merely very slow should report itself unhealthy rather than answer late forever.)
 */
export function watchEventLoop(maxLagMs = 2000): { ok(): { ok: boolean; detail: string }; stop(): void } {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let lastBeat = performance.now();
  const beat = setInterval(() => {
    lastBeat = performance.now();
  }, 500);
  beat.unref();
  return {
    ok() {
      const late = performance.now() - lastBeat - 500;
      const p99 = histogram.percentile(99) / 1e6;
      histogram.reset();
      return { ok: late < maxLagMs, detail: `event-loop delay p99 ${p99.toFixed(1)} ms since last check` };
    },
    stop() {
      clearInterval(beat);
      histogram.disable();
    },
  };
}
