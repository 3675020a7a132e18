// Reading JPEGs in tests: the markers and the SOF0 frame size parsed from the bytes, and the
// pixels decoded by GStreamer's own jpegdec (a real decoder, no JavaScript one).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface JpegInfo {
  width: number;
  height: number;
  /** The frame marker: 0xc0 (baseline, SOF0) for jpegenc. */
  sof: number;
}

/** Parses SOI, the segments up to the frame header, and EOI at the end; throws on anything else. */
export function jpegInfo(b: Buffer): JpegInfo {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) throw new Error('no SOI marker at the start');
  if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) throw new Error('no EOI marker at the end');
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new Error(`no marker at byte ${i}`);
    const marker = b[i + 1]!;
    const length = b.readUInt16BE(i + 2);
    // SOF0..SOF15, less DHT (c4), JPG (c8) and DAC (cc).
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { sof: marker, height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  throw new Error('no frame header (SOF) before the end');
}

/** The JPEG's pixels, decoded by GStreamer (jpegdec) to packed RGB, row by row. */
export function jpegRgb(jpeg: Buffer): Buffer {
  const dir = tempDir('msta-jpeg-');
  try {
    const src = join(dir, 'in.jpg');
    const raw = join(dir, 'out.rgb');
    writeFileSync(src, jpeg);
    const r = spawnSync('gst-launch-1.0', ['-q', 'filesrc', `location=${src}`, '!', 'jpegdec', '!', 'videoconvert', '!', 'video/x-raw,format=RGB', '!', 'filesink', `location=${raw}`], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`jpegdec failed: ${r.stderr}`);
    return readFileSync(raw);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The JPEG's mean colour. */
export function jpegMeanRgb(jpeg: Buffer): [number, number, number] {
  const px = jpegRgb(jpeg);
  const sum = [0, 0, 0];
  for (let i = 0; i + 2 < px.length; i += 3) for (let c = 0; c < 3; c++) sum[c]! += px[i + c]!;
  const n = Math.floor(px.length / 3);
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}
