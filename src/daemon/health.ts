// What /healthz and the systemd watchdog mean by "alive": every part that must work for the
// daemon to do its job. Pure: the daemon gathers the inputs, this decides.
import type { Check } from '../metrics/http-server.js';
import type { CameraStatus } from '../types.js';

export interface ComponentCheck {
  ok: boolean;
  detail?: string;
}

export interface CameraHealth {
  camera: string;
  /** The source's last status (undefined before the first). */
  status: CameraStatus | undefined;
  /** Set once the camera's ingest ended on its own: a failure not retried, or a file's end. */
  ended: { failed: boolean; reason: string } | undefined;
  /** The camera's recognition (clips -> model -> events). */
  recognition: ComponentCheck;
}

/**
 * A camera is alive while its supervisor runs (streaming, connecting, stalled or offline in
 * reconnect backoff are all states it recovers from) and its recognition works. A supervisor
 * that gave up, or a recognition that died, is dead: restarting the daemon is the remedy left.
 * A file that played to its end did its job.
 */
export function cameraCheck(c: CameraHealth): ComponentCheck {
  if (c.ended?.failed) return { ok: false, detail: `dead: ${c.ended.reason}` };
  if (c.ended) return { ok: true, detail: `ended: ${c.ended.reason}` };
  if (!c.recognition.ok) return { ok: false, detail: `recognition: ${c.recognition.detail ?? 'failed'}` };
  const s = c.status;
  if (!s) return { ok: true, detail: 'starting' };
  return { ok: true, detail: s.reason && s.state !== 'streaming' ? `${s.state} (${s.reason})` : s.state };
}

/** `model`: the model's own account of its workers (whether they answer within the request timeout). */
export function daemonHealth(input: { eventLoop: ComponentCheck; model: ComponentCheck; cameras: CameraHealth[] }): Check {
  const checks: Check['checks'] = { event_loop: input.eventLoop, model: input.model };
  for (const c of input.cameras) checks[`camera:${c.camera}`] = cameraCheck(c);
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}
