import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client's default process and event-loop metrics, less the nodejs_active_*_total gauges:
 * a gauge named *_total fails `promtool check metrics` (the suffix is for counters). Their
 * non-_total twins carry the same numbers.
 */
const PROMTOOL_REJECTS = ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'];

/** The daemon's one registry; every stage registers its own metrics on it. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  for (const name of PROMTOOL_REJECTS) registry.removeSingleMetric(name);
  return registry;
}
