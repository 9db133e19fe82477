import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CostProfile, NabFile } from '../../src/ml/nab/corpus.js';
import { loadNabCorpus, loadProfiles, parseNabCsv, probationaryLength } from '../../src/ml/nab/corpus.js';
import { optimizeThreshold, referenceScores, scaledSigmoid, scoreAt, scoreCorpus, sweepFile } from '../../src/ml/nab/scorer.js';
import { windowedGaussianScores } from '../../src/ml/nab/baselines.js';

const STANDARD: CostProfile = { name: 'standard', tpWeight: 1, fpWeight: 0.11, fnWeight: 1, tnWeight: 1 };
const LOW_FN: CostProfile = { name: 'reward_low_FN_rate', tpWeight: 1, fpWeight: 0.11, fnWeight: 2, tnWeight: 1 };
const MIN = 60_000;
const sig = (x: number): number => 1 / (1 + Math.exp(-x));

/** 100 rows, one window over rows 50..59 (probation = 15 rows). */
function file(name = 'cat/a.csv', n = 100, windows: [number, number][] = [[50, 59]]): NabFile {
  const t = Float64Array.from({ length: n }, (_, i) => i * MIN);
  return {
    name,
    category: name.split('/')[0]!,
    rawTimestamps: [...t].map(String),
    t,
    values: new Float64Array(n),
    windows: windows.map(([a, b]) => [a * MIN, b * MIN] as const),
  };
}

function detector(n: number, rows: number[], v = 1): Float64Array {
  const s = new Float64Array(n);
  for (const r of rows) s[r] = v;
  return s;
}

describe('NAB scorer', () => {
  it('scaled sigmoid matches its definition', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(2 * sig(5) - 1, 12);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(scaledSigmoid(0.5)).toBeCloseTo(2 * sig(-2.5) - 1, 12);
  });

  it('weights: TP highest at the window start, FP −fpWeight before the first window, fading after it', () => {
    const f = file();
    const p = sweepFile(f, new Float64Array(100), STANDARD);
    expect(probationaryLength(100)).toBe(15);
    expect(p.label[14]).toBe(-2);
    expect(p.label[15]).toBe(-1);
    expect(p.label[50]).toBe(0);
    expect(p.label[59]).toBe(0);
    expect(p.label[60]).toBe(-1);
    expect(p.weight[50]).toBeCloseTo(1, 12); // scaledSigmoid(-1) / maxTP
    expect(p.weight[55]).toBeCloseTo((2 * sig(2.5) - 1) / (2 * sig(5) - 1), 12); // position −5/10
    expect(p.weight[20]).toBeCloseTo(-0.11, 12);
    expect(p.weight[70]).toBeCloseTo(0.11 * (2 * sig((-5 * 11) / 9) - 1), 12); // |59 − 70| / (10 − 1)
    expect(p.windows).toEqual([0]);
  });

  it('null and perfect detectors give the extremes; a synthetic detector gets the derived value', () => {
    const f = file();
    const nul = scoreAt(sweepFile(f, new Float64Array(100), STANDARD), 0.5, STANDARD);
    expect(nul.score).toBe(-1);
    const perfect = scoreAt(sweepFile(f, referenceScores(f, 'perfect'), STANDARD), 0.5, STANDARD);
    expect(perfect.score).toBeCloseTo(1, 12);
    // Detections at rows 5 (probation, ignored), 20 (FP before any window), 55 and 57 (only the
    // earlier one counts), 70 (FP after the window).
    const s = detector(100, [5, 20, 55, 57, 70]);
    const got = scoreAt(sweepFile(f, s, STANDARD), 0.5, STANDARD);
    const want = -0.11 + (2 * sig(2.5) - 1) / (2 * sig(5) - 1) + 0.11 * (2 * sig(-55 / 9) - 1);
    expect(got.score).toBeCloseTo(want, 12);
    expect(got.fp).toBe(2);
    expect(got.detected).toBe(1);
    const [r] = scoreCorpus([f], [s], [STANDARD]);
    expect(r!.normalized).toBeCloseTo((100 * (want + 1)) / 2, 9);
  });

  it('optimises the threshold over all files and normalises per profile', () => {
    const a = file('x/a.csv');
    const b = file('x/b.csv', 200, [[100, 119], [150, 169]]);
    // a: 0.95 at its window start. b: 0.9 at its first window's start, 20 FPs at 0.8 (rows 40..59,
    // before any window), 0.7 half-way into window 2 (row 160).
    const sa = detector(100, [50], 0.95);
    const sb = detector(200, [100], 0.9);
    for (let i = 40; i < 60; i++) sb[i] = 0.8;
    sb[160] = 0.7;
    const wLate = (2 * sig(2.5) - 1) / (2 * sig(5) - 1); // position −(169 − 160 + 1)/20 = −0.5
    // standard: ≥0.95 → 1 − 2 = −1; ≥0.9 → 1 + 1 − 1 = 1; ≥0.8 → 1 − 2.2 = −1.2; ≥0.7 → 2 − 2.2 + wLate.
    const std = scoreCorpus([a, b], [sa, sb], [STANDARD])[0]!;
    expect(2 - 2.2 + wLate).toBeLessThan(1);
    expect(std.threshold).toBe(0.9);
    expect(std.raw).toBeCloseTo(1, 12);
    expect(std.nullRaw).toBe(-3);
    expect(std.perfectRaw).toBeCloseTo(3, 12);
    expect(std.normalized).toBeCloseTo((100 * 4) / 6, 9);
    // fnWeight 2: ≥0.9 → 2 − 2 = 0; ≥0.7 → 2 − 2.2 + wLate > 0, so the lower threshold wins.
    const fn = scoreCorpus([a, b], [sa, sb], [LOW_FN])[0]!;
    expect(fn.threshold).toBe(0.7);
    expect(fn.raw).toBeCloseTo(2 - 2.2 + wLate, 12);
    expect(fn.nullRaw).toBe(-6);
    expect(fn.normalized).toBeCloseTo((100 * (2 - 2.2 + wLate + 6)) / 9, 9);
    expect(fn.fp).toBe(20);
  });

  it('sweeping equals scoring at every threshold', () => {
    const f = file('x/c.csv', 300, [[100, 129], [200, 229]]);
    const s = Float64Array.from({ length: 300 }, (_, i) => ((i * 7919) % 101) / 100);
    const p = sweepFile(f, s, STANDARD);
    const best = optimizeThreshold(p, STANDARD);
    let max = -Infinity;
    for (const thr of new Set(s)) max = Math.max(max, scoreAt(p, thr, STANDARD).score);
    expect(best.score).toBeCloseTo(Math.max(max, -2), 9);
    expect(scoreAt(p, best.threshold, STANDARD).score).toBeCloseTo(best.score, 9);
  });

  it('parses NAB CSVs and rejects bad rows', () => {
    const r = parseNabCsv('timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,2\n', 'x');
    expect([...r.v]).toEqual([1.5, 2]);
    expect(r.t[1]! - r.t[0]!).toBe(300_000);
    expect(() => parseNabCsv('timestamp,value\n2014-04-01 00:00:00,abc\n', 'x')).toThrow(/bad row/);
    expect(() => parseNabCsv('a,b\n', 'x')).toThrow(/header/);
  });

  const NAB = fileURLToPath(new URL('../../../shared/data/nab', import.meta.url));
  it.skipIf(!existsSync(NAB))('reproduces null 0, perfect 100 and windowed Gaussian ≈ 39.6 on the real corpus', () => {
    const files = loadNabCorpus(NAB);
    const profiles = loadProfiles(NAB);
    expect(files).toHaveLength(58);
    const nul = scoreCorpus(files, files.map((f) => referenceScores(f, 'null')), profiles);
    const perf = scoreCorpus(files, files.map((f) => referenceScores(f, 'perfect')), profiles);
    for (const r of nul) expect(r.normalized).toBe(0);
    for (const r of perf) expect(r.normalized).toBeCloseTo(100, 9);
    expect(nul.find((r) => r.profile === 'standard')!.raw).toBe(-116);
    const wg = scoreCorpus(files, files.map((f) => windowedGaussianScores(f.values)), profiles);
    const by = Object.fromEntries(wg.map((r) => [r.profile, r.normalized]));
    expect(Math.abs(by.standard! - 39.6)).toBeLessThan(2);
    expect(Math.abs(by.reward_low_FP_rate! - 20.9)).toBeLessThan(4);
    expect(Math.abs(by.reward_low_FN_rate! - 47.4)).toBeLessThan(2);
  });
});
