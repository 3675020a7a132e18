// The on-disk spool: events wait here until the broker acknowledges them (PUBACK).
//
// One file per record, named by a monotonically increasing sequence number
// (0000000000000042.json), so directory order is delivery order and a restarted daemon finds
// its backlog by listing the directory. A record is written to `<name>.tmp`, fsync'd, renamed
// to its final name, and the directory fsync'd: a record is either complete under its final
// name or not there at all. A SIGKILL (or power loss) at any moment loses at most the records
// being written -- their .tmp leftovers are deleted at the next open -- and never touches older
// records, which are never rewritten. Removal is an unlink; a removal lost to a crash only means
// the record is sent again (a duplicate with the same event id, as QoS 1 allows).
//
// A record is indexed (and readable, from memory) the moment it is appended, while its write
// goes on in the background: the sink publishes it at once instead of waiting for two fsyncs.
// A record removed (acknowledged) before its write has started is never written; one removed
// during its write is deleted when the write ends. A record whose write fails stays in memory
// until it is removed, so a connected daemon still delivers it.
//
// A record that cannot be read or parsed is moved to `bad/` (or, if even that fails, skipped
// for this run) so that it never blocks the ones behind it. `spool.lock` keeps a second daemon out.
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MstaError } from '../errors.js';
import { lockSpool, type SpoolLock } from './spool-lock.js';

export interface SpoolLimits {
  /** Most records kept; when a new one would exceed it, the oldest are dropped. */
  maxMessages: number;
  /** Most bytes of records kept (the newest record is always kept, whatever its size). */
  maxBytes: number;
}

export interface SpoolOptions extends SpoolLimits {
  /** A background failure nobody awaits (deleting a dropped record). */
  onError?: (e: MstaError) => void;
}

export interface AppendResult {
  seq: number;
  /** Sequence numbers of the oldest records dropped to make room. */
  dropped: number[];
  /**
   * true once the record is on disk; false when it was removed (delivered) before that; rejects
   * with SPOOL_FAILED when the write failed (the record then lives in memory only, unless removed).
   */
  durable: Promise<boolean>;
}

interface Entry {
  bytes: number;
  /** The record while it is not (yet) on disk. */
  data: Buffer | undefined;
  state: 'writing' | 'durable' | 'memory';
  removed: boolean;
}

/** Where unusable records are moved, inside the spool directory. */
export const BAD_DIR = 'bad';

const RECORD = /^(\d{16})\.json$/;
const TMP = /\.tmp$/;

function recordName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.json`;
}

function spoolError(message: string, where: string, cause: unknown): MstaError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new MstaError('SPOOL_FAILED', `${message}: ${why}`, { where, cause });
}

/** The errno code behind a spool error (ENOSPC, EROFS, EACCES, ...), if any. */
export function spoolErrno(e: unknown): string | undefined {
  const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class Spool {
  /** seq -> entry, oldest first (seqs only grow, so Map order is seq order). */
  private readonly records = new Map<number, Entry>();
  private totalBytes = 0;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly options: SpoolOptions,
    private nextSeq: number,
    readonly lock: SpoolLock,
  ) {}

  /**
   * Opens (creating it if needed) and locks the spool directory, checks it can be written, and
   * indexes the records left there. SPOOL_LOCKED when another live daemon holds it.
   */
  static async open(dir: string, options: SpoolOptions): Promise<Spool> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw spoolError('cannot open the spool directory', dir, e);
    }
    const lock = await lockSpool(dir);
    try {
      const names = await readdir(dir);
      const found: { seq: number; bytes: number }[] = [];
      for (const name of names) {
        const path = join(dir, name);
        if (TMP.test(name)) {
          await ignoreMissing(unlink(path));
          continue;
        }
        const m = RECORD.exec(name);
        // A record that cannot even be stat'ed is indexed anyway: reading it fails, and moves it aside.
        if (m) found.push({ seq: Number(m[1]), bytes: await stat(path).then((s) => s.size, () => 0) });
      }
      found.sort((a, b) => a.seq - b.seq);
      const spool = new Spool(dir, options, (found.at(-1)?.seq ?? -1) + 1, lock);
      for (const r of found) spool.index(r.seq, { bytes: r.bytes, data: undefined, state: 'durable', removed: false });
      return spool;
    } catch (e) {
      await lock.release();
      throw spoolError('cannot read the spool directory', dir, e);
    }
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

  /** Records whose write failed: they are lost if the process ends before they are delivered. */
  get memoryOnly(): number {
    let n = 0;
    for (const e of this.records.values()) if (e.state === 'memory') n++;
    return n;
  }

  /** Indexes one record at once (readable from memory) and stores it durably in the background. */
  append(record: string): AppendResult {
    const data = Buffer.from(record, 'utf8');
    const dropped: number[] = [];
    for (const [oldest] of this.records) {
      const full = this.records.size + 1 > this.options.maxMessages || this.totalBytes + data.length > this.options.maxBytes;
      if (!full) break;
      dropped.push(oldest);
      this.remove(oldest).catch((e: unknown) => this.options.onError?.(e as MstaError));
    }
    const seq = this.nextSeq++;
    const entry: Entry = { bytes: data.length, data, state: 'writing', removed: false };
    this.index(seq, entry);
    const durable = this.tail.then(() => this.write(seq, entry));
    this.tail = durable.catch(() => undefined);
    return { seq, dropped, durable };
  }

  /** The record, or undefined when it is gone (dropped or removed meanwhile). Throws SPOOL_FAILED when it cannot be read. */
  async read(seq: number): Promise<string | undefined> {
    const entry = this.records.get(seq);
    if (!entry) return undefined;
    if (entry.data) return entry.data.toString('utf8');
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

  /** Deletes a record (delivered, or dropped); removing one already gone is not an error. */
  async remove(seq: number): Promise<void> {
    const entry = this.records.get(seq);
    if (!entry) return;
    this.unindex(seq);
    entry.removed = true;
    // A record still being written is deleted by its writer; a memory-only one has no file.
    if (entry.state !== 'durable') return;
    const path = join(this.dir, recordName(seq));
    try {
      await ignoreMissing(unlink(path));
    } catch (e) {
      throw spoolError('cannot delete a spooled record', path, e);
    }
  }

  /**
   * Takes an unusable record out of the spool: moved to `bad/` when possible (true), else left
   * where it is and skipped until the next start (false).
   */
  async moveAside(seq: number): Promise<boolean> {
    const entry = this.records.get(seq);
    this.unindex(seq);
    if (entry && entry.state !== 'durable') return false;
    const name = recordName(seq);
    try {
      await mkdir(join(this.dir, BAD_DIR), { recursive: true });
      await rename(join(this.dir, name), join(this.dir, BAD_DIR, name));
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once every append started so far has finished. */
  async flushed(): Promise<void> {
    await this.tail;
  }

  /** Waits for pending writes and releases the lock. */
  async close(): Promise<void> {
    await this.flushed();
    await this.lock.release();
  }

  private async write(seq: number, entry: Entry): Promise<boolean> {
    // Delivered before its turn came: nothing to keep.
    if (entry.removed) return false;
    const path = join(this.dir, recordName(seq));
    const tmp = `${path}.tmp`;
    try {
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(entry.data!);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
    } catch (e) {
      await ignoreMissing(unlink(tmp)).catch(() => undefined);
      // Even when the record is gone meanwhile (delivered), a disk that fails must be known.
      if (!entry.removed) entry.state = 'memory';
      throw spoolError('cannot write a spooled record', path, e);
    }
    if (entry.removed) {
      // Acknowledged while it was being written.
      await ignoreMissing(unlink(path)).catch((e: unknown) => this.options.onError?.(spoolError('cannot delete a spooled record', path, e)));
      return false;
    }
    // From here remove() deletes the file itself.
    entry.state = 'durable';
    entry.data = undefined;
    // The file is complete under its name; only its survival of a power loss is in doubt.
    await syncDir(this.dir).catch((e: unknown) => this.options.onError?.(spoolError('cannot sync the spool directory', this.dir, e)));
    return true;
  }

  private index(seq: number, entry: Entry): void {
    this.records.set(seq, entry);
    this.totalBytes += entry.bytes;
  }

  private unindex(seq: number): void {
    const entry = this.records.get(seq);
    if (entry === undefined) return;
    this.records.delete(seq);
    this.totalBytes -= entry.bytes;
  }
}
