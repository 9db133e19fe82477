/**
 * Numeric helpers for training and scoring: a seeded PRNG, the Gaussian tail probability,
 * quantiles, and a ridge-regression solver (normal equations + Cholesky, float64).
 */

/** A deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Complementary error function, relative error < 1.2e-7 everywhere (Chebyshev fit from
 * Numerical Recipes' `erfcc`, a public-domain formula).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(X > x) for X ~ N(mean, std²), folded so that x below the mean gives the same tail (the Q-function of |z|). */
export function normalTail(x: number, mean: number, std: number): number {
  const z = Math.abs(x - mean) / std;
  return 0.5 * erfc(z / Math.SQRT2);
}

/** The `q`-quantile (linear interpolation) of `xs`; sorts a copy. NaN when empty. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * Solves ridge regression in closed form: `B = (XᵀX + λI)⁻¹ XᵀY` from accumulated normal
 * equations. `xtx` is `p×p`, `xty` is `p×k` (row-major, float64); the last feature may be an
 * intercept column, which is not penalised when `unpenalisedLast` is set. Returns `p×k`.
 */
export function ridgeSolve(xtx: Float64Array, xty: Float64Array, p: number, k: number, lambda: number, unpenalisedLast = false): Float64Array {
  const a = Float64Array.from(xtx);
  for (let i = 0; i < p; i++) if (!(unpenalisedLast && i === p - 1)) a[i * p + i]! += lambda;
  // Cholesky: a = L Lᵀ (in place, lower triangle).
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j]!;
    for (let m = 0; m < j; m++) d -= a[j * p + m]! * a[j * p + m]!;
    if (!(d > 0)) d = 1e-12;
    const ljj = Math.sqrt(d);
    a[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j]!;
      for (let m = 0; m < j; m++) s -= a[i * p + m]! * a[j * p + m]!;
      a[i * p + j] = s / ljj;
    }
  }
  const out = new Float64Array(p * k);
  const y = new Float64Array(p);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < p; i++) {
      let s = xty[i * k + c]!;
      for (let m = 0; m < i; m++) s -= a[i * p + m]! * y[m]!;
      y[i] = s / a[i * p + i]!;
    }
    for (let i = p - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let m = i + 1; m < p; m++) s -= a[m * p + i]! * out[m * k + c]!;
      out[i * k + c] = s / a[i * p + i]!;
    }
  }
  return out;
}

/** Accumulates `XᵀX` and `XᵀY` one row at a time (float64). */
export class NormalEquations {
  readonly xtx: Float64Array;
  readonly xty: Float64Array;
  rows = 0;
  constructor(
    readonly p: number,
    readonly k: number,
  ) {
    this.xtx = new Float64Array(p * p);
    this.xty = new Float64Array(p * k);
  }
  /** Adds one sample: features `x` (length p), targets `y` (length k), sample weight `w`. */
  add(x: ArrayLike<number>, y: ArrayLike<number>, w = 1): void {
    const { p, k, xtx, xty } = this;
    for (let i = 0; i < p; i++) {
      const xi = x[i]! * w;
      if (xi === 0) continue;
      const row = i * p;
      for (let j = i; j < p; j++) xtx[row + j]! += xi * x[j]!;
      for (let c = 0; c < k; c++) xty[i * k + c]! += xi * y[c]!;
    }
    this.rows++;
  }
  /** Solves with ridge penalty `lambda` (mirrors the upper triangle first). */
  solve(lambda: number, unpenalisedLast = false): Float64Array {
    const { p, xtx } = this;
    const full = Float64Array.from(xtx);
    for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) full[i * p + j] = full[j * p + i]!;
    return ridgeSolve(full, this.xty, p, this.k, lambda, unpenalisedLast);
  }
}
