/**
 * `npm run bench [-- name...]`: runs each benchmark as its own process (so CPU and RSS numbers
 * are its own), prints progress on stderr, and writes every result to bench/results/<name>.json
 * plus bench/results/latest.json, which combines the newest result of every benchmark (those not
 * run this time keep their last one).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const names = wanted.length ? all.filter((n) => wanted.includes(n)) : all;
if (wanted.length && names.length !== wanted.length) {
  console.error(`unknown benchmark(s): ${wanted.filter((w) => !all.includes(w)).join(', ')}; known: ${all.join(', ')}`);
  process.exit(2);
}
const combined: Record<string, unknown> = {};
let failed = 0;
for (const [i, name] of names.entries()) {
  process.stderr.write(`\n=== [${i + 1}/${names.length}] ${name}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(dir, `${name}.bench.ts`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // A benchmark prints one JSON document on stdout (one line, or pretty-printed).
  const out = r.stdout.trim();
  let result: unknown;
  try {
    result = JSON.parse(out);
  } catch {
    try {
      result = JSON.parse(out.split('\n').filter(Boolean).at(-1) ?? '');
    } catch {
      result = undefined;
    }
  }
  if (r.status !== 0 || result === undefined) {
    failed++;
    combined[name] = { error: `exit ${r.status}` };
    continue;
  }
  const line = JSON.stringify(result);
  combined[name] = result;
  writeFileSync(join(dir, 'results', `${name}.json`), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`${name}: ${line}\n`);
}
const latest: Record<string, unknown> = {};
for (const n of all) {
  try {
    latest[n] = JSON.parse(readFileSync(join(dir, 'results', `${n}.json`), 'utf8'));
  } catch {
    // never run (or unreadable): left out
  }
}
Object.assign(latest, Object.fromEntries(Object.entries(combined).filter(([, v]) => (v as { error?: string }).error !== undefined)));
writeFileSync(join(dir, 'results', 'latest.json'), JSON.stringify({ date: new Date().toISOString(), results: latest }, null, 2) + '\n');
process.exit(failed ? 1 : 0);
