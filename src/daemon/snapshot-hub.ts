// Each camera's recent JPEGs in the daemon: a short ring (for the JPEG nearest an event's key
// frame) and the newest (the console's live view, /api/cameras/<id>/latest.jpg). Asking for the
// newest turns the camera's live encoding on for a while (a lease renewed by every request), so
// JPEGs are encoded only while someone watches, unless the camera's snapshots are enabled.
import type { Subscription } from 'rxjs';
import type { Snapshot } from '../types.js';

/** What the hub needs of a camera's source. */
export interface SnapshotSource {
  snapshots: { subscribe(next: (s: Snapshot) => void): Subscription };
  setLiveSnapshots(on: boolean): void;
}

export interface SnapshotHubOptions {
  /** JPEGs older than this leave the ring. */
  ringMs: number;
  /** ...and at most this many stay (a high snapshots.fps). */
  ringMax: number;
  /** Live encoding stays on this long after the last request for the newest JPEG. */
  liveLeaseMs: number;
  /** The newest JPEG is served when captured this recently; otherwise the next one is awaited. */
  freshMs: number;
  /** How long a request waits for the next JPEG. */
  waitMs: number;
  now?: () => number;
}

/** The JPEG captured nearest `at`, if one is within `maxDistanceMs` of it. Pure. */
export function nearestSnapshot(ring: readonly Snapshot[], at: number, maxDistanceMs: number): Snapshot | undefined {
  let best: Snapshot | undefined;
  for (const s of ring) if (!best || Math.abs(s.capturedAt - at) < Math.abs(best.capturedAt - at)) best = s;
  return best && Math.abs(best.capturedAt - at) <= maxDistanceMs ? best : undefined;
}

interface CameraJpegs {
  source: SnapshotSource;
  sub: Subscription;
  ring: Snapshot[];
  liveUntil: number;
  /** Live encoding asked of the source (until the lease ends). */
  live: boolean;
  leaseTimer: NodeJS.Timeout | undefined;
  waiters: Set<(s: Snapshot) => void>;
}

export class SnapshotHub {
  private readonly cameras = new Map<string, CameraJpegs>();
  private readonly now: () => number;

  constructor(private readonly options: SnapshotHubOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts keeping the camera's JPEGs (a restarted camera replaces its old source). */
  attach(camera: string, source: SnapshotSource): void {
    this.detach(camera);
    const c: CameraJpegs = { source, ring: [], liveUntil: 0, live: false, leaseTimer: undefined, waiters: new Set(), sub: undefined as unknown as Subscription };
    c.sub = source.snapshots.subscribe((s) => this.add(c, s));
    this.cameras.set(camera, c);
  }

  detach(camera: string): void {
    const c = this.cameras.get(camera);
    if (!c) return;
    c.sub.unsubscribe();
    clearTimeout(c.leaseTimer);
    this.cameras.delete(camera);
  }

  close(): void {
    for (const camera of [...this.cameras.keys()]) this.detach(camera);
  }

  /** The camera's JPEG nearest `at` (an event's key frame). */
  nearest(camera: string, at: number, maxDistanceMs: number): Snapshot | undefined {
    const c = this.cameras.get(camera);
    return c ? nearestSnapshot(c.ring, at, maxDistanceMs) : undefined;
  }

  /** Someone watches: live encoding on for the lease (renewed). */
  watch(camera: string): void {
    const c = this.cameras.get(camera);
    if (!c) return;
    c.liveUntil = this.now() + this.options.liveLeaseMs;
    if (!c.live) {
      c.live = true;
      c.source.setLiveSnapshots(true);
      this.scheduleLeaseEnd(c);
    }
  }

  /** The newest JPEG: a fresh one at hand, or the next within waitMs; undefined for an unknown camera or none. */
  async latest(camera: string): Promise<Snapshot | undefined> {
    const c = this.cameras.get(camera);
    if (!c) return undefined;
    this.watch(camera);
    const newest = c.ring.at(-1);
    if (newest && this.now() - newest.capturedAt <= this.options.freshMs) return newest;
    return new Promise((resolve) => {
      const done = (s: Snapshot | undefined): void => {
        clearTimeout(timer);
        c.waiters.delete(done);
        resolve(s);
      };
      const timer = setTimeout(() => done(undefined), this.options.waitMs);
      c.waiters.add(done);
    });
  }

  private add(c: CameraJpegs, s: Snapshot): void {
    c.ring.push(s);
    const oldest = s.capturedAt - this.options.ringMs;
    let drop = Math.max(0, c.ring.length - this.options.ringMax);
    while (drop < c.ring.length && c.ring[drop]!.capturedAt < oldest) drop++;
    if (drop > 0) c.ring.splice(0, drop);
    for (const w of [...c.waiters]) w(s);
  }

  private scheduleLeaseEnd(c: CameraJpegs): void {
    clearTimeout(c.leaseTimer);
    c.leaseTimer = setTimeout(() => {
      if (c.liveUntil > this.now()) this.scheduleLeaseEnd(c);
      else {
        c.live = false;
        c.source.setLiveSnapshots(false);
      }
    }, Math.max(10, c.liveUntil - this.now()));
    c.leaseTimer.unref();
  }
}
