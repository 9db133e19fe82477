/**
 * Runs conformance scripts from the command line:
 * `node --import tsx test/promql/script/cli.ts [file.test ...] [-v] [--head]` (default: all files;
 * `--head` evaluates against a real head holding the loaded data).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScriptRunner } from './run.js';

const dir = fileURLToPath(new URL('../../../../shared/conformance/promql/', import.meta.url));
const args = process.argv.slice(2);
const verbose = args.includes('-v');
const useHead = args.includes('--head');
const names = args.filter((a) => !a.startsWith('-'));
const files = names.length ? names : readdirSync(dir).filter((f) => f.endsWith('.test')).sort();
let total = 0;
let all = 0;
for (const f of files) {
  const t0 = Date.now();
  const res = await new ScriptRunner(undefined, useHead).run(readFileSync(dir + f, 'utf8'));
  const pass = res.filter((r) => r.ok).length;
  total += pass;
  all += res.length;
  console.log(`${f.padEnd(28)} ${String(pass).padStart(4)} / ${res.length}  (${Date.now() - t0} ms)`);
  if (verbose) for (const r of res) if (!r.ok) console.log(`  ${f}:${r.line} ${r.expr}\n      ${r.reason?.split('\n').slice(0, 3).join('\n      ')}`);
}
console.log(`TOTAL ${total} / ${all}`);
