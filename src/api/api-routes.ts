// The JSON API under /api: event history and cameras. GET (and HEAD) only; every answer, errors
// included, is a JSON document (a snapshot, a camera's latest JPEG, is a JPEG).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventHistory, Snapshot } from '../types.js';
import { cameraJson, eventJson, type CameraView } from './api-json.js';
import { parseEventQuery } from './event-query.js';

export interface ApiDeps {
  /** Absent when the event history is disabled (events.enabled: false). */
  events: EventHistory | undefined;
  cameras: () => CameraView[];
  /**
   * The camera's newest JPEG (asking turns its live encoding on for a while), or undefined when
   * none came in time. Absent: no camera has live JPEGs.
   */
  latestSnapshot?: (camera: string) => Promise<Snapshot | undefined>;
  /** A request that failed inside (the database, say): answered 500, reported here. */
  onError: (e: Error, path: string) => void;
}

/** Handles the request if it is for /api; false leaves it to the server's other routes. */
export type Routes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`);
}

function notFound(res: ServerResponse, error: string): void {
  json(res, 404, { error });
}

const EVENT = /^\/api\/events\/([^/]+)(\/snapshot\.jpg)?$/;
const LATEST = /^\/api\/cameras\/([^/]+)\/latest\.jpg$/;

export function apiRoutes(deps: ApiDeps): Routes {
  return (req, res, url) => {
    const path = url.pathname;
    if (path !== '/api' && !path.startsWith('/api/')) return false;
    try {
      route(deps, req, res, path, url.searchParams);
    } catch (e) {
      deps.onError(e as Error, path);
      json(res, 500, { error: `internal error: ${(e as Error).message}` });
    }
    return true;
  };
}

function route(deps: ApiDeps, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
  if (path === '/api/cameras') {
    json(res, 200, { cameras: deps.cameras().map(cameraJson) });
    return;
  }
  const latest = LATEST.exec(path);
  if (latest) {
    latestJpeg(deps, req, res, latest[1]!);
    return;
  }
  if (path !== '/api/events' && !path.startsWith('/api/events/')) {
    notFound(res, `no such API path ${path}: try /api/events or /api/cameras`);
    return;
  }
  const events = deps.events;
  if (!events) {
    notFound(res, 'the event history is disabled (events.enabled: false)');
    return;
  }
  if (path === '/api/events') {
    const parsed = parseEventQuery(query);
    if ('problem' in parsed) json(res, 400, { error: `${parsed.problem.parameter}: ${parsed.problem.message}`, parameter: parsed.problem.parameter });
    else json(res, 200, { events: events.query(parsed.filter).map(eventJson) });
    return;
  }
  const m = EVENT.exec(path);
  let id: string | undefined;
  try {
    id = m ? decodeURIComponent(m[1]!) : undefined;
  } catch {
    id = undefined;
  }
  const event = id === undefined ? undefined : events.get(id);
  if (!m || !event) {
    notFound(res, m ? `no event ${m[1]}` : `no such API path ${path}`);
    return;
  }
  if (!m[2]) {
    json(res, 200, eventJson(event));
    return;
  }
  const snapshot = event.snapshot;
  if (!snapshot) {
    notFound(res, `event ${event.id} has no snapshot`);
    return;
  }
  // The file may have gone (deleted by hand, or by retention since the row was read).
  stat(snapshot.path).then(
    (s) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': s.size, 'cache-control': 'max-age=3600' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(snapshot.path).on('error', () => res.destroy()).pipe(res);
    },
    () => notFound(res, `the snapshot of event ${event.id} is gone`),
  );
}

function latestJpeg(deps: ApiDeps, req: IncomingMessage, res: ServerResponse, rawId: string): void {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = rawId;
  }
  const camera = deps.cameras().find((c) => c.id === id);
  if (!camera) {
    notFound(res, `no camera ${id} (cameras: ${deps.cameras().map((c) => c.id).join(', ') || 'none'})`);
    return;
  }
  if (!deps.latestSnapshot) {
    notFound(res, 'no live snapshots: the console is disabled and no camera has snapshots enabled');
    return;
  }
  deps.latestSnapshot(id).then(
    (s) => {
      if (res.destroyed) return;
      if (!s) {
        const state = camera.status?.state ?? 'connecting';
        notFound(res, `no snapshot of camera ${id} yet (it is ${state}): live encoding is on, ask again in a moment`);
        return;
      }
      res.writeHead(200, {
        'content-type': 'image/jpeg',
        'content-length': s.jpeg.length,
        'cache-control': 'no-store',
        'x-captured-at': new Date(s.capturedAt).toISOString(),
      });
      res.end(req.method === 'HEAD' ? undefined : s.jpeg);
    },
    (e: unknown) => {
      deps.onError(e as Error, `/api/cameras/${id}/latest.jpg`);
      json(res, 500, { error: `internal error: ${(e as Error).message}` });
    },
  );
}
