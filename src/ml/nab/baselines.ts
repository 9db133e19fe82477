/**
 * Reference detectors used to check the NAB scorer: NAB's "windowed Gaussian" baseline as
 * described by the benchmark (a Gaussian fitted to up to the last 6400 values, refitted every 100
 * points once the window is full; the score is 1 − the two-sided tail probability of the value).
 */
import { normalTail } from '../math.js';

/** Scores `values` online with the windowed-Gaussian baseline. */
export function windowedGaussianScores(values: ArrayLike<number>, windowSize = 6400, stepSize = 100): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  let win: number[] = [];
  let buf: number[] = [];
  let mean = 0;
  let std = 1;
  const refit = (): void => {
    let s = 0;
    for (const x of win) s += x;
    mean = s / win.length;
    let v = 0;
    for (const x of win) v += (x - mean) ** 2;
    std = Math.sqrt(v / win.length);
    if (std === 0) std = 0.000001;
  };
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    out[i] = win.length > 0 ? 1 - normalTail(x, mean, std) : 0;
    if (win.length < windowSize) {
      win.push(x);
      refit();
    } else {
      buf.push(x);
      if (buf.length === stepSize) {
        win = win.slice(stepSize).concat(buf);
        buf = [];
        refit();
      }
    }
  }
  return out;
}
