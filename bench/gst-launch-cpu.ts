// CPU seconds of one gst-launch-1.0 run of a source pipeline description, its appsinks swapped for
// fakesinks: the pipeline's own cost, without the child's JavaScript. For bench/snapshot-branch.ts
// and bench/source-regions.ts.
import { spawnSync } from 'node:child_process';

export function gstLaunchCpuSeconds(description: string): number {
  const launched = description.replace(/appsink name=\S+ [^!]*?(?= t\.|$)/g, 'fakesink sync=false ');
  // The shell splits the description as gst-launch's own syntax would (quoted values stay whole).
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', 'sh', '-c', `gst-launch-1.0 -q ${launched}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gst-launch-1.0 failed: ${r.stderr.slice(-2000)}`);
  const [user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return user! + sys!;
}
