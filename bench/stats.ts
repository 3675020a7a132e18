// Shared by the bench scripts: min / median / max of repeats, and ratios against a baseline
// measured in the same run (the box may be shared: ratios hold up better than absolute figures).

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A copy of xs in a random order (Fisher-Yates): the order a repeat measures its subjects in. */
export function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** "min / median / max" of xs, each with `digits` decimals. */
export function spread(xs: number[], digits = 2): string {
  return `${Math.min(...xs).toFixed(digits)} / ${median(xs).toFixed(digits)} / ${Math.max(...xs).toFixed(digits)}`;
}

/** One figure line: the measured values, the baseline's, and their per-repeat ratios. */
export function report(name: string, unit: string, values: number[], baselineName: string, baseline: number[], digits = 2): void {
  const ratios = values.map((v, i) => v / baseline[i]!);
  console.log(`${name}: ${spread(values, digits)} ${unit} (min / median / max of ${values.length})`);
  console.log(`  ${baselineName}: ${spread(baseline, digits)} ${unit}`);
  console.log(`  ratio: ${spread(ratios, 2)}`);
}
