/**
 * Predictive-rule inference for 10k series with a 256-point window, end to end as inside a rule
 * evaluation: window extraction from a Head (select + decode + resample), one batched
 * onnxruntime run of a forecaster (NLinear ridge model, 3 horizons × 3 quantiles), and writing
 * the outputs (label sets + values for every series × horizon × quantile). JSON on stdout.
 */
import { Head } from '../src/storage/head/index.js';
import { FakeClock } from '../src/model/clock.js';
import { labelsFrom, type Labels } from '../src/model/labels.js';
import { forecastOutputs } from '../src/ml/outputs.js';
import { newMatcher } from '../src/model/matchers.js';
import { extractWindows, WindowCache } from '../src/ml/windows.js';
import { trainForecaster } from '../src/ml/train/forecaster.js';
import { encodeForecaster } from '../src/ml/train/build.js';
import { loadModelBytes } from '../src/ml/session.js';
import { mulberry32 } from '../src/ml/math.js';

const N = Number(process.env.ML_BENCH_SERIES ?? 10_000);
const W = 256;
const STEP = 60_000;
const HISTORY = W + 10;
const T0 = 1_700_000_000_000;
const END = T0 + (HISTORY - 1) * STEP;
const RUNS = 7;


const rnd = mulberry32(42);
const clock = new FakeClock(END);
const head = new Head({ retentionMs: 24 * 3_600_000, clock });
const t0 = performance.now();
const lbls: Labels[] = [];
for (let i = 0; i < N; i++) lbls.push(labelsFrom({ __name__: 'bench_gauge', instance: `node-${i % 500}:9100`, job: 'node', series: String(i) }));
const level = Float64Array.from({ length: N }, () => 1000 * rnd());
for (let k = 0; k < HISTORY; k++) {
  const app = head.appender();
  for (let i = 0; i < N; i++) {
    level[i]! += rnd() - 0.5;
    app.append(0, lbls[i]!, T0 + k * STEP, level[i]! + 5 * Math.sin((k + i) / 30));
  }
  await app.commit();
}
const loadMs = performance.now() - t0;

// A 256-window forecaster fitted on synthetic series (same architecture as models/forecaster.onnx).
const train = Array.from({ length: 8 }, (_, s) => {
  const r = mulberry32(s + 1);
  let x = 0;
  return Float64Array.from({ length: 3000 }, (_, i) => (x += r() - 0.5) + 10 * Math.sin(i / (20 + s)));
});
const weights = trainForecaster({ series: train, window: W, horizons: [12, 48, 240], quantiles: [0.1, 0.5, 0.9], stride: 8, irls: 2 });
const session = await loadModelBytes(encodeForecaster(weights, STEP, 'synthetic'), { kind: 'forecaster', window: W }, 'bench');

const matchers = [newMatcher('=', '__name__', 'bench_gauge')];
const horizonLabel = ['12m', '48m', '4h'];
const quantileLabel = ['0.1', '0.5', '0.9'];
let outSamples = 0;
let skipped = 0;
type Phase = { extract: number; infer: number; output: number; total: number };

/** One rule evaluation at `end`; `cache` selects incremental extraction. */
async function evaluate(end: number, cache: WindowCache | undefined, buffer: Float32Array | undefined): Promise<{ p: Phase; buffer: Float32Array }> {
  const a = performance.now();
  const o = { matchers, end, stepMs: STEP, window: W, buffer };
  const batch = cache ? cache.extract(head, o) : extractWindows(head, o);
  skipped = batch.skipped;
  const b = performance.now();
  const fc = (await session.run(batch.data, batch.labels.length)).forecast!;
  const c = performance.now();
  const out = forecastOutputs('bench_gauge:forecast', batch.labels, fc, horizonLabel, quantileLabel);
  outSamples = out.values.length;
  const d = performance.now();
  return { p: { extract: b - a, infer: c - b, output: d - c, total: d - a }, buffer: batch.data };
}

/** Appends the next sample of every series (between evaluations, not timed). */
async function scrape(ts: number): Promise<void> {
  const app = head.appender();
  for (let i = 0; i < N; i++) {
    level[i]! += rnd() - 0.5;
    app.append(0, lbls[i]!, ts, level[i]!);
  }
  await app.commit();
}

const cold: Phase[] = [];
const warm: Phase[] = [];
let buffer: Float32Array | undefined;
let end = END;
for (let r = 0; r < RUNS; r++) {
  const res = await evaluate(end, undefined, buffer);
  buffer = res.buffer;
  cold.push(res.p);
}
const cache = new WindowCache();
for (let r = 0; r < RUNS; r++) {
  end += STEP;
  clock.set(end);
  await scrape(end);
  const res = await evaluate(end, cache, buffer);
  buffer = res.buffer;
  warm.push(res.p);
}
await session.close();
await head.close();
const med = (ps: Phase[], k: keyof Phase): number => {
  const xs = ps.slice(1).map((p) => p[k]).sort((x, y) => x - y); // first run = warm-up
  return Math.round(xs[Math.floor(xs.length / 2)]! * 100) / 100;
};
const summary = (ps: Phase[]): Phase => ({ extract: med(ps, 'extract'), infer: med(ps, 'infer'), output: med(ps, 'output'), total: med(ps, 'total') });
const steady = summary(warm);
process.stdout.write(
  JSON.stringify(
    {
      name: 'ml-inference',
      series: N,
      window: W,
      horizons: 3,
      quantiles: 3,
      outputSamples: outSamples,
      skippedSeries: skipped,
      headLoadSec: Math.round(loadMs / 100) / 10,
      runs: RUNS - 1,
      coldMedianMs: summary(cold),
      steadyStateMedianMs: steady,
      targetMs: 100,
      pass: steady.total <= 100,
    },
    null,
    2,
  ) + '\n',
);
