// The msta-edge console: plain DOM, no build step. One EventSource (/api/live) carries the state
// every second, each clip's top-k scores (and this page's playground phrases), and action events.

/** @param {string} tag @param {Record<string, unknown>} [attrs] @param {...(Node|string|null|undefined)} children */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const pct = (/** @type {number} */ x) => `${Math.round(x * 100)}%`;
const time = (/** @type {string|number|null} */ t) => (t === null ? '' : new Date(t).toLocaleTimeString());

const ui = {
  /** @type {any} */ config: null,
  /** @type {any} */ state: null,
  /** stream (camera, or camera/region) -> latest top-k */ top: new Map(),
  /** @type {{phrase: string, score: number|null, smoothed: number|null, above: number, active: boolean, starts: number, yaml: boolean}[]} */ phrases: [],
  /** id -> event row data (live events) */ events: new Map(),
  history: false,
  /** @type {ReturnType<typeof setTimeout>|undefined} */ reload: undefined,
  /** @type {EventSource|null} */ source: null,
};

function bar(/** @type {string} */ name, /** @type {number|null} */ score, /** @type {{start?: number, end?: number}} */ marks = {}) {
  return h(
    'li',
    { class: 'bar', 'data-label': name, 'data-score': score === null ? '' : score.toFixed(4) },
    h('span', { class: 'name', title: name }, name),
    h(
      'span',
      { class: 'track', role: 'meter', 'aria-label': `${name} score`, 'aria-valuemin': 0, 'aria-valuemax': 1, 'aria-valuenow': score ?? 0 },
      h('span', { class: 'fill', style: `display:block;width:${pct(score ?? 0)}` }),
      marks.start !== undefined ? h('span', { class: 'mark start', style: `left:${pct(marks.start)}`, title: 'start' }) : null,
      marks.end !== undefined ? h('span', { class: 'mark end', style: `left:${pct(marks.end)}`, title: 'end' }) : null,
    ),
    h('span', { class: 'num' }, score === null ? '–' : score.toFixed(2)),
  );
}

function renderSystem() {
  const s = ui.state?.system;
  if (!s) return;
  const ms = s.inference_ms;
  const items = [
    ['Model', s.model],
    ['Provider', s.provider],
    ['Inference p50 / p99', ms ? `${ms.p50.toFixed(1)} / ${ms.p99.toFixed(1)} ms` : '–'],
    ['Clips dropped', String(s.clips_dropped)],
    ['MQTT', s.mqtt_connected ? 'connected' : 'disconnected'],
    ['Spool', `${s.spool_messages} events`],
    ['Version', s.version],
  ];
  $('system').replaceChildren(...items.map(([k, v]) => h('div', { 'data-key': k }, h('dt', {}, k), h('dd', {}, v))));
}

/** @type {Map<string, HTMLImageElement>} camera -> its live snapshot, kept across renders (no flicker) */
const liveViews = new Map();

/**
 * The camera's newest JPEG, asked again a moment after each one loads while the page is visible:
 * the daemon encodes JPEGs only while someone asks (or the camera's snapshots are enabled).
 */
function liveView(/** @type {string} */ id) {
  let img = liveViews.get(id);
  if (img) return img;
  const view = /** @type {HTMLImageElement} */ (h('img', { class: 'live', alt: `live view of ${id}`, 'data-state': 'none' }));
  img = view;
  liveViews.set(id, view);
  const next = (/** @type {number} */ ms) => setTimeout(refresh, ms);
  function refresh() {
    // Its camera left the page: stop asking.
    if (!view.isConnected) return void liveViews.delete(id);
    if (document.hidden) return void next(1000);
    view.src = `/api/cameras/${encodeURIComponent(id)}/latest.jpg?t=${Date.now()}`;
  }
  view.addEventListener('load', () => {
    view.dataset.state = 'live';
    next(300);
  });
  // None yet (the daemon just started encoding) or the camera is down: try again in a while.
  view.addEventListener('error', () => {
    view.dataset.state = 'none';
    next(2000);
  });
  next(0); // once it is on the page
  return view;
}

/** A camera's latest top-k bars: one list for the whole camera, or one per region (headed by its name). */
function streamBars(/** @type {string} */ camera) {
  const lists = [];
  for (const [stream, top] of ui.top) {
    const region = stream === camera ? null : stream.startsWith(`${camera}/`) ? stream.slice(camera.length + 1) : undefined;
    if (region === undefined) continue;
    const where = region === null ? camera : `${camera}, region ${region}`;
    if (region !== null) lists.push(h('h4', { class: 'region' }, region));
    lists.push(h('ul', { class: 'bars', 'aria-label': `top scores on ${where}` }, ...top.map((/** @type {any} */ t) => bar(t.label, t.score))));
  }
  return lists;
}

function renderCameras() {
  const cams = ui.state?.cameras ?? [];
  if (cams.length === 0) return;
  $('cameras').replaceChildren(
    ...cams.map((/** @type {any} */ c) =>
      h(
        'article',
        { class: 'card', 'data-camera': c.id, 'aria-label': `camera ${c.id}` },
        h('h3', {}, c.id, h('span', { class: `badge state state-${c.state}`, title: c.reason ?? '' }, c.state)),
        liveView(c.id),
        h(
          'p',
          { class: 'facts' },
          h('span', {}, `${c.fps.toFixed(1)} fps`),
          h('span', {}, `drops ${c.frames_dropped + c.clips_dropped}`),
          h('span', {}, c.provider),
          c.reconnects ? h('span', {}, `${c.reconnects} reconnects`) : null,
        ),
        h('p', { class: 'action' }, c.action ? `${c.action.label}${c.action.region ? ` in ${c.action.region}` : ''} (${c.action.score.toFixed(2)}) since ${time(c.action.since)}` : 'no action'),
        ...streamBars(c.id),
      ),
    ),
  );
  for (const id of ['pg-camera', 'ev-camera']) {
    const sel = /** @type {HTMLSelectElement} */ ($(id));
    const have = new Set([...sel.options].map((o) => o.value));
    for (const c of cams) if (!have.has(c.id)) sel.append(h('option', { value: c.id }, c.id));
  }
}

function thresholds() {
  return { start: Number(/** @type {HTMLInputElement} */ ($('pg-start')).value), end: Number(/** @type {HTMLInputElement} */ ($('pg-end')).value) };
}

function yamlFor(/** @type {string} */ phrase) {
  const { start, end } = thresholds();
  const lines = ['labels:', '  actions:', `    - name: ${JSON.stringify(phrase)}`, `      threshold: ${start.toFixed(2)}`];
  if (ui.config && end !== ui.config.recognition.end) lines.push('recognition:', `  end: ${end.toFixed(2)}  # for every label`);
  return lines.join('\n');
}

/** Rebuilds the phrase list (added, removed, YAML shown): buttons keep their place for the keyboard. */
function renderPhrases() {
  $('phrases').replaceChildren(
    ...ui.phrases.map((p, i) => {
      const fires = h('span', { class: 'fires' });
      const bars = h('ul', { class: 'bars' });
      const pre = p.yaml ? h('pre', { 'aria-label': 'YAML to add this label' }) : null;
      views.set(p, { fires, bars, pre });
      return h(
        'li',
        { class: 'card phrase', 'data-phrase': p.phrase },
        h(
          'div',
          { class: 'head' },
          h('strong', {}, p.phrase),
          fires,
          h('span', {},
            h('button', { type: 'button', class: 'plain', 'data-yaml': i, 'aria-expanded': String(p.yaml), onclick: () => {
              p.yaml = !p.yaml;
              renderPhrases();
              /** @type {HTMLElement|null} */ (document.querySelector(`[data-yaml="${i}"]`))?.focus();
            } }, 'YAML'),
            h('button', { type: 'button', class: 'plain', 'aria-label': `remove ${p.phrase}`, onclick: () => (ui.phrases.splice(i, 1), connect()) }, 'Remove'),
          ),
        ),
        bars,
        pre,
      );
    }),
  );
  updatePhrases();
}

/** @type {WeakMap<object, {fires: HTMLElement, bars: HTMLElement, pre: HTMLElement|null}>} */
const views = new WeakMap();

/** New scores or thresholds: the bars, the would-fire state and the YAML, in place. */
function updatePhrases() {
  const { start, end } = thresholds();
  $('pg-start-v').textContent = start.toFixed(2);
  $('pg-end-v').textContent = end.toFixed(2);
  for (const p of ui.phrases) {
    const v = views.get(p);
    if (!v) continue;
    v.fires.className = `fires${p.active ? ' active' : ''}`;
    v.fires.textContent = p.active ? `would be active (started ${p.starts}×)` : `idle (started ${p.starts}×)`;
    v.bars.replaceChildren(bar('smoothed', p.smoothed, { start, end }), bar('this clip', p.score));
    if (v.pre) v.pre.textContent = yamlFor(p.phrase);
  }
}

/** The recognizer's hysteresis, replayed on the phrase's scores with the sliders' thresholds. */
function scorePhrase(/** @type {typeof ui.phrases[number]} */ p, /** @type {number} */ score) {
  const r = ui.config?.recognition ?? { smoothing: 0.5, min_clips: 2 };
  const { start, end } = thresholds();
  p.score = score;
  p.smoothed = p.smoothed === null ? score : r.smoothing * score + (1 - r.smoothing) * p.smoothed;
  if (!p.active) {
    p.above = p.smoothed >= start ? p.above + 1 : 0;
    if (p.above >= r.min_clips) {
      p.active = true;
      p.starts++;
    }
  } else if (p.smoothed < end) {
    p.active = false;
    p.above = 0;
  }
}

function renderEvents() {
  if (ui.history) return;
  const rows = [...ui.events.values()].sort((a, b) => b.started - a.started).slice(0, 100);
  $('events').replaceChildren(...rows.map(eventRow));
}

/** The event's snapshot large, in a dialog (Escape or Close returns to the table). */
function showSnapshot(/** @type {string} */ url, /** @type {string} */ what) {
  const img = /** @type {HTMLImageElement} */ ($('snapshot-img'));
  img.src = url;
  img.alt = what;
  /** @type {any} */ ($('snapshot')).showModal();
}

function eventRow(/** @type {{id: string, camera: string, label: string, started: number, ended: number|null, peak: number, snapshot?: string|null}} */ e) {
  const dur = e.ended === null ? 'active' : `${((e.ended - e.started) / 1000).toFixed(1)} s`;
  const what = `${e.label} on ${e.camera} at ${time(e.started)}`;
  const thumb = e.snapshot
    ? h('button', { type: 'button', class: 'thumb', 'aria-label': `show the snapshot of ${what}`, onclick: () => showSnapshot(/** @type {string} */ (e.snapshot), what) }, h('img', { src: e.snapshot, alt: '', loading: 'lazy' }))
    : null;
  return h('tr', { 'data-event': e.id }, h('td', {}, thumb), h('td', {}, e.camera), h('td', {}, e.label), h('td', {}, time(e.started)), h('td', {}, e.ended === null ? '' : time(e.ended)), h('td', {}, dur), h('td', {}, e.peak.toFixed(2)));
}

/** The event database (/api/events) when the daemon has one; otherwise this page's live events. */
async function loadHistory() {
  const q = new URLSearchParams({ limit: '100' });
  const cam = /** @type {HTMLSelectElement} */ ($('ev-camera')).value;
  const label = /** @type {HTMLInputElement} */ ($('ev-label')).value.trim();
  const region = /** @type {HTMLInputElement} */ ($('ev-region')).value.trim();
  const since = /** @type {HTMLInputElement} */ ($('ev-since')).value;
  if (cam) q.set('camera', cam);
  if (label) q.set('label', label);
  if (region) q.set('region', region);
  if (since) q.set('since', new Date(since).toISOString());
  let res;
  try {
    res = await fetch(`/api/events?${q}`);
  } catch {
    return;
  }
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (res.ok && body && Array.isArray(body.events)) {
    ui.history = true;
    $('ev-form').hidden = false;
    $('ev-source').textContent = 'From the event database, newest first.';
    $('events').replaceChildren(
      ...body.events.map((/** @type {any} */ e) => eventRow({ id: e.id, camera: e.camera + (e.region ? `/${e.region}` : ''), label: e.label, started: Date.parse(e.started_at), ended: e.ended_at === null ? null : Date.parse(e.ended_at), peak: e.peak_score, snapshot: e.snapshot_url })),
    );
  } else if (res.status === 400 && body) {
    $('ev-source').textContent = `Filter refused: ${body.error}`;
  } else {
    ui.history = false;
    $('ev-source').textContent = 'Live events: the daemon’s latest 50, then as they happen (this daemon keeps no event history).';
    renderEvents();
  }
}

function onAction(/** @type {any} */ e) {
  const row = ui.events.get(e.id) ?? { id: e.id, camera: e.camera, label: e.label, started: Date.parse(e.started_at), ended: null, peak: 0 };
  row.peak = Math.max(row.peak, e.score);
  if (e.type === 'end') row.ended = Date.parse(e.ended_at);
  ui.events.set(e.id, row);
  if (ui.history) {
    // The history writes in batches: read it a moment later, once per burst of events.
    clearTimeout(ui.reload);
    ui.reload = setTimeout(() => void loadHistory(), 1500);
  } else renderEvents();
}

function connect() {
  ui.source?.close();
  const q = new URLSearchParams();
  const cam = /** @type {HTMLSelectElement} */ ($('pg-camera')).value;
  // The playground's settings (labels, thresholds) are the chosen camera's own.
  if (cam) q.set('camera', cam);
  for (const p of ui.phrases) q.append('phrase', p.phrase);
  const es = new EventSource(`/api/live${q.size ? `?${q}` : ''}`);
  ui.source = es;
  es.addEventListener('open', () => ($('feed').textContent = 'live'));
  es.addEventListener('error', () => ($('feed').textContent = 'live feed lost: reconnecting…'));
  es.addEventListener('config', (m) => {
    const first = ui.config === null;
    ui.config = JSON.parse(m.data);
    if (first) {
      /** @type {HTMLInputElement} */ ($('pg-start')).value = String(ui.config.recognition.start);
      /** @type {HTMLInputElement} */ ($('pg-end')).value = String(ui.config.recognition.end);
      /** @type {HTMLInputElement} */ ($('pg-phrase')).maxLength = ui.config.max_phrase_chars;
    }
    renderPhrases();
  });
  es.addEventListener('state', (m) => {
    ui.state = JSON.parse(m.data);
    renderSystem();
    renderCameras();
  });
  es.addEventListener('clip', (m) => {
    const c = JSON.parse(m.data);
    ui.top.set(c.region ? `${c.camera}/${c.region}` : c.camera, c.top);
    if (c.camera === /** @type {HTMLSelectElement} */ ($('pg-camera')).value) $('pg-labels').replaceChildren(...streamBars(c.camera));
    for (const s of c.phrases ?? []) {
      const p = ui.phrases.find((x) => x.phrase === s.phrase);
      if (p) scorePhrase(p, s.score);
    }
    renderCameras();
    if (c.phrases) updatePhrases();
  });
  es.addEventListener('action', (m) => onAction(JSON.parse(m.data)));
  renderPhrases();
}

async function addPhrase(/** @type {SubmitEvent} */ ev) {
  ev.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($('pg-phrase'));
  const err = $('pg-error');
  const text = input.value.trim();
  err.hidden = true;
  if (!text || ui.phrases.some((p) => p.phrase === text)) return;
  if (ui.config && ui.phrases.length >= ui.config.max_phrases) {
    err.textContent = `At most ${ui.config.max_phrases} phrases at once: remove one first.`;
    err.hidden = false;
    return;
  }
  // Embedded as a label of the chosen camera would be (its labels' template).
  const cam = /** @type {HTMLSelectElement} */ ($('pg-camera')).value;
  const res = await fetch(`/api/phrase?text=${encodeURIComponent(text)}${cam ? `&camera=${encodeURIComponent(cam)}` : ''}`);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) {
    err.textContent = body.error;
    err.hidden = false;
    return;
  }
  ui.phrases.push({ phrase: body.phrase, score: null, smoothed: null, above: 0, active: false, starts: 0, yaml: false });
  input.value = '';
  connect();
}

$('phrase-form').addEventListener('submit', (e) => void addPhrase(/** @type {SubmitEvent} */ (e)));
$('pg-camera').addEventListener('change', () => {
  for (const p of ui.phrases) Object.assign(p, { score: null, smoothed: null, above: 0, active: false, starts: 0 });
  connect();
  $('pg-labels').replaceChildren();
  updatePhrases();
});
for (const id of ['pg-start', 'pg-end']) $(id).addEventListener('input', updatePhrases);
$('ev-form').addEventListener('submit', (e) => (e.preventDefault(), void loadHistory()));
connect();
void loadHistory();
