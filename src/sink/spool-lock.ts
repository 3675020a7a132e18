// One daemon per spool directory: `spool.lock` holds the owner's pid, created with O_EXCL. Two
// daemons on one spool would send and delete each other's records, so a second one is refused.
// A lock left by a dead process (SIGKILL, power loss) is taken over. Creating the lock is also
// the start-up probe that the directory can be written (and fsync'd).
import { open, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MstaError } from '../errors.js';

export const LOCK_FILE = 'spool.lock';

/** Lock files this process holds: the same pid in a lock file not held here is a previous life (a container's pid 1). */
const held = new Set<string>();

export interface SpoolLock {
  readonly path: string;
  /** Pid of the dead owner whose lock was taken over, if any. */
  readonly tookOverFrom: number | undefined;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function notWritable(dir: string, e: unknown): MstaError {
  const err = e as NodeJS.ErrnoException;
  return new MstaError('SPOOL_FAILED', `cannot write to the spool directory (${err.code ?? 'error'}: ${err.message}); events could not be kept during a broker outage`, {
    where: dir,
    cause: e,
  });
}

async function create(path: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await file.writeFile(`${process.pid}\n`);
    await file.sync();
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw e;
  }
  await file.close();
  return true;
}

/** Takes the spool directory's lock, or throws SPOOL_LOCKED (another live daemon) or SPOOL_FAILED (not writable). */
export async function lockSpool(dir: string): Promise<SpoolLock> {
  const path = resolve(dir, LOCK_FILE);
  if (held.has(path)) throw lockedError(dir, path, process.pid);
  let tookOverFrom: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      if (await create(path)) break;
    } catch (e) {
      throw notWritable(dir, e);
    }
    const text = await readFile(path, 'utf8').catch(() => '');
    const pid = Number.parseInt(text, 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw lockedError(dir, path, pid);
    // Stale (dead owner, our own pid from a previous life, or a half-written lock): take it over.
    if (attempt > 2) throw lockedError(dir, path, pid);
    tookOverFrom = Number.isInteger(pid) ? pid : undefined;
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw notWritable(dir, e);
    });
  }
  held.add(path);
  return {
    path,
    tookOverFrom,
    async release() {
      if (!held.delete(path)) return;
      await unlink(path).catch(() => undefined);
    },
  };
}

function lockedError(dir: string, path: string, pid: number): MstaError {
  return new MstaError(
    'SPOOL_LOCKED',
    `the spool directory is in use by another msta-edge (pid ${pid}, ${path}); give each daemon its own mqtt.spool.dir`,
    { where: dir },
  );
}
