// Which metrics the deployment files (Grafana dashboard, Prometheus alert rules) query, so tests
// can hold them against what the daemon really exposes: DESIGN.md's list today, a live /metrics
// scrape where a test has one (metricNamesInExposition).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** One PromQL expression and where it was found, for error messages. */
export interface Query {
  where: string;
  expr: string;
}

/** A metric selector in a query: the metric name and the label names its matchers use. */
export interface Selector {
  metric: string;
  labels: string[];
}

/** Series Prometheus makes itself for every target; no exporter serves them. */
export const PROMETHEUS_SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_series_added']);

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);

/** The expression without string literals, so nothing inside quotes reads as a name. */
function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
}

/** Every metric name a PromQL expression reads (Grafana's $variables allowed). */
export function metricNamesInPromQL(expr: string): string[] {
  const stripped = withoutStrings(expr)
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  // A name preceded by a digit or '.' is part of a number or duration (1e3, 5m).
  for (const m of stripped.matchAll(/(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names];
}

/** Metric selectors with label matchers (`name{a="x", b=~"y"}`) and the label names they use. */
export function selectorsInPromQL(expr: string): Selector[] {
  const stripped = withoutStrings(expr);
  return [...stripped.matchAll(/(?<![\w.:])([A-Za-z_:][\w:]*)\s*\{([^}]*)\}/g)].map(([, metric, inner]) => ({
    metric: metric!,
    labels: [...inner!.matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!),
  }));
}

/** Grafana's label_values(expr, label): only the first argument is PromQL. */
function templateQueryExpr(query: string): string {
  const m = /^\s*label_values\s*\((.*),\s*\w+\s*\)\s*$/s.exec(query);
  if (m) return m[1]!;
  const q = /^\s*query_result\s*\((.*)\)\s*$/s.exec(query);
  return q ? q[1]! : query;
}

interface GrafanaPanel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: GrafanaPanel[];
}

interface GrafanaDashboard {
  panels?: GrafanaPanel[];
  templating?: { list?: Array<{ name?: string; type?: string; query?: string | { query?: string } }> };
}

/** Every panel, rows' nested panels included. */
export function dashboardPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...dashboardPanels({ panels: p.panels ?? [] })]);
}

/** The PromQL of every panel target and every query variable of a Grafana dashboard. */
export function dashboardQueries(dashboard: GrafanaDashboard): Query[] {
  const panels = dashboardPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).filter((t) => t.expr !== undefined).map((t) => ({ where: `panel "${p.title}" ${t.refId ?? ''}`.trim(), expr: t.expr! })),
  );
  const variables = (dashboard.templating?.list ?? [])
    .filter((v) => v.type === 'query')
    .map((v) => ({
      where: `variable $${v.name}`,
      expr: templateQueryExpr(typeof v.query === 'string' ? v.query : (v.query?.query ?? '')),
    }));
  return [...panels, ...variables];
}

/** The expression of every alerting and recording rule in a Prometheus rules file. */
export function ruleQueries(rulesYaml: string): Query[] {
  const doc = parseYaml(rulesYaml) as { groups?: Array<{ name: string; rules?: Array<{ alert?: string; record?: string; expr: string }> }> };
  return (doc.groups ?? []).flatMap((g) =>
    (g.rules ?? []).map((r) => ({ where: `rule ${r.alert ?? r.record} (group ${g.name})`, expr: String(r.expr) })),
  );
}

/** The queries of the repository's dashboard and alert rules (paths relative to `root`). */
export function deployQueries(root = '.'): Query[] {
  const dashboardFile = join(root, 'configs/grafana/dashboards/msta-edge.json');
  const rulesFile = join(root, 'configs/prometheus/alerts.yml');
  return [
    ...dashboardQueries(JSON.parse(readFileSync(dashboardFile, 'utf8')) as GrafanaDashboard).map((q) => ({ ...q, where: `${dashboardFile}: ${q.where}` })),
    ...ruleQueries(readFileSync(rulesFile, 'utf8')).map((q) => ({ ...q, where: `${rulesFile}: ${q.where}` })),
  ];
}

/**
 * Every metric the deployment files need the daemon to serve, each with where it is used;
 * Prometheus's own series (up, scrape_*) left out.
 */
export function deployMetricNames(root = '.'): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const q of deployQueries(root)) {
    for (const name of metricNamesInPromQL(q.expr)) {
      if (PROMETHEUS_SYNTHETIC.has(name)) continue;
      used.set(name, [...(used.get(name) ?? []), q.where]);
    }
  }
  return used;
}

/**
 * The series names a Prometheus text exposition (a /metrics body) can serve: every sample line's,
 * and from each `# TYPE` line the family's (with _bucket/_sum/_count for histograms, _sum/_count
 * for summaries), since a labelled metric not yet observed prints no sample at all.
 */
export function metricNamesInExposition(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([A-Za-z_:][\w:]*) (\w+)/.exec(line);
    if (type) {
      const [, family, kind] = type;
      const suffixes = kind === 'histogram' ? ['_bucket', '_sum', '_count'] : kind === 'summary' ? ['', '_sum', '_count'] : [''];
      for (const suffix of suffixes) names.add(family! + suffix);
      continue;
    }
    const sample = /^([A-Za-z_:][\w:]*)(?:\{|\s)/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}
