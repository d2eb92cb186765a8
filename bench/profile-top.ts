/**
 * `node bench/dist/profile-top.js <file.cpuprofile> [filter]`: the top self-time frames of a
 * `node --cpu-prof` profile, and self time summed per file, optionally only frames whose file path
 * contains `filter` (e.g. `packages/core`). The profiling recipe is in docs/performance.md.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function main(file: string, filter = ''): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const frames = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const path = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|packages|bench)\//, '$1/');
    if (filter && !url.includes(filter)) continue;
    const key = `${functionName || '(anonymous)'}  ${path || '(native)'}:${lineNumber + 1}`;
    frames.set(key, (frames.get(key) ?? 0) + micros);
    files.set(path || '(native)', (files.get(path || '(native)') ?? 0) + micros);
  }
  const show = (title: string, rows: Map<string, number>, count: number) => {
    console.log(`\n${title}`);
    for (const [key, micros] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      console.log(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${key}`);
    }
  };
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled${filter ? `, frames under "${filter}"` : ''}`);
  show('top self-time frames', frames, 30);
  show('self time by file', files, 15);
}

main(process.argv[2] ?? '', process.argv[3]);
