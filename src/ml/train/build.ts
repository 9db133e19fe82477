/**
 * `vigil models build`: trains the shipped models from NAB data and writes `forecaster.onnx`,
 * `anomaly.onnx` and a model card each. Deterministic: the same data gives the same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../onnx/encode.js';
import { anomalyGraph, forecasterGraph, type AnomalyWeights, type ForecasterWeights } from '../graphs.js';
import { META } from '../model.js';
import { DEFAULT_CONTEXT_SIGNAL, DEFAULT_DETECTOR, type DetectorParams } from '../online.js';
import { ANOMALY_METHOD } from './anomaly-card.js';
import { FORECASTER_ARCHITECTURE } from './forecaster-card.js';
import { loadNabCorpus } from '../nab/corpus.js';
import { gridSeriesFromNab } from './data.js';
import { trainForecaster } from './forecaster.js';
import { trainAnomaly } from './anomaly.js';
import { syntheticTrendSeries } from './synthetic.js';
import { silentProgress, type Progress } from './progress.js';

/** The shipped forecaster's shape. */
export const FORECASTER_SPEC = { window: 288, stepMs: 300_000, horizons: [12, 48, 288], quantiles: [0.1, 0.5, 0.9] } as const;
/** Synthetic trend/seasonal/noise series added to the forecaster's training data (see synthetic.ts). */
export const FORECASTER_SYNTHETIC = { count: 24, length: 4032, period: 288, seed: 20260101 } as const;
/** The shipped anomaly model's shape. */
export const ANOMALY_SPEC = { window: 64, stepMs: 300_000 } as const;

/** Options of {@link buildModels}. */
export interface BuildOptions {
  /** A NAB checkout (data/, labels/). */
  readonly dataDir: string;
  readonly outDir: string;
  /** Restricts training to matching NAB files (tests). */
  readonly filter?: (name: string) => boolean;
  /** Creates a progress reporter per phase (default: silent). */
  readonly progress?: (label: string) => Progress;
  /** Accuracy lines to put into the cards (from `vigil models eval`); omitted → "not measured". */
  readonly accuracy?: { readonly forecaster?: string; readonly anomaly?: string };
}

/** What {@link buildModels} produced. */
export interface BuildResult {
  readonly forecaster: { readonly path: string; readonly bytes: Uint8Array; readonly weights: ForecasterWeights; readonly samples: number; readonly series: number; readonly trainedOn: string };
  readonly anomaly: { readonly path: string; readonly bytes: Uint8Array; readonly weights: AnomalyWeights; readonly samples: number; readonly series: number; readonly trainedOn: string };
}

/** Encodes the forecaster. */
export function encodeForecaster(w: ForecasterWeights, stepMs: number, trainedOn: string): Uint8Array {
  return encodeModel(forecasterGraph(w), {
    docString: 'vigil forecaster: six trend-preserving linear window models gated by two window statistics, calibrated residual quantiles',
    metadata: {
      [META.kind]: 'forecaster',
      [META.window]: String(w.window),
      [META.stepMs]: String(stepMs),
      [META.horizons]: w.horizons.join(','),
      [META.quantiles]: w.quantiles.join(','),
      [META.normalization]: 'in-graph: (x - last) / (mean|diff| + 1e-3 mean|x| + 1e-9)',
      [META.trainedOn]: trainedOn,
    },
  });
}

/** Encodes the anomaly model with its detector parameters. */
export function encodeAnomaly(w: AnomalyWeights, stepMs: number, trainedOn: string, params: DetectorParams = DEFAULT_DETECTOR): Uint8Array {
  return encodeModel(anomalyGraph(w), {
    docString: 'vigil anomaly: ridge one-step predictor; error calibrated online by an anomaly likelihood',
    metadata: {
      [META.kind]: 'anomaly',
      [META.window]: String(w.window),
      [META.stepMs]: String(stepMs),
      [META.normalization]: 'in-graph: (x - last) / (mean|diff| + 1e-3 mean|x| + 1e-9) over the history',
      [META.likelihood]: JSON.stringify(params),
      [META.trainedOn]: trainedOn,
    },
  });
}

/** Trains both models and writes them (plus cards) to `outDir`. */
export async function buildModels(o: BuildOptions): Promise<BuildResult> {
  const mk = o.progress ?? (() => silentProgress);
  const files = loadNabCorpus(o.dataDir, o.filter);
  if (files.length === 0) throw new Error(`no NAB files found under ${o.dataDir}`);
  mkdirSync(o.outDir, { recursive: true });

  const grid = gridSeriesFromNab(files, FORECASTER_SPEC.stepMs).filter((s) => s.values.length >= 2 * (FORECASTER_SPEC.window + 288));
  const pf = mk('forecaster');
  const synth = syntheticTrendSeries(FORECASTER_SYNTHETIC);
  const fw = trainForecaster({ series: [...grid.map((s) => s.values), ...synth], ...FORECASTER_SPEC, progress: pf });
  pf.done(`${fw.samples} windows from ${grid.length} + ${synth.length} series`);
  const fTrained = `NAB ${grid.length} series at 5m step + ${synth.length} synthetic trend/seasonal/noise series (seed ${FORECASTER_SYNTHETIC.seed}), first 50% of each (fit), 50-60% (quantile calibration)`;
  const fBytes = encodeForecaster(fw, FORECASTER_SPEC.stepMs, fTrained);
  const fPath = join(o.outDir, 'forecaster.onnx');
  writeFileSync(fPath, fBytes);

  const pa = mk('anomaly');
  const aw = trainAnomaly({ series: files.map((f) => f.values), window: ANOMALY_SPEC.window, progress: pa });
  pa.done(`${aw.samples} windows from ${files.length} series`);
  const aTrained = `NAB ${files.length} series, probationary first 15% of each only`;
  const aBytes = encodeAnomaly(aw, ANOMALY_SPEC.stepMs, aTrained);
  const aPath = join(o.outDir, 'anomaly.onnx');
  writeFileSync(aPath, aBytes);

  const result: BuildResult = {
    forecaster: { path: fPath, bytes: fBytes, weights: fw, samples: fw.samples, series: grid.length, trainedOn: fTrained },
    anomaly: { path: aPath, bytes: aBytes, weights: aw, samples: aw.samples, series: files.length, trainedOn: aTrained },
  };
  writeModelCards(o.outDir, result, o.accuracy);
  return result;
}

/** Writes `forecaster.md` and `anomaly.md` for a build (with measured accuracy when given). */
export function writeModelCards(outDir: string, r: BuildResult, accuracy?: BuildOptions['accuracy']): void {
  const f = r.forecaster;
  const a = r.anomaly;
  writeFileSync(join(outDir, 'forecaster.md'), forecasterCard(f.bytes.length, f.samples, f.series, f.trainedOn, accuracy?.forecaster));
  writeFileSync(join(outDir, 'anomaly.md'), anomalyCard(a.bytes.length, a.samples, a.series, a.trainedOn, accuracy?.anomaly));
}

const REBUILD = `## How to rebuild

\`\`\`sh
npx vigil models build --data ../shared/data/nab --out models/
npx vigil models eval --nab ../shared/data/nab          # anomaly scores (NAB)
npx vigil models eval --forecast ../shared/data/nab     # forecast MAE/MASE vs PromQL baselines
\`\`\`
The build is deterministic (closed-form fits, files in sorted order): the same data gives the
same bytes.`;

function forecasterCard(size: number, samples: number, series: number, trained: string, acc?: string): string {
  return `# forecaster (models/forecaster.onnx, ${size} bytes)

${FORECASTER_ARCHITECTURE}

**Synthetic data** (\`src/ml/train/synthetic.ts\`, seed ${FORECASTER_SYNTHETIC.seed}):
${FORECASTER_SYNTHETIC.count} series of ${FORECASTER_SYNTHETIC.length} points cycling four kinds — linear trend, trend +
daily sine (period ${FORECASTER_SYNTHETIC.period}), random walk with drift, piecewise-linear (slope changes or stalls every 3 days) —
with levels 10¹–10¹¹ (log-uniform), slopes ±(1e-5…1e-3)·level per step (sign alternating),
Gaussian noise 0.05–2× the slope and seasonal amplitude 5–100× the slope. They complement NAB
(mostly mean-reverting) with the trends infrastructure metrics show; the constraint alone
already guarantees exact extrapolation of lines, but the experts learn from them too (without
them the 1 h gMAE/PL / MAE/PL were 0.760 / 0.779 instead of 0.709 / 0.746 in the 3-expert step).

| | |
|---|---|
| input | \`window\`: float32 [N, ${FORECASTER_SPEC.window}], oldest first, no gaps (the rule resamples at step) |
| step | 5m (${FORECASTER_SPEC.stepMs} ms); lookback = 24h |
| horizons | ${FORECASTER_SPEC.horizons.join(', ')} steps (1h, 4h, 24h) |
| quantiles | ${FORECASTER_SPEC.quantiles.join(', ')} |
| output | \`forecast\`: float32 [N, ${FORECASTER_SPEC.horizons.length}, ${FORECASTER_SPEC.quantiles.length}] (horizon-major) |
| opset / IR | 17 / 8 |
| training data | ${trained}; ${samples} training windows in all (${series} NAB series plus the synthetic ones) |

## Measured accuracy

${acc ?? 'Not measured in this build; run `vigil models eval --forecast`.'}

${REBUILD}
`;
}

function anomalyCard(size: number, samples: number, series: number, trained: string, acc?: string): string {
  const p = DEFAULT_DETECTOR;
  const c = { ...DEFAULT_CONTEXT_SIGNAL, ...(p.context ?? {}) };
  return `# anomaly (models/anomaly.onnx, ${size} bytes)

**Architecture.** A prediction model whose error is turned into a calibrated score, next to a
contextual memory of the series. The ONNX graph predicts the current value from the previous
${ANOMALY_SPEC.window - 1} points (ridge one-step predictor on the per-series normalised window, same normalisation as
the forecaster) and outputs \`yhat\`, the normalised \`error\` and the \`scale\`. The rule engine's
online post-step (\`src/ml/online.ts\`, \`src/ml/context.ts\`; parameters stored in the model's
\`vigil.likelihood\` metadata) combines four signals by max, **score > 1 = anomalous**:

1. *error likelihood* in the style of Numenta's detector: the mean of the last ${p.shortWindow} |errors| against
   the distribution of that mean over the last ${p.longWindow} points, Gaussian tail probability p,
   \`score = log(p) / log(${p.thresholdTail})\`;
2. *error novelty* gate: the error likelihood counts only if the short-term mean error exceeds the
   largest one of the last ${p.noveltyWindow ?? p.longWindow} points by ${Math.round((p.errorNovelty ?? 0) * 100)}% (otherwise × ${p.repeatFactor ?? 1}): errors of a size seen
   recently (a daily jump, a spiky series' usual bursts) are expected;
3. *context* (contextual memory, our own design after the published descriptions of CAD OSE,
   HTM sequence memory and ARTime): after ${c.learn} points the value range is cut into ${c.levels} levels
   (values beyond it get new levels; the edge levels reach half a level further), and the last
   ${c.order} levels form facts of order 1..${c.order} (an n-gram memory of the level sequence) counted in
   ${c.slots} saturating 8-bit counters by hash; when more than ${c.maxFill * 100}% of the counters are in use all are
   halved (rare facts are forgotten first). A point's novelty is the share of its facts never
   seen; it goes through the same likelihood as the error, averaged over ${c.shortWindow} points. A rhythm
   that keeps coming back stops being novel; a new sequence of familiar values is novel. Error
   and context share one refractory period: after a score ≥ 1 the next ${p.refractory} points are capped
   below 1 (one alert per event);
4. *spatial* anomaly: a value beyond the range of the last ~${p.spatialWindow ?? 'all'} points (sliding min/max over
   16 blocks, so old extremes expire) by ${p.spatialTolerance * 100}% of that range scores just above 1.

Learning period: ${p.learningPeriod} points (the context scores from point ${2 * c.learn}). Per-series state, fixed
whatever the number of points: two likelihoods' ring buffers (2 × ~${p.longWindow} numbers), ${c.slots} bytes of
context counters, 64 numbers for the sliding extremes. O(1) per point (O(${c.order}) for the context,
plus an amortised halving). Deterministic.

| | |
|---|---|
| input | \`window\`: float32 [N, ${ANOMALY_SPEC.window}] = ${ANOMALY_SPEC.window - 1} history points + the current value |
| step | any regular step (the model is scale- and step-free; trained on 5m data) |
| outputs | \`yhat\`, \`error\`, \`scale\`: float32 [N, 1] each |
| opset / IR | 17 / 8 |
| training data | ${trained}; ${samples} windows |

## Measured accuracy

${acc ?? 'Not measured in this build; run `vigil models eval --nab`.'}

${ANOMALY_METHOD}

${REBUILD}
`;
}
