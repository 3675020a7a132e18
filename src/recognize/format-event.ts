import type { ActionEvent } from '../types.js';

/**
 * One readable terminal line for an event, e.g.
 * "2026-01-02T03:04:05.678Z cam1 start brush_hair 0.82 (top: brush_hair 0.82, clap 0.10)" (a region:
 * "cam1/door ...").
 * The time is the clip's last frame; an end also gives how long the action lasted.
 */
export function formatEventLine(e: ActionEvent): string {
  const top = e.top.map((t) => `${t.label} ${t.score.toFixed(2)}`).join(', ');
  const lasted = e.endedAt === null ? '' : ` after ${((e.endedAt - e.startedAt) / 1000).toFixed(1)} s`;
  const stream = e.region === null ? e.camera : `${e.camera}/${e.region}`;
  return `${new Date(e.clip.lastFrameAt).toISOString()} ${stream} ${e.type} ${e.label} ${e.score.toFixed(2)}${lasted} (top: ${top})`;
}
