import { describe, expect, it } from 'vitest';
import { ErrorLikelihood } from '../../src/ml/likelihood.js';
import { SeriesAnomalyState, SPATIAL_SCORE, ResidualCalibrator, RunningStats } from '../../src/ml/online.js';
import { erfc, mulberry32, normalTail, quantile, ridgeSolve } from '../../src/ml/math.js';

/** Standard normal samples (Box–Muller, seeded). */
function gauss(seed: number): () => number {
  const r = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const P = { shortWindow: 10, longWindow: 2000, learningPeriod: 300, thresholdTail: 1e-5, refractory: 0 };

describe('math', () => {
  it('erfc and the Gaussian tail match known values', () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 7);
    expect(normalTail(1.959963985, 0, 1) / 0.025).toBeCloseTo(1, 5);
    expect(normalTail(-3, 0, 1)).toBeCloseTo(normalTail(3, 0, 1), 12);
    expect(normalTail(4.264890794, 0, 1) / 1e-5).toBeCloseTo(1, 4);
  });
  it('ridge solve recovers a linear map', () => {
    // y = 2·x0 − 3·x1 + 0.5 on a grid; tiny penalty.
    const p = 3;
    const xtx = new Float64Array(9);
    const xty = new Float64Array(3);
    for (let i = 0; i < 10; i++)
      for (let j = 0; j < 10; j++) {
        const x = [i / 10, j / 10, 1];
        const y = 2 * x[0]! - 3 * x[1]! + 0.5;
        for (let a = 0; a < p; a++) {
          xty[a]! += x[a]! * y;
          for (let b = 0; b < p; b++) xtx[a * p + b]! += x[a]! * x[b]!;
        }
      }
    const beta = ridgeSolve(xtx, xty, p, 1, 1e-9, true);
    expect(beta[0]).toBeCloseTo(2, 6);
    expect(beta[1]).toBeCloseTo(-3, 6);
    expect(beta[2]).toBeCloseTo(0.5, 6);
  });
  it('quantile interpolates', () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
    expect(quantile([5], 0.9)).toBe(5);
  });
});

describe('ErrorLikelihood', () => {
  it('scores nothing during the learning period and rarely exceeds 1 on stationary errors', () => {
    const g = gauss(1);
    const lik = new ErrorLikelihood(P);
    let over = 0;
    for (let i = 0; i < 5000; i++) {
      const s = lik.update(Math.abs(g()));
      if (i < 300) expect(s).toBe(0);
      else if (s > 1) over++;
    }
    // p < 1e-5 per point under the Gaussian approximation; allow for its imperfection.
    expect(over).toBeLessThan(5);
  });

  it('flags a burst of large errors within a few points, with a score that grows with the burst', () => {
    const g = gauss(2);
    const lik = new ErrorLikelihood(P);
    for (let i = 0; i < 3000; i++) lik.update(Math.abs(g()));
    const scores: number[] = [];
    for (let i = 0; i < 10; i++) scores.push(lik.update(8 + Math.abs(g())));
    const first = scores.findIndex((s) => s > 1);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(4);
    expect(scores[first + 2]!).toBeGreaterThan(scores[first]!);
  });

  it('maps the threshold tail probability to score 1', () => {
    // Constant reference (std floored at 5% of the mean): a short mean at mean + z·std with
    // tail 1e-5 must score 1.
    const lik = new ErrorLikelihood({ ...P, shortWindow: 1, learningPeriod: 10 });
    for (let i = 0; i < 100; i++) lik.update(1);
    const z = 4.264890794; // Q(z) = 1e-5
    expect(lik.update(1 + z * 0.05)).toBeCloseTo(1, 3);
  });

  it('refractory caps the points after an alert below 1', () => {
    const lik = new ErrorLikelihood({ ...P, refractory: 5 });
    const g = gauss(3);
    for (let i = 0; i < 1000; i++) lik.update(Math.abs(g()));
    const s = Array.from({ length: 8 }, () => lik.update(50));
    const first = s.findIndex((x) => x >= 1);
    expect(first).toBeGreaterThanOrEqual(0);
    for (let k = first + 1; k <= first + 5 && k < s.length; k++) expect(s[k]!).toBeLessThan(1);
  });

  it('ignores non-finite input', () => {
    const lik = new ErrorLikelihood(P);
    expect(lik.update(NaN)).toBe(0);
    expect(lik.count).toBe(0);
  });
});

describe('SeriesAnomalyState', () => {
  it('reports a value beyond the seen range as a spatial anomaly', () => {
    const st = new SeriesAnomalyState({ ...P, spatialTolerance: 0.1, learningPeriod: 50 });
    const g = gauss(4);
    for (let i = 0; i < 500; i++) expect(st.update(10 + Math.sin(i / 10) + 0.01 * g(), 0.5)).toBeLessThan(1);
    expect(st.update(10.5, 0.5)).toBeLessThan(1); // inside the range
    expect(st.update(11.5, 0.5)).toBe(SPATIAL_SCORE); // range ≈ [9, 11], +10% ≈ 11.2
  });
});

describe('adaptation helpers', () => {
  it('running stats and residual calibrator', () => {
    const rs = new RunningStats();
    for (const x of [1, 2, 3, 4, NaN]) rs.add(x);
    expect(rs.mean).toBe(2.5);
    expect(rs.std).toBeCloseTo(Math.sqrt(1.25), 12);
    const rc = new ResidualCalibrator(4);
    for (const r of [10, 1, 2, 3, 4]) rc.add(r); // 10 falls out
    expect(rc.count).toBe(4);
    expect(rc.quantile(0)).toBe(1);
    expect(rc.quantile(1)).toBe(4);
  });
});
