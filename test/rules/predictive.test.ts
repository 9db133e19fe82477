/**
 * Forecast and anomaly rules over a real Head with synthetic series: outputs, batching (one
 * model run per evaluation), skipped-series counters, accuracy tracking, bad models, reload
 * state carry-over, the range-query path and scheduled refits.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/model/clock.js';
import { labelsFrom, labelsGet, labelsToObject, type Labels } from '../../src/model/labels.js';
import { newMatcher } from '../../src/model/matchers.js';
import type { ModelSession } from '../../src/ml/model.js';
import type { WorkerTrainRequest } from '../../src/ml/retrain.js';
import { loadModel, loadModelBytes } from '../../src/ml/session.js';
import { encodeForecaster } from '../../src/ml/train/build.js';
import { trainForecaster } from '../../src/ml/train/forecaster.js';
import { Engine } from '../../src/promql/engine/index.js';
import type { Sample } from '../../src/promql/engine/values.js';
import { Head } from '../../src/storage/head/index.js';
import type { Queryable } from '../../src/storage/interface.js';
import { AnomalyRule } from '../../src/rules/anomaly.js';
import { rulesApiData } from '../../src/rules/api.js';
import { ForecastRule } from '../../src/rules/forecast.js';
import type { GroupDeps } from '../../src/rules/group.js';
import { RuleManager } from '../../src/rules/manager.js';
import { predictiveMetrics } from '../../src/rules/predictive-metrics.js';
import { ModelRegistry, type ModelLoader } from '../../src/rules/predictive-models.js';
import { engineRangeQueryFunc, plainSelectorMatchers, readWindows, WindowReader, type SeriesWindows } from '../../src/rules/predictive-window.js';
import { parseExpr } from '../../src/promql/parser/index.js';
import { engineQueryFunc } from '../../src/rules/query-func.js';
import type { AnomalyRuleConfig, EvalContext, ForecastRuleConfig, RuleGroupConfig } from '../../src/rules/rule.js';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));
const M = 60_000;
const T0 = 1_700_000_040_000 - (1_700_000_040_000 % (60 * M)); // aligned to 1h
const W = 32; // window of the test forecaster
let dir: string;
let trendBytes: Uint8Array;

beforeAll(() => {
  // A small forecaster fitted on drifting random walks (the shipped one is fitted on NAB data);
  // it learns to extrapolate trends, which makes "close to extrapolation" a meaningful check.
  let seed = 7;
  const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const series = Array.from({ length: 24 }, (_, s) => {
    const slope = (s % 2 ? -1 : 1) * (1 + s);
    let x = 10_000 * (1 + s);
    return Float64Array.from({ length: 600 }, () => (x += slope + 0.2 * slope * (rnd() - 0.5)));
  });
  const w = trainForecaster({ series, window: W, horizons: [6, 12], quantiles: [0.1, 0.5, 0.9], fitFraction: 0.7, calFraction: 1, irls: 0 });
  trendBytes = encodeForecaster(w, M, 'test drifting walks');
  dir = mkdtempSync(join(tmpdir(), 'vigil-pred-models-'));
  writeFileSync(join(dir, 'trend.onnx'), trendBytes);
  writeFileSync(join(dir, 'garbage.onnx'), 'definitely not protobuf \x00\x01');
});

/** A loader that counts `run` calls and rows per session. */
function spyLoader(): { load: ModelLoader; runs: number[] } {
  const runs: number[] = [];
  const load: ModelLoader = async (path, expect) => {
    const s = await loadModel(path, expect);
    return { info: s.info, source: s.source, close: () => s.close(), run: (input: Float32Array, n: number) => (runs.push(n), s.run(input, n)) } satisfies ModelSession;
  };
  return { load, runs };
}

function newHead(clock: FakeClock): Head {
  return new Head({ retentionMs: 30 * 86_400_000, clock });
}

/** Appends every series at `k·step` for k in [from, to) with values `v(name, k)` (NaN = no sample). */
async function fill(h: Head, names: string[], from: number, to: number, step: number, v: (name: string, k: number) => number, metric = 'm'): Promise<void> {
  const ls = names.map((s) => labelsFrom({ __name__: metric, s }));
  for (let k = from; k < to; k++) {
    const app = h.appender();
    names.forEach((n, i) => {
      const x = v(n, k);
      if (!Number.isNaN(x)) app.append(0, ls[i]!, T0 + k * step, x);
    });
    await app.commit();
  }
}

function ctx(ts: number): EvalContext {
  return { ts, query: () => Promise.resolve([]), externalLabels: {}, externalURL: '', interval: M, limit: 0 };
}

function forecastCfg(over: Partial<ForecastRuleConfig> = {}): ForecastRuleConfig {
  return { kind: 'forecast', forecast: 'm:forecast', expr: 'm', model: 'trend', lookback: W * M, step: M, horizons: [6 * M, 12 * M], quantiles: [0.1, 0.5, 0.9], labels: {}, pos: { file: 't', line: 1 }, ...over };
}

function anomalyCfg(over: Partial<AnomalyRuleConfig> = {}): AnomalyRuleConfig {
  return { kind: 'anomaly', anomaly: 'm:anomaly_score', expr: 'm', model: 'anomaly', lookback: 400 * M, step: M, labels: {}, pos: { file: 't', line: 1 }, ...over };
}

function pick(series: readonly Sample[], match: Record<string, string>): Sample[] {
  return series.filter((s) => Object.entries(match).every(([k, v]) => labelsGet(s.metric, k) === v));
}

async function metricValue(reg: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = reg.getSingleMetric(name);
  if (!m) return undefined;
  const v = (await m.get()).values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value;
}

/** Deterministic small noise. */
function noise(k: number, s = 1): number {
  return Math.sin(k * 12.9898 * s) * 0.5;
}

describe('window reads', () => {
  function rows(w: SeriesWindows): Record<string, number[]> {
    const o: Record<string, number[]> = {};
    w.labels.forEach((l, i) => (o[labelsGet(l, 's')] = [...w.data.subarray((i + 1) * w.points - w.valid[i]!, (i + 1) * w.points)]));
    return o;
  }

  it('incremental reads equal full reads as series come, go, and samples arrive late', async () => {
    const clock = new FakeClock(T0 + 1000 * M);
    const h = newHead(clock);
    const expr = parseExpr('m');
    const ms = plainSelectorMatchers(expr)!;
    const reader = new WindowReader();
    const spans: number[] = [];
    const spy: Queryable = { querier: (mint, maxt) => (spans.push(maxt - mint), h.querier(mint, maxt)) };
    const req = (k: number) => ({ end: T0 + k * M, stepMs: M, points: 10, limit: 1000 });
    await fill(h, ['a', 'b', 'gone'], 0, 20, M, (s, k) => (s === 'b' ? k * 2 : k));
    for (let k = 20; k < 40; k++) {
      // 'new' appears at 25; 'gone' stops at 30; 'late' samples arrive after the read of their grid point.
      await fill(h, ['a', 'b'], k, k + 1, M, (s, j) => (s === 'b' ? j * 2 : j));
      if (k < 30) await fill(h, ['gone'], k, k + 1, M, (_s, j) => -j);
      if (k >= 25) await fill(h, ['new'], k, k + 1, M, (_s, j) => 100 + j);
      const inc = await reader.read({ queryable: spy }, expr, ms, req(k));
      const full = await readWindows({ queryable: h }, expr, ms, req(k));
      expect(rows(inc), `k=${k}`).toEqual(rows(full));
      if (k > 30) expect(rows(inc)['late']!.at(-2), `k=${k}`).toBe(1000 + k - 1); // seen on the re-read
      // After the read: a sample stamped 10 s before this grid point arrives late.
      const app = h.appender();
      app.append(0, labelsFrom({ __name__: 'm', s: 'late' }), T0 + k * M - 10_000, 1000 + k);
      await app.commit();
    }
    expect(reader.size).toBe(4); // a, b, new, late ('gone' dropped after its lookback delta)
    // Incremental: after the first read, the common case reads one step plus the lookback delta.
    expect(spans[0]).toBe(9 * M + 5 * M);
    expect(spans.filter((x) => x === M + 5 * M).length).toBeGreaterThan(15);
  });
});

describe('forecast rules', () => {
  it('forecast a linear trend close to its extrapolation, one series per horizon × quantile', async () => {
    const clock = new FakeClock(T0 + 100 * M);
    const h = newHead(clock);
    await fill(h, ['up', 'down'], 0, 40, M, (s, k) => (s === 'up' ? 1000 + 5 * k : 5000 - 20 * k) + 0.1 * noise(k));
    const spy = spyLoader();
    const rule = new ForecastRule(forecastCfg({ labels: { team: 'x' } }), { models: new ModelRegistry({ modelDir: dir, load: spy.load }), source: { queryable: h } });
    const ts = T0 + 39 * M;
    const res = await rule.eval(ctx(ts));
    expect(rule.lastError()).toBeUndefined();
    expect(rule.health()).toBe('ok');
    expect(res.series).toHaveLength(2 * 2 * 3);
    expect(spy.runs).toEqual([2]); // one batched run for both series
    const one = pick(res.series, { s: 'up', horizon: '6m', quantile: '0.5' });
    expect(one).toHaveLength(1);
    expect(labelsToObject(one[0]!.metric)).toEqual({ __name__: 'm:forecast', s: 'up', horizon: '6m', quantile: '0.5', team: 'x' });
    expect(one[0]!.t).toBe(ts);
    for (const [s, last, slope] of [
      ['up', 1000 + 5 * 39, 5],
      ['down', 5000 - 20 * 39, -20],
    ] as const) {
      for (const [hz, steps] of [
        ['6m', 6],
        ['12m', 12],
      ] as const) {
        const med = pick(res.series, { s, horizon: hz, quantile: '0.5' })[0]!.f;
        const lo = pick(res.series, { s, horizon: hz, quantile: '0.1' })[0]!.f;
        const hi = pick(res.series, { s, horizon: hz, quantile: '0.9' })[0]!.f;
        const expected = last + slope * steps;
        expect(Math.abs(med - expected), `${s} ${hz}: ${med} vs ${expected}`).toBeLessThan(Math.abs(slope * steps) * 0.1);
        expect(lo).toBeLessThanOrEqual(med);
        expect(hi).toBeGreaterThanOrEqual(med);
      }
    }
  });

  it('batches all series into one model run per evaluation', async () => {
    const clock = new FakeClock(T0 + 100 * M);
    const h = newHead(clock);
    const names = Array.from({ length: 50 }, (_, i) => `s${i}`);
    await fill(h, names, 0, 40, M, (s, k) => Number(s.slice(1)) * 10 + k);
    const spy = spyLoader();
    const rule = new ForecastRule(forecastCfg(), { models: new ModelRegistry({ modelDir: dir, load: spy.load }), source: { queryable: h } });
    for (const k of [35, 36, 37]) expect((await rule.eval(ctx(T0 + k * M))).series).toHaveLength(50 * 6);
    expect(spy.runs).toEqual([50, 50, 50]);
  });

  it('series with too little history or a gap get no output and are counted', async () => {
    const clock = new FakeClock(T0 + 100 * M);
    const h = newHead(clock);
    await fill(h, ['full', 'young', 'gap'], 0, 40, M, (s, k) => (s === 'young' && k < 20 ? NaN : s === 'gap' && k >= 20 && k < 28 ? NaN : 100 + k));
    const reg = new Registry();
    const rule = new ForecastRule(forecastCfg(), { models: new ModelRegistry({ modelDir: dir }), source: { queryable: h }, metrics: predictiveMetrics(reg) });
    const res = await rule.eval(ctx(T0 + 39 * M));
    expect(new Set(res.series.map((s) => labelsGet(s.metric, 's')))).toEqual(new Set(['full']));
    expect(await metricValue(reg, 'vigil_predictive_series_skipped_total', { rule: 'm:forecast', reason: 'history' })).toBe(1);
    expect(await metricValue(reg, 'vigil_predictive_series_skipped_total', { rule: 'm:forecast', reason: 'gap' })).toBe(1);
    await rule.eval(ctx(T0 + 39 * M + 1000));
    expect(await metricValue(reg, 'vigil_predictive_series_skipped_total', { rule: 'm:forecast', reason: 'history' })).toBe(2);
  });

  it('reads non-selector expressions with one range query', async () => {
    const clock = new FakeClock(T0 + 100 * M);
    const h = newHead(clock);
    await fill(h, ['a'], 0, 40, M, (_s, k) => 100 + 2 * k);
    const engine = new Engine({});
    const queryRange = vi.fn(engineRangeQueryFunc(engine, h));
    const rule = new ForecastRule(forecastCfg({ expr: 'm * 10' }), { models: new ModelRegistry({ modelDir: dir }), source: { queryable: h, queryRange } });
    const res = await rule.eval(ctx(T0 + 39 * M));
    expect(rule.lastError()).toBeUndefined();
    expect(queryRange).toHaveBeenCalledTimes(1);
    const med = pick(res.series, { horizon: '6m', quantile: '0.5' })[0]!;
    expect(labelsToObject(med.metric)).toEqual({ __name__: 'm:forecast', s: 'a', horizon: '6m', quantile: '0.5' });
    expect(med.f).toBeGreaterThan(10 * (100 + 2 * 39) + 60);
    expect(med.f).toBeLessThan(10 * (100 + 2 * 39) + 180);
  });

  it('scores forecasts when their horizon arrives: rolling abs error and band coverage per horizon', async () => {
    const clock = new FakeClock(T0 + 200 * M);
    const h = newHead(clock);
    await fill(h, ['a', 'b'], 0, 100, M, (s, k) => (s === 'a' ? 500 + 3 * k : 800 - 2 * k) + 0.2 * noise(k, s === 'a' ? 1 : 2));
    const reg = new Registry();
    const rule = new ForecastRule(forecastCfg(), { models: new ModelRegistry({ modelDir: dir }), source: { queryable: h }, metrics: predictiveMetrics(reg) });
    for (let k = 40; k < 100; k++) await rule.eval(ctx(T0 + k * M));
    const acc = rule.accuracy();
    expect(acc.map((a) => a.horizon)).toEqual(['6m', '12m']);
    for (const a of acc) {
      expect(a.scored).toBeGreaterThan(20);
      expect(a.meanAbsError).toBeGreaterThan(0);
      expect(a.meanAbsError).toBeLessThan(5); // trends of 3 and 2 per step: errors stay far below 6–36
      expect(a.coverage).toBeGreaterThanOrEqual(0);
      expect(a.coverage).toBeLessThanOrEqual(1);
    }
    expect(await metricValue(reg, 'vigil_forecast_abs_error', { rule: 'm:forecast', horizon: '6m' })).toBeCloseTo(acc[0]!.meanAbsError, 9);
    expect(await metricValue(reg, 'vigil_forecast_band_coverage_ratio', { rule: 'm:forecast', horizon: '12m' })).toBeCloseTo(acc[1]!.coverage, 9);
  });

  it('a wrong forecast shows up as a large error and low coverage', async () => {
    const clock = new FakeClock(T0 + 200 * M);
    const h = newHead(clock);
    // A trend that breaks: the forecasts made before the break miss.
    await fill(h, ['a'], 0, 80, M, (_s, k) => (k < 50 ? 500 + 3 * k : 650 - 30 * (k - 50)));
    const rule = new ForecastRule(forecastCfg({ horizons: [6 * M] }), { models: new ModelRegistry({ modelDir: dir }), source: { queryable: h } });
    for (let k = 40; k < 60; k++) await rule.eval(ctx(T0 + k * M));
    const [a] = rule.accuracy();
    expect(a!.scored).toBeGreaterThan(5);
    expect(a!.meanAbsError).toBeGreaterThan(30);
    expect(a!.coverage).toBeLessThan(0.8);
  });
});

describe('anomaly rules', () => {
  const N = 420;
  const val = (s: string, k: number): number => {
    const base = 50 + 10 * Math.sin(k / 20) + noise(k, s.length);
    if (s === 'spike' && k === N - 1) return base + 40;
    return base;
  };

  it('steady series score < 1, a spike scores > 1; yhat band around the expected value', async () => {
    const clock = new FakeClock(T0 + 1000 * M);
    const h = newHead(clock);
    await fill(h, ['steady', 'spike'], 0, N, M, val);
    const spy = spyLoader();
    const rule = new AnomalyRule(anomalyCfg(), { models: new ModelRegistry({ modelDir: MODELS, load: spy.load }), source: { queryable: h } });
    const res = await rule.eval(ctx(T0 + (N - 1) * M + 10_000));
    expect(rule.lastError()).toBeUndefined();
    // Warm-up from history: every window of the lookback in ONE run.
    expect(spy.runs).toEqual([2 * (400 - 64 + 1)]);
    expect(res.series).toHaveLength(2 * 4);
    const score = (s: string): number => pick(res.series, { __name__: 'm:anomaly_score', s })[0]!.f;
    expect(score('steady')).toBeLessThan(1);
    expect(score('spike')).toBeGreaterThan(1);
    for (const s of ['steady', 'spike']) {
      const y = pick(res.series, { __name__: 'm:anomaly_score:yhat', s })[0]!.f;
      const lo = pick(res.series, { __name__: 'm:anomaly_score:yhat_lower', s })[0]!.f;
      const hi = pick(res.series, { __name__: 'm:anomaly_score:yhat_upper', s })[0]!.f;
      expect(lo).toBeLessThan(y);
      expect(hi).toBeGreaterThan(y);
      expect(Math.abs(y - val('steady', N - 1))).toBeLessThan(5);
    }
    // The spike is outside the band, the steady value inside.
    expect(val('spike', N - 1)).toBeGreaterThan(pick(res.series, { __name__: 'm:anomaly_score:yhat_upper', s: 'spike' })[0]!.f);
    // Next evaluation: one new point per series, one run.
    await h.appender().commit();
    await fill(h, ['steady', 'spike'], N, N + 1, M, val);
    await rule.eval(ctx(T0 + N * M));
    expect(spy.runs.slice(1)).toEqual([2]);
    // Same grid point again: no new rows, outputs repeated.
    const again = await rule.eval(ctx(T0 + N * M + 30_000));
    expect(again.series).toHaveLength(8);
    expect(spy.runs.slice(2)).toEqual([0]);
  });

  it('warm-up beyond the batch budget waits: new series are warmed up over later evaluations', async () => {
    const clock = new FakeClock(T0 + 1000 * M);
    const h = newHead(clock);
    await fill(h, ['a', 'b', 'c'], 0, N + 3, M, val);
    const spy = spyLoader();
    const reg = new Registry();
    const warm = 400 - 64 + 1; // rows of a full warm-up
    const rule = new AnomalyRule(anomalyCfg(), { models: new ModelRegistry({ modelDir: MODELS, load: spy.load }), source: { queryable: h }, metrics: predictiveMetrics(reg), maxBatchValues: 64 * (warm + 3) });
    const outputs: number[] = [];
    for (let k = N - 1; k < N + 2; k++) outputs.push((await rule.eval(ctx(T0 + k * M))).series.length / 4);
    expect(outputs).toEqual([1, 2, 3]);
    expect(spy.runs).toHaveLength(3);
    for (const r of spy.runs) expect(r).toBeLessThanOrEqual(warm + 3);
    expect(await metricValue(reg, 'vigil_predictive_series_skipped_total', { rule: 'm:anomaly_score', reason: 'budget' })).toBe(2 + 1);
  });

  it('series still in the learning period get no output and are counted', async () => {
    const clock = new FakeClock(T0 + 1000 * M);
    const h = newHead(clock);
    await fill(h, ['old', 'new'], 0, N, M, (s, k) => (s === 'new' && k < N - 100 ? NaN : val(s, k)));
    const reg = new Registry();
    const rule = new AnomalyRule(anomalyCfg(), { models: new ModelRegistry({ modelDir: MODELS }), source: { queryable: h }, metrics: predictiveMetrics(reg) });
    const res = await rule.eval(ctx(T0 + (N - 1) * M));
    expect(new Set(res.series.map((s) => labelsGet(s.metric, 's')))).toEqual(new Set(['old']));
    expect(await metricValue(reg, 'vigil_predictive_series_skipped_total', { rule: 'm:anomaly_score', reason: 'learning' })).toBe(1);
    expect(rule.pointsSeen('s\xffnew\xff')).toBe(100 - 64 + 1);
  });
});

describe('predictive rules in groups', () => {
  function deps(h: Head, clock: FakeClock, reg: Registry, extra: Partial<GroupDeps> = {}): GroupDeps & { defaultIntervalMs: number; autoStart: boolean } {
    const engine = new Engine({});
    return {
      query: engineQueryFunc(engine, h),
      queryRange: engineRangeQueryFunc(engine, h),
      appendable: h,
      queryable: h,
      clock,
      registry: reg,
      externalLabels: {},
      externalURL: 'http://vigil',
      resendDelayMs: M,
      outageToleranceMs: 3_600_000,
      gracePeriodMs: 600_000,
      defaultIntervalMs: M,
      autoStart: false,
      predictive: { modelDir: dir },
      ...extra,
    };
  }

  function group(rules: RuleGroupConfig['rules'], over: Partial<RuleGroupConfig> = {}): RuleGroupConfig {
    return { name: 'pred', file: 'p.yaml', interval: M, limit: 0, queryOffset: 0, labels: {}, evalOnIngest: false, rules, pos: { file: 'p.yaml', line: 1 }, ...over };
  }

  function read(h: Head, name: string, ts: number): { labels: Labels; v: number }[] {
    const q = h.querier(ts, ts);
    try {
      return q.select({ mint: ts, maxt: ts, matchers: [newMatcher('=', '__name__', name)] }).map((s) => ({ labels: s.labels, v: s.samples().v[0]! }));
    } finally {
      q.close();
    }
  }

  it('a bad model makes its rule unhealthy at load; the rest of the group keeps running', async () => {
    const clock = new FakeClock(T0 + 100 * M);
    const h = newHead(clock);
    await fill(h, ['a'], 0, 40, M, (_s, k) => 10 + k);
    const mgr = new RuleManager(deps(h, clock, new Registry()));
    await mgr.update([
      group([
        forecastCfg({ forecast: 'bad:forecast', model: 'garbage' }),
        forecastCfg({ forecast: 'missing:forecast', model: 'nope' }),
        forecastCfg({ forecast: 'kind:forecast', model: join(MODELS, 'anomaly.onnx') }),
        { kind: 'recording', record: 'm:doubled', expr: 'm * 2', labels: {}, pos: { file: 'p.yaml', line: 2 } },
        forecastCfg(),
      ]),
    ]);
    // Right after load, before any evaluation.
    const api = rulesApiData(mgr.groups()).groups[0]!.rules;
    expect(api.map((r) => [r.name, r.health])).toEqual([
      ['bad:forecast', 'err'],
      ['missing:forecast', 'err'],
      ['kind:forecast', 'err'],
      ['m:doubled', 'unknown'],
      ['m:forecast', 'unknown'],
    ]);
    expect(api[0]!.lastError).toMatch(/garbage\.onnx: is not an ONNX model/);
    expect(api[1]!.lastError).toMatch(/nope\.onnx: file not found/);
    expect(api[2]!.lastError).toMatch(/is a anomaly model, the rule needs forecaster/);
    const ts = T0 + 39 * M;
    await mgr.groups()[0]!.evalAt(ts);
    expect(read(h, 'm:doubled', ts)).toEqual([{ labels: labelsFrom({ __name__: 'm:doubled', s: 'a' }), v: 2 * 49 }]);
    expect(read(h, 'm:forecast', ts)).toHaveLength(6);
    const after = rulesApiData(mgr.groups()).groups[0]!.rules;
    expect(after.map((r) => r.health)).toEqual(['err', 'err', 'err', 'ok', 'ok']);
    expect(after[4]).toMatchObject({ type: 'recording', kind: 'forecast', model: 'trend', stepSeconds: 60 });
    await mgr.stop();
  });

  it('reload keeps per-series state (anomaly likelihood, forecast tracking)', async () => {
    const clock = new FakeClock(T0 + 1000 * M);
    const h = newHead(clock);
    await fill(h, ['a'], 0, 420, M, (_s, k) => 100 + 10 * Math.sin(k / 15) + noise(k) + 0.5 * k);
    const mgr = new RuleManager(deps(h, clock, new Registry(), { predictive: { models: new ModelRegistry({ modelDir: dir }) } }));
    const rules = [anomalyCfg({ model: join(MODELS, 'anomaly.onnx') }), forecastCfg()];
    await mgr.update([group(rules)]);
    for (let k = 400; k < 415; k++) await mgr.groups()[0]!.evalAt(T0 + k * M);
    const g1 = mgr.groups()[0]!;
    const a1 = g1.rules()[0] as AnomalyRule;
    const seen = a1.pointsSeen('s\xffa\xff');
    expect(seen).toBe(400 - 64 + 1 + 14);
    const scored = (g1.rules()[1] as ForecastRule).accuracy()[0]!.scored;
    expect(scored).toBeGreaterThan(0);
    // Changed group (new rule, different interval): new group objects, state carried over.
    await mgr.update([group([...rules, { kind: 'recording', record: 'r', expr: 'm', labels: {}, pos: { file: 'p.yaml', line: 9 } }], { interval: 2 * M })]);
    const g2 = mgr.groups()[0]!;
    expect(g2).not.toBe(g1);
    const a2 = g2.rules()[0] as AnomalyRule;
    expect(a2).not.toBe(a1);
    expect(a2.pointsSeen('s\xffa\xff')).toBe(seen);
    await g2.evalAt(T0 + 415 * M);
    expect(a2.pointsSeen('s\xffa\xff')).toBe(seen + 1); // continued, not warmed up again
    expect((g2.rules()[1] as ForecastRule).accuracy()[0]!.scored).toBeGreaterThanOrEqual(scored);
    expect(a2.health()).toBe('ok');
    await mgr.stop();
  });

  it('scheduled refits train from history in the background and swap the model in', async () => {
    const clock = new FakeClock(T0 + 200 * M);
    const h = newHead(clock);
    await fill(h, ['a', 'b'], 0, 200, M, (s, k) => (s === 'a' ? 100 + k : 900 - 3 * k));
    const jobs: { expr: string; fn: () => void | Promise<void>; stopped: boolean }[] = [];
    const trainer = vi.fn(async (_req: WorkerTrainRequest, _signal: AbortSignal) => trendBytes);
    const loadBytes = vi.fn(async (b: Uint8Array, kind: 'forecaster' | 'anomaly', src: string) => loadModelBytes(b, { kind }, src));
    const mgr = new RuleManager({
      ...deps(h, clock, new Registry()),
      autoStart: true,
      predictive: {
        modelDir: dir,
        retrain: '0 3 * * *',
        trainer,
        loadBytes,
        schedule: (expr, fn) => {
          const j = { expr, fn, stopped: false };
          jobs.push(j);
          return { stop: () => void (j.stopped = true) };
        },
      },
    });
    await mgr.update([group([forecastCfg({ retrain: '*/5 * * * *' }), forecastCfg({ forecast: 'other:forecast' })])]);
    expect(jobs.map((j) => j.expr)).toEqual(['*/5 * * * *', '0 3 * * *']);
    await jobs[0]!.fn();
    expect(trainer).toHaveBeenCalledTimes(1);
    const req = trainer.mock.calls[0]![0];
    expect(req).toMatchObject({ kind: 'forecaster', window: W, horizons: [6, 12], stepMs: M });
    expect(req.series).toHaveLength(2);
    expect(req.series[0]!.length).toBe(201); // grid 0..200m; 200m sees the 199m sample (lookback delta)
    expect(loadBytes).toHaveBeenCalledTimes(1);
    const r = mgr.groups()[0]!.rules()[0] as ForecastRule;
    const res = await r.eval(ctx(T0 + 199 * M));
    expect(r.lastError()).toBeUndefined();
    expect(res.series).toHaveLength(12);
    await mgr.stop();
    expect(jobs.every((j) => j.stopped)).toBe(true);
  });
});
