// Opens the event-history database: creates its folder and tables, checks it is a sound SQLite
// file of a schema this version knows. A path that cannot hold a database is a configuration
// error (exit 2). A damaged file is moved aside and a new history started, as Home Assistant's
// recorder does: the history must never keep the daemon (and its events) from running, and the
// damaged file is kept for recovery.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MstaError } from '../errors.js';

/** Bumped with every change to the tables below (with a migration step from the previous one). */
export const SCHEMA_VERSION = 1;

// STRICT: a wrong type is an error, not a silent conversion. Times are epoch ms.
const CREATE = `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  camera TEXT NOT NULL,
  region TEXT,
  label TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  last_seen_at INTEGER NOT NULL,
  peak_score REAL NOT NULL,
  best_score REAL NOT NULL,
  top TEXT NOT NULL,
  model_name TEXT NOT NULL,
  model_sha256 TEXT NOT NULL,
  snapshot_path TEXT,
  snapshot_bytes INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS events_started ON events (started_at);
CREATE INDEX IF NOT EXISTS events_camera_started ON events (camera, started_at);
CREATE INDEX IF NOT EXISTS events_snapshots ON events (started_at, snapshot_bytes) WHERE snapshot_path IS NOT NULL;
`;

const WHERE = 'events.path';

/** SQLite's codes for a file that is not a database or is damaged. */
const DAMAGED = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

function sqliteCode(e: unknown): string {
  return (e as { code?: string }).code ?? 'error';
}

export interface OpenedEventDatabase {
  db: Database.Database;
  /** Where a damaged database was moved before a new one was started, and what was wrong with it. */
  movedAside?: { path: string; reason: string };
}

/** `<path>.corrupt.<UTC time>`; its -wal and -shm files go along. */
function moveAside(path: string, now: Date): string {
  const aside = `${path}.corrupt.${now.toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  }
  return aside;
}

export function openEventDatabase(path: string, now: () => Date = () => new Date()): OpenedEventDatabase {
  try {
    return { db: openSound(path) };
  } catch (e) {
    if (!(e instanceof DamagedDatabase)) throw e;
    let aside: string;
    try {
      aside = moveAside(path, now());
    } catch (m) {
      throw new MstaError('EVENTS_DB_FAILED', `${path} is not a sound SQLite database (${e.message}), and it cannot be moved aside: ${(m as Error).message}`, { where: WHERE, cause: e });
    }
    return { db: openSound(path), movedAside: { path: aside, reason: e.message } };
  }
}

class DamagedDatabase extends Error {}

function openSound(path: string): Database.Database {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw new MstaError('CONFIG_INVALID', `cannot create the folder for the event database ${path}: ${sqliteCode(e)}`, { where: WHERE, cause: e });
  }
  let db: Database.Database;
  try {
    // A lock held by another process (a sqlite3 shell writing) fails a write within 10 ms rather than
    // stalling the event loop (WAL: readers never block this writer).
    db = new Database(path, { timeout: 10 });
  } catch (e) {
    throw new MstaError('CONFIG_INVALID', `cannot open ${path} as the event database: ${(e as Error).message}`, { where: WHERE, cause: e });
  }
  try {
    // WAL: readers (the HTTP API) never wait for a write; NORMAL: a commit does not fsync (a power
    // cut may lose the last moments of history, never corrupt it).
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const check = db.pragma('quick_check', { simple: true });
    // Its first findings are enough to say what is wrong (there can be thousands of lines).
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check).split('\n').slice(0, 3).join('; ')}`), { code: 'SQLITE_CORRUPT' });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new MstaError('EVENTS_DB_FAILED', `${path} was written by a newer msta-edge (schema ${version}, this one knows ${SCHEMA_VERSION})`, { where: WHERE });
    }
    db.exec(CREATE);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return db;
  } catch (e) {
    db.close();
    if (e instanceof MstaError) throw e;
    const code = sqliteCode(e);
    if (DAMAGED.has(code)) throw new DamagedDatabase((e as Error).message);
    // A read-only file or folder, a directory in the way: the path is the problem.
    const badPath = ['SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM'].some((c) => code.startsWith(c));
    throw new MstaError(badPath ? 'CONFIG_INVALID' : 'EVENTS_DB_FAILED', `cannot use ${path} as the event database: ${code}: ${(e as Error).message}`, { where: WHERE, cause: e });
  }
}
