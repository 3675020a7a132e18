import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRecordHeader, encodeRecordHeader, RECORD_HEADER_BYTES, RecordKind, RecordParser, type RecordHeader,
} from '../src/source/frame-record.js';
import { isMstaError } from '../src/errors.js';
import { seededRandom } from './support/seeded-random.js';

function frameRecord(seq: number, width: number, height: number, capturedAt: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (seq * 31 + i) & 0xff;
  return Buffer.concat([encodeRecordHeader({ kind: RecordKind.frame, stream: 0, seq, capturedAt, width, height, length: pixels.length }), pixels]);
}

function messageRecord(seq: number, text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([encodeRecordHeader({ kind: RecordKind.message, stream: 0, seq, capturedAt: 1, width: 0, height: 0, length: payload.length }), payload]);
}

test('a header round-trips, its stream and capture time with its milliseconds', () => {
  const h: RecordHeader = { kind: RecordKind.frame, stream: 3, seq: 4_000_000_000, capturedAt: 1_795_000_123_456, width: 224, height: 160, length: 224 * 160 * 3 };
  const b = encodeRecordHeader(h);
  assert.equal(b.length, RECORD_HEADER_BYTES);
  assert.equal(b.subarray(0, 4).toString('latin1'), 'MSF1');
  assert.deepEqual(decodeRecordHeader(b), h);
});

test('a corrupt header is refused with a reason', () => {
  const good = encodeRecordHeader({ kind: RecordKind.frame, stream: 0, seq: 0, capturedAt: 0, width: 2, height: 2, length: 12 });
  const cases: Array<[(b: Buffer) => void, RegExp]> = [
    [(b) => b.writeUInt32LE(0xdeadbeef, 0), /bad magic/],
    [(b) => b.writeUInt8(9, 4), /version 9/],
    // Version 1 had no stream index: a child and parent of different releases do not mix.
    [(b) => b.writeUInt8(1, 4), /version 1, expected 2/],
    [(b) => b.writeUInt8(7, 5), /kind 7/],
    [(b) => b.writeUInt32LE(13, 28), /2x2 with 13 bytes/],
    [(b) => { b.writeUInt8(RecordKind.message, 5); b.writeUInt32LE(0xffffffff, 28); }, /payload of/],
  ];
  for (const [spoil, why] of cases) {
    const b = Buffer.from(good);
    spoil(b);
    assert.throws(() => decodeRecordHeader(b), (e: unknown) => isMstaError(e, 'SOURCE_FAILED') && why.test(e.message));
  }
});

test('the parser rebuilds every record whatever the chunk boundaries', () => {
  const records = [frameRecord(0, 7, 5, 1000.5), messageRecord(1, '{"type":"eos"}'), frameRecord(2, 3, 1, 2000), frameRecord(3, 64, 48, 3000)];
  const stream = Buffer.concat(records);
  const random = seededRandom(42);
  for (let round = 0; round < 300; round++) {
    // Split points anywhere, including inside headers and one byte at a time.
    const maxChunk = round % 3 === 0 ? 1 + Math.floor(random() * 4) : 1 + Math.floor(random() * stream.length);
    const parser = new RecordParser();
    const got: Buffer[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = Math.min(stream.length - at, 1 + Math.floor(random() * maxChunk));
      for (const r of parser.push(stream.subarray(at, at + n))) got.push(Buffer.concat([encodeRecordHeader(r.header), r.payload]));
      at += n;
    }
    assert.equal(parser.pending, 0);
    assert.deepEqual(got, records);
  }
});

test('a stream cut inside a record leaves its bytes pending', () => {
  const parser = new RecordParser();
  const record = frameRecord(0, 4, 4, 1);
  assert.deepEqual(parser.push(record.subarray(0, 40)), []);
  assert.equal(parser.pending, 40);
  assert.equal(parser.push(record.subarray(40)).length, 1);
  assert.equal(parser.pending, 0);
});
