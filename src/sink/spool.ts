// The on-disk spool: events wait here until the broker acknowledges them (PUBACK).
//
// One file per record, named by a monotonically increasing sequence number
// (0000000000000042.json), so directory order is delivery order and a restarted daemon finds
// its backlog by listing the directory. A record is written to `<name>.tmp`, fsync'd, renamed
// to its final name, and the directory fsync'd: a record is either complete under its final
// name or not there at all. A SIGKILL (or power loss) at any moment loses at most the record
// being written -- its .tmp leftover is deleted at the next open -- and never touches older
// records, which are never rewritten. Removal is an unlink; a removal lost to a crash only means
// the record is sent again (a duplicate with the same event id, as QoS 1 allows).
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MstaError } from '../errors.js';

export interface SpoolLimits {
  /** Most records kept; when a new one would exceed it, the oldest are dropped. */
  maxMessages: number;
  /** Most bytes of records kept (the newest record is always kept, whatever its size). */
  maxBytes: number;
}

export interface AppendResult {
  seq: number;
  /** Sequence numbers of the oldest records dropped to make room. */
  dropped: number[];
}

const RECORD = /^(\d{16})\.json$/;
const TMP = /\.tmp$/;

function recordName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.json`;
}

function spoolError(message: string, where: string, cause: unknown): MstaError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new MstaError('SPOOL_FAILED', `${message}: ${why}`, { where, cause });
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export class Spool {
  /** seq -> bytes, oldest first (appends are serialised and seqs only grow, so Map order is seq order). */
  private readonly records = new Map<number, number>();
  private totalBytes = 0;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private nextSeq: number,
  ) {}

  /** Opens (creating it if needed) the spool directory and indexes the records left there. */
  static async open(dir: string, limits: SpoolLimits): Promise<Spool> {
    let names: string[];
    try {
      await mkdir(dir, { recursive: true });
      names = await readdir(dir);
    } catch (e) {
      throw spoolError('cannot open the spool directory', dir, e);
    }
    const found: { seq: number; bytes: number }[] = [];
    for (const name of names) {
      const path = join(dir, name);
      try {
        if (TMP.test(name)) {
          await ignoreMissing(unlink(path));
          continue;
        }
        const m = RECORD.exec(name);
        if (m) found.push({ seq: Number(m[1]), bytes: (await stat(path)).size });
      } catch (e) {
        throw spoolError('cannot read the spool', path, e);
      }
    }
    found.sort((a, b) => a.seq - b.seq);
    const spool = new Spool(dir, limits, (found.at(-1)?.seq ?? -1) + 1);
    for (const r of found) spool.index(r.seq, r.bytes);
    return spool;
  }

  get messages(): number {
    return this.records.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Sequence numbers, oldest first. */
  seqs(): IterableIterator<number> {
    return this.records.keys();
  }

  has(seq: number): boolean {
    return this.records.has(seq);
  }

  /** Durably stores one record; resolves once it is on disk under its final name. */
  append(record: string): Promise<AppendResult> {
    const result = this.tail.then(() => this.write(Buffer.from(record, 'utf8')));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** The record, or undefined when it is gone (dropped or removed meanwhile). */
  async read(seq: number): Promise<string | undefined> {
    const path = join(this.dir, recordName(seq));
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.unindex(seq);
        return undefined;
      }
      throw spoolError('cannot read a spooled record', path, e);
    }
  }

  /** Deletes a record (delivered, or unusable); removing one already gone is not an error. */
  async remove(seq: number): Promise<void> {
    this.unindex(seq);
    const path = join(this.dir, recordName(seq));
    try {
      await ignoreMissing(unlink(path));
    } catch (e) {
      throw spoolError('cannot delete a spooled record', path, e);
    }
  }

  /** Resolves once every append started so far has finished. */
  async flushed(): Promise<void> {
    await this.tail;
  }

  private async write(data: Buffer): Promise<AppendResult> {
    const dropped: number[] = [];
    for (const [oldest] of this.records) {
      const full = this.records.size + 1 > this.limits.maxMessages || this.totalBytes + data.length > this.limits.maxBytes;
      if (!full) break;
      dropped.push(oldest);
      await this.remove(oldest);
    }
    const seq = this.nextSeq++;
    const path = join(this.dir, recordName(seq));
    const tmp = `${path}.tmp`;
    try {
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(data);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
      const dir = await open(this.dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (e) {
      await ignoreMissing(unlink(tmp)).catch(() => undefined);
      throw spoolError('cannot write a spooled record', path, e);
    }
    this.index(seq, data.length);
    return { seq, dropped };
  }

  private index(seq: number, bytes: number): void {
    this.records.set(seq, bytes);
    this.totalBytes += bytes;
  }

  private unindex(seq: number): void {
    const bytes = this.records.get(seq);
    if (bytes === undefined) return;
    this.records.delete(seq);
    this.totalBytes -= bytes;
  }
}
