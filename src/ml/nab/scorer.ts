/**
 * The NAB scoring procedure, implemented from the benchmark's published description (Lavin &
 * Ahmad 2015, NAB v1.x): every point gets a sigmoid-weighted value — inside an anomaly window a
 * true-positive weight that is highest at the window's start, outside it a false-positive cost
 * that fades from the end of the preceding window; points of the probationary period are not
 * scored; per window only the best (earliest) detection counts, an undetected window costs
 * `fnWeight`. The threshold is chosen per profile over the whole corpus by sweeping every
 * distinct score; scores are normalised so the null detector gets 0 and the perfect one 100.
 */
import { probationaryLength, type CostProfile, type NabFile } from './corpus.js';

/** NAB's scaled sigmoid: 2·σ(−5x) − 1 for x < 3, else −1. */
export function scaledSigmoid(x: number): number {
  if (x >= 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** Per-point scoring data of one or more files. */
export interface SweepPoints {
  readonly score: Float64Array;
  /** The weighted value of detecting this point (TP weight inside a window, FP cost outside). */
  readonly weight: Float64Array;
  /** Window id (≥ 0), −1 outside any window, −2 in the probationary period. */
  readonly label: Int32Array;
  /** Ids of windows that have at least one scored point. */
  readonly windows: readonly number[];
}

/**
 * Computes the per-point weights of one file for `profile`. `scores[i]` is the detector's
 * output for row i; window ids start at `idBase`.
 */
export function sweepFile(file: NabFile, scores: ArrayLike<number>, profile: CostProfile, idBase = 0): SweepPoints {
  const n = file.t.length;
  if (scores.length !== n) throw new RangeError(`${file.name}: ${scores.length} scores for ${n} rows`);
  const maxTP = scaledSigmoid(-1);
  const prob = probationaryLength(n);
  const indexOf = new Map<number, number>();
  for (let i = n - 1; i >= 0; i--) indexOf.set(file.t[i]!, i);
  const score = Float64Array.from(scores);
  const weight = new Float64Array(n);
  const label = new Int32Array(n);
  const seen = new Set<number>();
  let next = 0;
  let cur = -1;
  let curRight = 0;
  let curWidth = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const t = file.t[i]!;
    const w = file.windows[next];
    if (cur < 0 && w && t === w[0]) {
      cur = next++;
      curRight = indexOf.get(w[1]) ?? n - 1;
      curWidth = curRight - i + 1;
    }
    if (cur >= 0) {
      weight[i] = (scaledSigmoid(-(curRight - i + 1) / curWidth) * profile.tpWeight) / maxTP;
    } else if (prevRight < 0) {
      weight[i] = -profile.fpWeight;
    } else {
      weight[i] = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1)) * profile.fpWeight;
    }
    if (i < prob) label[i] = -2;
    else if (cur >= 0) {
      label[i] = idBase + cur;
      seen.add(idBase + cur);
    } else label[i] = -1;
    if (cur >= 0 && t === file.windows[cur]![1]) {
      prevRight = curRight;
      prevWidth = curWidth;
      cur = -1;
    }
  }
  return { score, weight, label, windows: [...seen].sort((a, b) => a - b) };
}

/** Concatenates the sweep data of several files (window ids must be disjoint). */
export function concatSweeps(parts: readonly SweepPoints[]): SweepPoints {
  const n = parts.reduce((a, p) => a + p.score.length, 0);
  const score = new Float64Array(n);
  const weight = new Float64Array(n);
  const label = new Int32Array(n);
  let off = 0;
  for (const p of parts) {
    score.set(p.score, off);
    weight.set(p.weight, off);
    label.set(p.label, off);
    off += p.score.length;
  }
  return { score, weight, label, windows: parts.flatMap((p) => p.windows) };
}

/** The raw score at one threshold. */
export interface ThresholdScore {
  readonly threshold: number;
  readonly score: number;
  /** Windows detected / total scored windows. */
  readonly detected: number;
  readonly windows: number;
  /** Points counted as false positives. */
  readonly fp: number;
}

/** Raw score when every point with `score ≥ threshold` is a detection. */
export function scoreAt(points: SweepPoints, threshold: number, profile: CostProfile): ThresholdScore {
  const best = new Map<number, number>();
  let fpSum = 0;
  let fp = 0;
  for (let i = 0; i < points.score.length; i++) {
    if (!(points.score[i]! >= threshold)) continue;
    const l = points.label[i]!;
    if (l === -2) continue;
    if (l === -1) {
      fpSum += points.weight[i]!;
      fp++;
    } else best.set(l, Math.max(best.get(l) ?? -Infinity, points.weight[i]!));
  }
  let total = fpSum;
  for (const w of points.windows) total += best.get(w) ?? -profile.fnWeight;
  return { threshold, score: total, detected: best.size, windows: points.windows.length, fp };
}

/**
 * Sweeps every distinct score as a threshold (plus "nothing detected") and returns the best one
 * (highest score; ties go to the higher threshold, as NAB's stable sort does).
 */
export function optimizeThreshold(points: SweepPoints, profile: CostProfile): ThresholdScore {
  const idx: number[] = [];
  for (let i = 0; i < points.score.length; i++) if (points.label[i] !== -2) idx.push(i);
  idx.sort((a, b) => points.score[b]! - points.score[a]! || a - b);
  const best = new Map<number, number>();
  let total = -profile.fnWeight * points.windows.length;
  let detected = 0;
  let fp = 0;
  let top: ThresholdScore = { threshold: Infinity, score: total, detected: 0, windows: points.windows.length, fp: 0 };
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    const l = points.label[i]!;
    const w = points.weight[i]!;
    if (l === -1) {
      total += w;
      fp++;
    } else {
      const prev = best.get(l);
      if (prev === undefined) {
        best.set(l, w);
        total += w + profile.fnWeight;
        detected++;
      } else if (w > prev) {
        best.set(l, w);
        total += w - prev;
      }
    }
    const s = points.score[i]!;
    const nextIdx = idx[k + 1];
    if (nextIdx === undefined || points.score[nextIdx]! !== s) {
      if (total > top.score) top = { threshold: s, score: total, detected, windows: points.windows.length, fp };
    }
  }
  return top;
}

/** Result of scoring one detector over a corpus for one profile. */
export interface ProfileResult {
  readonly profile: string;
  readonly threshold: number;
  readonly raw: number;
  readonly nullRaw: number;
  readonly perfectRaw: number;
  /** 100·(raw − null)/(perfect − null). */
  readonly normalized: number;
  readonly detected: number;
  readonly windows: number;
  readonly fp: number;
}

/** Scores of the reference detectors: null (always 0) and perfect (1 inside windows). */
export function referenceScores(file: NabFile, kind: 'null' | 'perfect'): Float64Array {
  const out = new Float64Array(file.t.length);
  if (kind === 'perfect') {
    for (let i = 0; i < out.length; i++) {
      const t = file.t[i]!;
      if (file.windows.some(([a, b]) => t >= a && t <= b)) out[i] = 1;
    }
  }
  return out;
}

function buildSweep(files: readonly NabFile[], scores: readonly ArrayLike<number>[], profile: CostProfile): SweepPoints {
  let base = 0;
  const parts = files.map((f, i) => {
    const p = sweepFile(f, scores[i]!, profile, base);
    base += f.windows.length;
    return p;
  });
  return concatSweeps(parts);
}

/**
 * Scores a detector over `files` (scores[i] belongs to files[i]) for every profile: threshold
 * optimised over the corpus, raw score summed over files, normalised with the null and perfect
 * detectors run through the same code.
 */
export function scoreCorpus(files: readonly NabFile[], scores: readonly ArrayLike<number>[], profiles: readonly CostProfile[]): ProfileResult[] {
  return profiles.map((profile) => {
    const mine = optimizeThreshold(buildSweep(files, scores, profile), profile);
    const nul = optimizeThreshold(buildSweep(files, files.map((f) => referenceScores(f, 'null')), profile), profile);
    const perf = optimizeThreshold(buildSweep(files, files.map((f) => referenceScores(f, 'perfect')), profile), profile);
    const normalized = (100 * (mine.score - nul.score)) / (perf.score - nul.score);
    return {
      profile: profile.name,
      threshold: mine.threshold,
      raw: mine.score,
      nullRaw: nul.score,
      perfectRaw: perf.score,
      normalized,
      detected: mine.detected,
      windows: mine.windows,
      fp: mine.fp,
    };
  });
}
