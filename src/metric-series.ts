// Labelled counters have no sample until their first increment, so increase() and rate() alerts
// see nothing at first. Stages pre-create each known series at 0 with this.
import type { Counter } from 'prom-client';

/** Creates every combination of the given label values at 0 (existing values are kept). */
export function zeroSeries<T extends string>(counter: Counter<T>, values: { [K in T]: readonly string[] }): void {
  let sets: Partial<Record<T, string>>[] = [{}];
  for (const name of Object.keys(values) as T[]) {
    sets = sets.flatMap((set) => values[name].map((v) => ({ ...set, [name]: v })));
  }
  for (const set of sets) counter.inc(set as Record<T, string>, 0);
}
