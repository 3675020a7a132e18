// The child -> parent stream: records, each a fixed header then a payload (RGB pixels for a frame,
// a JPEG file for a snapshot, UTF-8 JSON for a message). Little-endian throughout.
//
//  0 u32 magic "MSF1" | 4 u8 version | 5 u8 kind | 6 u8 stream | 7 u8 reserved | 8 u32 seq
// 12 f64 capture time, epoch ms | 20 u32 width | 24 u32 height | 28 u32 payload length
// `stream` is a frame's stream (the appsink it came from: the whole camera or a region); `seq`
// counts that stream's frames. Version 2 added the stream.
import { MstaError } from '../errors.js';

export const RECORD_MAGIC = 0x3146534d; // "MSF1" as little-endian bytes
export const RECORD_VERSION = 2;
/** Streams one child can send (the stream index is one byte). */
export const MAX_STREAMS = 256;
export const RECORD_HEADER_BYTES = 32;
/** Larger payloads mean a corrupt stream (8K RGB is 100 MB). */
export const MAX_PAYLOAD_BYTES = 128 * 1024 * 1024;

/** A snapshot's (jpeg) width and height are the JPEG's own; its stream and seq are 0. */
export const RecordKind = { frame: 1, message: 2, jpeg: 3 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export interface RecordHeader {
  kind: RecordKind;
  /** The frame stream (0 for messages). */
  stream: number;
  seq: number;
  capturedAt: number;
  width: number;
  height: number;
  length: number;
}

export function encodeRecordHeader(h: RecordHeader): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_BYTES);
  b.writeUInt32LE(RECORD_MAGIC, 0);
  b.writeUInt8(RECORD_VERSION, 4);
  b.writeUInt8(h.kind, 5);
  b.writeUInt8(h.stream, 6);
  b.writeUInt32LE(h.seq >>> 0, 8);
  b.writeDoubleLE(h.capturedAt, 12);
  b.writeUInt32LE(h.width, 20);
  b.writeUInt32LE(h.height, 24);
  b.writeUInt32LE(h.length, 28);
  return b;
}

/** Reads a header; throws SOURCE_FAILED on a wrong magic, version, kind or size. */
export function decodeRecordHeader(b: Uint8Array): RecordHeader {
  const view = Buffer.from(b.buffer, b.byteOffset, RECORD_HEADER_BYTES);
  const bad = (why: string) => new MstaError('SOURCE_FAILED', `corrupt frame stream from the source child: ${why}`);
  if (view.readUInt32LE(0) !== RECORD_MAGIC) throw bad('bad magic');
  const version = view.readUInt8(4);
  if (version !== RECORD_VERSION) throw bad(`version ${version}, expected ${RECORD_VERSION}`);
  const kind = view.readUInt8(5);
  if (kind !== RecordKind.frame && kind !== RecordKind.message && kind !== RecordKind.jpeg) throw bad(`unknown record kind ${kind}`);
  const h: RecordHeader = {
    kind,
    stream: view.readUInt8(6),
    seq: view.readUInt32LE(8),
    capturedAt: view.readDoubleLE(12),
    width: view.readUInt32LE(20),
    height: view.readUInt32LE(24),
    length: view.readUInt32LE(28),
  };
  if (h.length > MAX_PAYLOAD_BYTES) throw bad(`payload of ${h.length} bytes`);
  if (kind === RecordKind.frame && h.length !== h.width * h.height * 3) {
    throw bad(`frame of ${h.width}x${h.height} with ${h.length} bytes`);
  }
  return h;
}

export interface SourceRecord {
  header: RecordHeader;
  payload: Buffer;
}

/** Splits a byte stream into records; chunks may break anywhere, even inside a header. */
export class RecordParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: RecordHeader | undefined;

  /** Feeds one chunk; returns the records it completed, in order. */
  push(chunk: Buffer): SourceRecord[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: SourceRecord[] = [];
    for (;;) {
      if (!this.header) {
        if (this.buffered < RECORD_HEADER_BYTES) break;
        this.header = decodeRecordHeader(this.take(RECORD_HEADER_BYTES));
      }
      if (this.buffered < this.header.length) break;
      out.push({ header: this.header, payload: this.take(this.header.length) });
      this.header = undefined;
    }
    return out;
  }

  /** Bytes received but not yet part of a whole record (non-zero at end = truncated stream). */
  get pending(): number {
    return this.buffered + (this.header ? RECORD_HEADER_BYTES : 0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first && first.length >= n) {
      // The common case (a frame in one chunk) needs no copy.
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const used = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, used);
        filled += used;
        if (used === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(used);
      }
    }
    this.buffered -= n;
    return out;
  }
}
