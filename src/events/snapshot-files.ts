// Snapshot files of the event history: one JPEG per event, named by its id, in a folder beside the
// database. Written whole or not at all (a temporary file renamed), so a crash never leaves half a
// JPEG for the API to serve.
import { createHash } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The snapshot folder of an event database: `snapshots/` beside it. */
export function snapshotDirOf(databasePath: string): string {
  return join(dirname(databasePath), 'snapshots');
}

/** A file name for an event id: itself when it is plainly safe (UUIDs are), else a hash of it. */
export function snapshotFileName(id: string): string {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) ? `${id}.jpg` : `${createHash('sha256').update(id).digest('hex')}.jpg`;
}

/** Writes (or replaces) the event's snapshot; resolves with its path. */
export async function writeSnapshotFile(dir: string, id: string, jpeg: Buffer): Promise<string> {
  const path = join(dir, snapshotFileName(id));
  const partial = `${path}.${process.pid}.partial`;
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(partial, jpeg);
    await rename(partial, path);
  } catch (e) {
    await unlink(partial).catch(() => undefined);
    throw e;
  }
  return path;
}
