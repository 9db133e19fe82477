/**
 * The rules corpus evaluated by vigil and by real Prometheus 2.42, side by side, both as servers:
 * the same generated series (test/rules/corpus-data.ts, ~SERIES of them, 1 h of 30 s samples)
 * remote-written into both, then the same rule files (the corpus, PrometheusRule CRDs unwrapped to
 * plain groups, the one rule promtool also rejects left out) loaded with a 30 s evaluation interval.
 * After two evaluations of every group, for `WINDOWS` intervals: the sum over groups of
 * `*_rule_group_last_duration_seconds` (Prometheus's own measure of a cycle, serialised) and each
 * process's CPU seconds per interval (steadier on a shared machine). JSON on stdout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import YAML from 'yaml';
import { loadRuleFiles } from '../src/config/rule-files.js';
import { encodeWriteRequestV1 } from '../src/ingest/remote-write/encode.js';
import { snappyCompress } from '../src/ingest/remote-write/snappy.js';
import { CORPUS_DIR, corpusFiles, corpusSelectors, generateSeries, type GenSeries } from '../test/rules/corpus-data.js';
import { makeTemp, rmTemp, startPrometheus, startVigil, type Peer } from '../test/e2e/peers.js';
import { cpuSeconds, emit, median, postWrites, progress } from './lib.js';

const TARGET_SERIES = Number(process.env.SERIES ?? 100_000);
const WINDOWS = Math.max(2, Number(process.env.WINDOWS ?? 4));
const STEP = 30_000;
const HOUR = 3_600_000;
const INTERVAL_S = 30;

/** Writes the corpus as plain Prometheus rule files into `dir`, skipping rules our loader (and promtool) reject. */
async function writeRuleFiles(dir: string): Promise<{ files: number; rules: number; skipped: string[] }> {
  const files = corpusFiles();
  const { groups, errors } = await loadRuleFiles(files, CORPUS_DIR);
  const skip = new Set(errors.map((e) => `${(e as { file?: string }).file}#${(e as { group?: string }).group}#${(e as { ruleIndex?: number }).ruleIndex}`));
  let rules = 0;
  files.forEach((f, i) => {
    const docs = YAML.parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as Record<string, unknown> | null);
    const out: unknown[] = [];
    for (const doc of docs) {
      const gs = ((doc?.spec as { groups?: unknown[] } | undefined)?.groups ?? doc?.groups ?? []) as { name: string; rules: unknown[] }[];
      for (const g of gs) {
        const kept = g.rules.filter((_, ri) => !skip.has(`${f}#${g.name}#${ri}`));
        rules += kept.length;
        out.push({ ...g, rules: kept });
      }
    }
    writeFileSync(join(dir, `${String(i).padStart(3, '0')}-${basename(f).replace(/\.ya?ml$/, '')}.yml`), YAML.stringify({ groups: out }));
  });
  return { files: files.length, rules, skipped: errors.map((e) => e.message.slice(0, 200)) };
}

/** Remote-writes every series, timestamp by timestamp (so Prometheus's head takes them in order). */
async function load(peers: Peer[], series: GenSeries[], start: number, end: number): Promise<void> {
  const PER = 5000;
  let k = 0;
  for (let ts = start; ts <= end; ts += STEP, k++) {
    const bodies: Uint8Array[] = [];
    for (let off = 0; off < series.length; off += PER) {
      const batch = series.slice(off, off + PER).map((s) => ({ labels: s.labels, samples: [{ t: ts, v: s.value(ts - start) }] }));
      bodies.push(snappyCompress(encodeWriteRequestV1(batch)));
    }
    await postWrites(peers.map((p) => p.url), bodies);
    if (k % 20 === 0) progress(`loaded step ${k}/${(end - start) / STEP}`);
  }
}

/** Sum of a gauge/counter family on a peer's /metrics, and the number of its series. */
async function scrapeSum(p: Peer, name: string): Promise<{ sum: number; n: number; minValue: number }> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  let sum = 0;
  let n = 0;
  let minValue = Infinity;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    sum += v;
    n++;
    minValue = Math.min(minValue, v);
  }
  return { sum, n, minValue };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const work = makeTemp('corpus-rules');
const rulesDir = join(work, 'rules');
mkdirSync(rulesDir);
const written = await writeRuleFiles(rulesDir);
const { groups } = await loadRuleFiles(corpusFiles(), CORPUS_DIR);
const selectors = corpusSelectors(groups);
const one = generateSeries(selectors, 1).length;
const series = generateSeries(selectors, Math.max(1, Math.round(TARGET_SERIES / one)));
progress(`${written.rules} rules in ${written.files} files; ${series.length} series`);

// The data ends a little in the future, at about the time loading will have finished, so the
// first evaluations see a full hour (as in bench/rules-corpus.bench.ts).
const loadGuessMs = Math.max(30_000, series.length * 1.2);
const end = Math.ceil((Date.now() + loadGuessMs) / STEP) * STEP;
const start = end - HOUR;
const globalCfg = `global:\n  evaluation_interval: ${INTERVAL_S}s\n  scrape_interval: 1h\n`;
const prom = await startPrometheus(globalCfg, ['--query.max-samples=200000000', '--storage.tsdb.retention.time=1d']);
const vigil = await startVigil({ config: globalCfg, extraArgs: ['--query.max-samples=200000000', '--storage.retention=24h'] });
const peers = [prom, vigil];
const names = { prometheus: 'prometheus', vigil: 'vigil' } as const;
try {
  progress(`loading ${((series.length * (HOUR / STEP + 1)) / 1e6).toFixed(1)}M samples into both`);
  const l0 = Date.now();
  await load(peers, series, start, end);
  progress(`loaded in ${((Date.now() - l0) / 1000).toFixed(0)} s`);
  if (Date.now() < end) await sleep(end - Date.now());
  const withRules = `${globalCfg}rule_files:\n  - ${join(rulesDir, '*.yml')}\n`;
  for (const p of peers) {
    writeFileSync(join(p.dir, p === prom ? 'prometheus.yml' : 'vigil.yml'), withRules);
    const r = await fetch(`${p.url}/-/reload`, { method: 'POST' });
    if (r.status >= 300) throw new Error(`${p.url}/-/reload: ${r.status} ${await r.text()}`);
  }
  // Wait for two evaluations of every group (the first is the cold one).
  progress('rules loaded; waiting for two evaluations of every group');
  await sleep(2 * INTERVAL_S * 1000 + 5000);
  const out: Record<string, unknown> = {};
  for (const [name, p] of [['prometheus', prom], ['vigil', vigil]] as const) {
    const g = await scrapeSum(p, `${names[name]}_rule_group_rules`);
    out[name] = { groups: g.n, rules: g.sum, cycleSumMs: [] as number[], cpuSecondsPerInterval: [] as number[] };
  }
  for (let w = 0; w < WINDOWS; w++) {
    const c0 = peers.map((p) => cpuSeconds(p.proc.pid!));
    await sleep(INTERVAL_S * 1000);
    const c1 = peers.map((p) => cpuSeconds(p.proc.pid!));
    for (const [i, [name, p]] of ([['prometheus', prom], ['vigil', vigil]] as const).entries()) {
      const d = await scrapeSum(p, `${names[name]}_rule_group_last_duration_seconds`);
      const o = out[name] as { cycleSumMs: number[]; cpuSecondsPerInterval: number[] };
      o.cycleSumMs.push(Math.round(d.sum * 1000));
      o.cpuSecondsPerInterval.push(+(c1[i]! - c0[i]!).toFixed(2));
    }
    progress(`window ${w + 1}/${WINDOWS}: ${JSON.stringify(out)}`);
  }
  for (const name of ['prometheus', 'vigil'] as const) {
    const o = out[name] as { cycleSumMs: number[]; cpuSecondsPerInterval: number[]; failures?: number };
    Object.assign(o, { medianCycleSumMs: median(o.cycleSumMs), medianCpuSecondsPerInterval: median(o.cpuSecondsPerInterval) });
    o.failures = (await scrapeSum(name === 'prometheus' ? prom : vigil, `${names[name]}_rule_evaluation_failures_total`)).sum;
  }
  const pv = out.prometheus as { medianCycleSumMs: number; medianCpuSecondsPerInterval: number };
  const vv = out.vigil as { medianCycleSumMs: number; medianCpuSecondsPerInterval: number };
  emit({
    benchmark: 'rules corpus, one evaluation cycle, vigil vs Prometheus 2.42 (same data and rule files, both as servers)',
    series: series.length,
    samplesPerSeries: HOUR / STEP + 1,
    ruleFiles: written.files,
    rulesWritten: written.rules,
    skippedRules: written.skipped,
    intervalSeconds: INTERVAL_S,
    ...out,
    ratioCycleSum: +(vv.medianCycleSumMs / pv.medianCycleSumMs).toFixed(2),
    ratioCpu: +(vv.medianCpuSecondsPerInterval / pv.medianCpuSecondsPerInterval).toFixed(2),
  });
} finally {
  for (const p of peers) {
    await p.stop();
    rmTemp(p.dir);
  }
  rmTemp(work);
}
