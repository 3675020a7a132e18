// Monitoring and example files in configs/: Prometheus config and alert rules through the real
// promtool, the Grafana dashboard's structure and queries, the metric names both use against
// DESIGN.md and prom-client's real default metrics, label sets and example configs through the
// real config schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadConfigFile, parseConfig } from '../src/config/load-config.js';
import { createRegistry } from '../src/metrics/create-registry.js';
import {
  dashboardPanels,
  dashboardQueries,
  deployMetricNames,
  deployQueries,
  metricNamesInPromQL,
  PROMETHEUS_SYNTHETIC,
  ruleQueries,
  metricNamesInExposition,
  selectorsInPromQL,
} from './support/metric-names.js';
import { tempDir } from './support/temp-dir.js';

const PROMTOOL = spawnSync('sh', ['-c', 'command -v promtool']).status === 0 ? undefined : 'promtool not installed (Debian package prometheus)';
const DESIGN = '../shared/DESIGN.md';
const DESIGN_MISSING = existsSync(DESIGN) ? undefined : `${DESIGN} not found (the shared design beside the checkout)`;
const DASHBOARD = 'configs/grafana/dashboards/msta-edge.json';
const ENV = { CAMERA_PASSWORD: 'x', MQTT_PASSWORD: 'y' };

/** Metrics the daemon serves beyond DESIGN.md's table (the stages register them). */
const EXTRA_METRICS: DesignMetric[] = [
  { name: 'msta_mqtt_spool_dropped_total', type: 'counter', labels: ['reason'] },
  { name: 'msta_inference_failures_total', type: 'counter', labels: ['model'] },
  { name: 'msta_camera_coverage_ratio', type: 'gauge', labels: ['camera', 'region'] },
  { name: 'msta_model_swaps_total', type: 'counter', labels: ['result'] },
  { name: 'msta_event_store_failures_total', type: 'counter', labels: ['op'] },
  { name: 'msta_mqtt_events_lost_total', type: 'counter', labels: ['reason'] },
  { name: 'msta_event_overhead_seconds', type: 'histogram', labels: ['camera'] },
  { name: 'msta_mqtt_event_ack_seconds', type: 'histogram', labels: [] },
];

interface DesignMetric {
  name: string;
  type: string;
  labels: string[];
}

/** The rows of DESIGN.md's "Metrics" table; "a / b" rows name two metrics with the same type and labels. */
function designMetrics(): DesignMetric[] {
  const text = readFileSync(DESIGN, 'utf8');
  const section = text.slice(text.indexOf('## Metrics'), text.indexOf('\n## ', text.indexOf('## Metrics') + 1));
  return section
    .split('\n')
    .filter((line) => /^\|\s*msta_/.test(line))
    .flatMap((line) => {
      const [names, type, labels] = line.split('|').slice(1, 4).map((c) => c.trim());
      return names!.split('/').map((name) => ({
        name: name.trim(),
        type: type!.split(/\s/)[0]!,
        labels: [...labels!.matchAll(/[a-z_]+/g)].map((m) => m[0]),
      }));
    });
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Grafana's variables replaced by values Prometheus accepts. */
function asPromQL(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, '.*');
}

test('metricNamesInPromQL finds metric names, not functions, labels, keywords, durations or variables', () => {
  const expr = `histogram_quantile(0.95, sum by (le, provider) (rate(a_seconds_bucket{camera=~"$camera", x="b_total"}[$__rate_interval])))
    / ignoring(job) group_left b_total offset 5m > bool 1e3 and on (instance) (c == 0) unless label_replace(d, "dst", "$1", "src", "(.*)")`;
  assert.deepEqual(metricNamesInPromQL(expr).sort(), ['a_seconds_bucket', 'b_total', 'c', 'd']);
  assert.deepEqual(selectorsInPromQL('rate(a{camera=~"x=y", reason!="z"}[5m]) + b{job="j"}'), [
    { metric: 'a', labels: ['camera', 'reason'] },
    { metric: 'b', labels: ['job'] },
  ]);
  assert.deepEqual(
    metricNamesInExposition('# HELP a x\n# TYPE a histogram\na_bucket{le="1"} 1\na_sum 2\n# TYPE b_total counter\n# TYPE s summary\nup 1\n'),
    new Set(['a_bucket', 'a_sum', 'a_count', 'b_total', 's', 's_sum', 's_count', 'up']),
  );
});

test('prometheus.yml and alerts.yml pass promtool check config / check rules', { skip: PROMTOOL }, () => {
  const config = promtool('check', 'config', 'configs/prometheus/prometheus.yml');
  assert.equal(config.status, 0, config.output);
  assert.match(config.output, /SUCCESS: 1 rule files found/);
  const rules = promtool('check', 'rules', 'configs/prometheus/alerts.yml');
  assert.equal(rules.status, 0, rules.output);
});

test('the alert rules fire on the situations they name and stay quiet otherwise (promtool test rules)', { skip: PROMTOOL }, () => {
  const run = promtool('test', 'rules', 'configs/prometheus/alerts.test.yml');
  assert.equal(run.status, 0, run.output);
  // Every alert has at least one firing case in the unit tests.
  const tests = parseYaml(readFileSync('configs/prometheus/alerts.test.yml', 'utf8')) as {
    tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
  };
  const tested = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
  const alerts = ruleQueries(readFileSync('configs/prometheus/alerts.yml', 'utf8')).map((q) => /^rule (\S+)/.exec(q.where)![1]!);
  assert.deepEqual(alerts.filter((a) => !tested.has(a)), [], 'alerts without a firing test');
  for (const wanted of ['MstaCameraDown', 'MstaCameraStalled', 'MstaDroppedClipRatioHigh', 'MstaInferenceLatencyHigh', 'MstaSpoolGrowing', 'MstaMqttDisconnected', 'MstaEdgeRestarted', 'MstaEdgeDown']) {
    assert.ok(alerts.includes(wanted), `missing alert ${wanted}`);
  }
});

test('the dashboard parses, every panel queries Prometheus through the datasource variable, and none overlap', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    templating: { list: Array<{ name: string; type: string; query?: string | { query?: string } }> };
    panels: Array<{ id: number; type: string; title: string; datasource?: { uid: string }; gridPos: { x: number; y: number; w: number; h: number }; targets?: Array<{ expr?: string; datasource?: { uid: string } }> }>;
  };
  assert.equal(dashboard.uid, 'msta-edge');
  const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  assert.equal(variables.get('datasource')?.type, 'datasource');
  assert.equal(variables.get('datasource')?.query, 'prometheus');
  const panels = dashboardPanels(dashboard) as typeof dashboard.panels;
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const queryPanels = panels.filter((p) => p.type !== 'row');
  assert.ok(queryPanels.length >= 15, `${queryPanels.length} panels`);
  for (const p of queryPanels) {
    assert.ok(p.targets && p.targets.length > 0, `panel "${p.title}" has no query`);
    for (const t of p.targets) {
      assert.ok(t.expr && t.expr.trim() !== '', `panel "${p.title}" has an empty query`);
      assert.equal(t.datasource?.uid, '${datasource}', `panel "${p.title}" target datasource`);
    }
    assert.equal(p.datasource?.uid, '${datasource}', `panel "${p.title}" datasource`);
    const g = p.gridPos;
    assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `panel "${p.title}" fits the 24-column grid`);
  }
  for (const [i, a] of panels.entries()) {
    for (const b of panels.slice(i + 1)) {
      const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w
        && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
      assert.ok(!overlap, `panels "${a.title}" and "${b.title}" overlap`);
    }
  }
  // Every $variable a query uses is defined (or one of Grafana's own).
  for (const q of dashboardQueries(dashboard)) {
    for (const [, name] of q.expr.matchAll(/\$\{?(\w+)\}?/g)) {
      assert.ok(variables.has(name!) || name!.startsWith('__'), `${q.where}: undefined variable $${name}`);
    }
  }
  // What the issue asks the dashboard to show.
  const all = dashboardQueries(dashboard).map((q) => q.expr).join('\n');
  for (const needed of [
    'rate(msta_source_frames_total', 'msta_source_frames_dropped_total', 'msta_source_up', 'msta_inference_seconds_bucket',
    'by (le, provider)', 'msta_events_total', 'by (label)', 'msta_event_latency_seconds_bucket', 'msta_mqtt_spool_messages',
    'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds',
  ]) {
    assert.ok(all.includes(needed), `the dashboard has no query with ${needed}`);
  }
});

test("every dashboard query is valid PromQL for Prometheus's own parser", { skip: PROMTOOL }, () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Parameters<typeof dashboardQueries>[0];
  const queries = dashboardQueries(dashboard);
  // Recording rules are the one place promtool parses arbitrary expressions.
  const dir = tempDir('msta-dashboard-');
  const file = join(dir, 'queries.yml');
  writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: asPromQL(q.expr) })) }] }));
  const run = promtool('check', 'rules', file);
  assert.equal(run.status, 0, `${run.output}\n${queries.map((q, i) => `${i}: ${q.where}`).join('\n')}`);
  assert.match(run.output, new RegExp(`SUCCESS: ${queries.length} rules found`));
});

test('every metric the dashboard and the alert rules use is one the daemon serves (DESIGN.md, the extras, prom-client defaults)', { skip: DESIGN_MISSING }, async () => {
  const design = [...designMetrics(), ...EXTRA_METRICS];
  assert.ok(design.some((m) => m.name === 'msta_event_latency_seconds' && m.type === 'histogram'), 'DESIGN.md table read');
  const known = new Map<string, DesignMetric>();
  for (const m of design) {
    known.set(m.name, m);
    if (m.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) known.set(m.name + suffix, m);
  }
  // prom-client's defaults as the daemon's registry really serves them (less what promtool rejects).
  const defaults = metricNamesInExposition(await createRegistry().metrics());
  const used = deployMetricNames();
  assert.ok(used.size >= 15, `${used.size} metrics used`);
  const unknown = [...used].filter(([name]) => !known.has(name) && !defaults.has(name)).map(([name, where]) => `${name} (${where[0]})`);
  assert.deepEqual(unknown, [], 'metrics used that the daemon does not serve');
  // Label matchers only use labels the metric has, or the scrape's own.
  const scrapeLabels = new Set(['job', 'instance']);
  for (const q of deployQueries()) {
    for (const s of selectorsInPromQL(q.expr)) {
      const metric = known.get(s.metric);
      if (!metric) continue;
      const allowed = new Set([...metric.labels, ...scrapeLabels, ...(s.metric.endsWith('_bucket') ? ['le'] : [])]);
      for (const label of s.labels) assert.ok(allowed.has(label), `${q.where}: ${s.metric} has no label "${label}"`);
    }
  }
  for (const q of deployQueries()) {
    for (const name of metricNamesInPromQL(q.expr).filter((n) => PROMETHEUS_SYNTHETIC.has(n))) {
      assert.match(q.expr, /job="msta-edge"/, `${q.where}: ${name} must be limited to the msta-edge job`);
    }
  }
});

test('label sets are what the config accepts as labels, with descriptions, and unique names', () => {
  const files = readdirSync('configs/labels').filter((f) => f.endsWith('.yaml'));
  assert.deepEqual(files.sort(), ['elder-care.yaml', 'home-safety.yaml', 'retail.yaml']);
  for (const f of files) {
    const where = `configs/labels/${f}`;
    const doc = parseYaml(readFileSync(where, 'utf8')) as { template?: string; actions: Array<{ name: string; descriptions?: string[] }> };
    assert.deepEqual(Object.keys(doc).filter((k) => k !== 'template' && k !== 'actions'), [], `${where}: only template and actions`);
    // The config schema's own `labels` section validates template and actions (strict: unknown keys fail).
    const config = parseConfig(stringifyYaml({ labels: doc }), { file: join(process.cwd(), where), env: {} });
    const actions = config.labels.actions.map((a) => (typeof a === 'string' ? { name: a, descriptions: [] } : a));
    assert.ok(actions.length >= 5, `${where}: ${actions.length} actions`);
    const names = actions.map((a) => a.name);
    assert.equal(new Set(names).size, names.length, `${where}: duplicate action names`);
    for (const a of actions) {
      assert.ok(a.descriptions.length >= 1, `${where}: "${a.name}" has no description`);
      for (const d of a.descriptions) assert.ok(d.split(/\s+/).length <= 20, `${where}: "${d}" is not a short sentence`);
    }
  }
});

test('example configs pass check-config, use existing label files, and write only under the systemd unit\'s directories', () => {
  const examples = readdirSync('configs').filter((f) => /^msta-edge-.*\.yaml$/.test(f));
  assert.deepEqual(examples.sort(), ['msta-edge-cpu.yaml', 'msta-edge-jetson.yaml']);
  for (const f of examples) {
    const config = loadConfigFile(join('configs', f), ENV);
    for (const file of config.labels.files) assert.ok(existsSync(file), `${f}: label file ${file} does not exist`);
    // The engine cache only matters where TensorRT is asked for.
    const writable = [config.mqtt.spool.dir, config.labels.cache_dir, config.events.path, ...(config.model!.providers.includes('tensorrt') ? [config.model!.tensorrt.engine_cache_dir] : [])];
    for (const dir of writable) assert.match(dir, /^\/var\/(lib|cache)\/msta-edge\//, `${f}: ${dir} is read-only under ProtectSystem=strict`);
    assert.equal(config.http.listen, '127.0.0.1:9464', `${f}: metrics on loopback by default`);
  }
  const cpu = loadConfigFile('configs/msta-edge-cpu.yaml', ENV);
  assert.deepEqual(cpu.model?.providers, ['cpu']);
  assert.ok(cpu.cameras.length >= 2);
  const jetson = loadConfigFile('configs/msta-edge-jetson.yaml', ENV);
  assert.deepEqual(jetson.model?.providers, ['tensorrt', 'cuda', 'cpu']);
  assert.equal(jetson.model?.tensorrt.fp16, true);
  assert.match(jetson.model!.tensorrt.engine_cache_dir, /^\/var\/cache\/msta-edge\//);
  assert.ok(jetson.cameras.length >= 6);
  assert.ok(jetson.cameras.every((c) => c.decoder === 'nvv4l2decoder' || c.decoder === 'auto'));
  assert.equal(loadConfigFile('configs/msta-edge.yaml', ENV).cameras.length, 1);
  assert.ok(examples.every((f) => basename(f).startsWith('msta-edge-')));
});
