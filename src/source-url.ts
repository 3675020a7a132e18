// Camera URLs: what kind of source each names. Shared: the config schema checks camera URLs with
// this same function the source uses to build its pipeline, so check-config and run agree.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMstaError, MstaError } from './errors.js';
import { redactUrlsIn } from './redact.js';

/** videotestsrc's pattern names (GStreamer 1.22). */
export const TEST_PATTERNS = [
  'smpte', 'snow', 'black', 'white', 'red', 'green', 'blue', 'checkers-1', 'checkers-2',
  'checkers-4', 'checkers-8', 'circular', 'blink', 'smpte75', 'zone-plate', 'gamut',
  'chroma-zone-plate', 'solid-color', 'ball', 'smpte100', 'bar', 'pinwheel', 'spokes',
  'gradient', 'colors', 'smpte-rp-219',
] as const;

export type SourceSpec =
  | { kind: 'rtsp'; url: string }
  | { kind: 'file'; path: string }
  | { kind: 'v4l2'; device: string }
  | { kind: 'test'; pattern: string; fps: number };

function invalid(url: string, why: string): MstaError {
  return new MstaError('SOURCE_URL_INVALID', `${why}: "${redactUrlsIn(url)}"`, { where: 'url' });
}

/**
 * rtsp:// and rtsps:// URLs; file:///abs/path or a plain path; v4l2:///dev/videoN or /dev/videoN;
 * test://<pattern>[?fps=N] (a live videotestsrc, for demos and tests).
 */
export function parseSourceUrl(url: string, cwd = process.cwd()): SourceSpec {
  const trimmed = url.trim();
  if (trimmed === '') throw invalid(url, 'empty camera URL');
  if (/^\/dev\/video\d+$/.test(trimmed)) return { kind: 'v4l2', device: trimmed };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    return { kind: 'file', path: isAbsolute(trimmed) ? trimmed : resolve(cwd, trimmed) };
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw invalid(url, 'malformed URL');
  }
  switch (scheme) {
    case 'rtsp':
    case 'rtsps':
      if (parsed.hostname === '') throw invalid(url, 'RTSP URL without a host');
      return { kind: 'rtsp', url: trimmed };
    case 'file':
      if (parsed.host !== '') throw invalid(url, 'file URL with a host (use file:///absolute/path)');
      try {
        return { kind: 'file', path: fileURLToPath(parsed) };
      } catch (e) {
        throw invalid(url, `not a file path (${(e as Error).message})`);
      }
    case 'v4l2': {
      let device: string;
      try {
        device = decodeURIComponent(parsed.pathname);
      } catch {
        throw invalid(url, 'malformed percent-encoding in the device path');
      }
      if (parsed.host !== '' || !device.startsWith('/dev/')) {
        throw invalid(url, 'V4L2 URL must name a device (v4l2:///dev/video0)');
      }
      return { kind: 'v4l2', device };
    }
    case 'test': {
      const pattern = parsed.hostname || 'smpte';
      if (!(TEST_PATTERNS as readonly string[]).includes(pattern)) {
        throw invalid(url, `unknown test pattern "${pattern}" (one of ${TEST_PATTERNS.join(', ')})`);
      }
      const fpsText = parsed.searchParams.get('fps') ?? '30';
      const fps = Number(fpsText);
      if (!Number.isInteger(fps) || fps < 1 || fps > 240) throw invalid(url, `fps must be an integer 1-240, got "${fpsText}"`);
      return { kind: 'test', pattern, fps };
    }
    default:
      throw invalid(url, `unsupported scheme "${scheme}" (rtsp, rtsps, file, v4l2, test or a file path)`);
  }
}

/** Why a camera URL would be refused (the config schema's check), or undefined when it is fine. */
export function sourceUrlProblem(url: string): string | undefined {
  try {
    parseSourceUrl(url);
    return undefined;
  } catch (e) {
    if (!isMstaError(e, 'SOURCE_URL_INVALID')) throw e;
    return e.where ? e.message.slice(e.where.length + 2) : e.message;
  }
}
