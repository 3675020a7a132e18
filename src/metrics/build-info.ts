// msta_build_info: constant 1, its labels say what is running (Prometheus' *_build_info convention),
// so a dashboard can show the version and an alert can join on it.
import { Gauge, type Registry } from 'prom-client';

export function registerBuildInfo(registry: Registry, info: { version: string; node: string }): void {
  new Gauge({ name: 'msta_build_info', help: 'msta-edge version and the Node.js it runs on; always 1', labelNames: ['version', 'node'], registers: [registry] }).set(info, 1);
}
