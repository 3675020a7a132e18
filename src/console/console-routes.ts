// HTTP for the console: the page at /, its files under /console/, the live feed /api/live
// (Server-Sent Events) and /api/phrase for the playground; and the guard that asks for credentials
// on the console and /api when the server is bound off loopback. /metrics, /healthz and /readyz are
// never guarded (Prometheus and systemd keep working as before).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAuthorized, isToken, TOKEN_COOKIE, type ConsoleSecrets } from './auth.js';
import type { ConsoleMetrics } from './console-metrics.js';
import type { ConsoleService } from './console-service.js';
import type { Phrase } from './live-feed.js';
import type { PageFile } from './page-files.js';

/** Answers the request (true), or leaves it to the server's other routes (false). */
export type Routes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

const OPEN = new Set(['/metrics', '/healthz', '/readyz']);

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(`${JSON.stringify(body)}\n`);
}

/** Refuses a guarded request without valid credentials (401); `/?token=` sets the token cookie. */
export function authGuard(secrets: ConsoleSecrets, metrics: ConsoleMetrics): Routes {
  const open = secrets.token === undefined && secrets.credentials === undefined;
  return (req, res, url) => {
    if (open || OPEN.has(url.pathname)) return false;
    const offered = url.searchParams.get('token');
    if (url.pathname === '/' && isToken(offered, secrets)) {
      // The token leaves the address bar (and the history) at once; the cookie carries it on.
      const cookie = `${TOKEN_COOKIE}=${encodeURIComponent(offered!)}; Path=/; HttpOnly; SameSite=Strict`;
      res.writeHead(303, { location: '/', 'set-cookie': cookie, 'cache-control': 'no-store' }).end();
      return true;
    }
    if (isAuthorized(req, secrets)) return false;
    metrics.unauthorized();
    const challenge: Record<string, string> = secrets.credentials !== undefined ? { 'www-authenticate': 'Basic realm="msta-edge", charset="UTF-8"' } : {};
    const ways = [...(secrets.token !== undefined ? ['Authorization: Bearer <token>', 'open /?token=<token> once'] : []), ...(secrets.credentials !== undefined ? ['basic auth'] : [])];
    json(res, 401, { error: `credentials required: ${ways.join(', or ')}` }, challenge);
    return true;
  };
}

export interface ConsoleRouteDeps {
  service: ConsoleService;
  files: Map<string, PageFile>;
  cameraIds(): string[];
  maxPhrases: number;
}

/** The client a rate limit counts: its address (a proxy in front would make every user one client). */
function clientOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function consoleRoutes(deps: ConsoleRouteDeps): Routes {
  return (req, res, url) => {
    const path = url.pathname;
    if (path === '/' || path === '/index.html' || path.startsWith('/console/')) {
      const file = deps.files.get(path.startsWith('/console/') ? path.slice('/console/'.length) : 'index.html');
      if (!file) json(res, 404, { error: `no console file ${path}` });
      else res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(req.method === 'HEAD' ? undefined : file.body);
      return true;
    }
    if (path === '/api/phrase') {
      const text = url.searchParams.get('text');
      if (text === null) {
        json(res, 400, { error: 'give the phrase as ?text=', parameter: 'text' });
        return true;
      }
      const camera = url.searchParams.get('camera') ?? undefined;
      if (camera !== undefined && !deps.cameraIds().includes(camera)) {
        json(res, 400, { error: `no camera "${camera}" (cameras: ${deps.cameraIds().join(', ') || 'none'})`, parameter: 'camera' });
        return true;
      }
      deps.service.phrases.resolve(clientOf(req), text, camera).then((a) => (a.ok ? json(res, 200, { phrase: a.phrase, cached: a.cached }) : json(res, a.status, { error: a.error, parameter: 'text' })));
      return true;
    }
    if (path === '/api/live') {
      void openLive(deps, req, res, url.searchParams);
      return true;
    }
    return false;
  };
}

async function openLive(deps: ConsoleRouteDeps, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const camera = query.get('camera') ?? undefined;
  if (camera !== undefined && !deps.cameraIds().includes(camera)) {
    json(res, 400, { error: `no camera "${camera}" (cameras: ${deps.cameraIds().join(', ') || 'none'})`, parameter: 'camera' });
    return;
  }
  const texts = query.getAll('phrase');
  if (texts.length > 0 && camera === undefined) {
    json(res, 400, { error: 'phrases are scored on one camera: give ?camera= too', parameter: 'camera' });
    return;
  }
  if (texts.length > deps.maxPhrases) {
    json(res, 400, { error: `at most ${deps.maxPhrases} phrases at once`, parameter: 'phrase' });
    return;
  }
  const phrases: Phrase[] = [];
  for (const text of texts) {
    const a = await deps.service.phrases.resolve(clientOf(req), text, camera);
    if (!a.ok) {
      json(res, a.status, { error: `phrase ${JSON.stringify(text.slice(0, 40))}: ${a.error}`, parameter: 'phrase' });
      return;
    }
    if (!phrases.some((p) => p.phrase === a.phrase)) phrases.push({ phrase: a.phrase, embedding: a.embedding });
  }
  if (req.destroyed) return;
  const client = await deps.service.open(req, res, { ...(camera !== undefined ? { camera } : {}), phrases });
  if (!client) json(res, 503, { error: 'too many live-feed clients (http.console.max_clients)' }, { 'retry-after': '5' });
}
