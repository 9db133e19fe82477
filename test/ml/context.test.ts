import { describe, expect, it } from 'vitest';
import { ContextMemory, DEFAULT_CONTEXT, sanitizeContext } from '../../src/ml/context.js';
import { DEFAULT_DETECTOR, SeriesAnomalyState, type DetectorParams } from '../../src/ml/online.js';
import { mulberry32 } from '../../src/ml/math.js';
import { loadModel } from '../../src/ml/session.js';

/** A repeating pattern of 12 points spanning the range [0, 10]. */
const PATTERN = [0, 2, 5, 9, 10, 8, 5, 3, 1, 0, 4, 7];
const pattern = (i: number): number => PATTERN[i % PATTERN.length]!;

describe('ContextMemory', () => {
  it('learns a repeated pattern: novelty falls to 0 once the pattern has been seen', () => {
    const c = new ContextMemory({ ...DEFAULT_CONTEXT, learn: 24 });
    const nov: number[] = [];
    for (let i = 0; i < 600; i++) nov.push(c.update(pattern(i)));
    // Learning period: no score.
    expect(nov.slice(0, 48).every(Number.isNaN)).toBe(true);
    // After that every fact of the pattern is known.
    expect(nov.slice(48).every((x) => x === 0)).toBe(true);
  });

  it('scores a new sequence of known levels as novel, and stops once it repeats', () => {
    const c = new ContextMemory({ ...DEFAULT_CONTEXT, learn: 24 });
    for (let i = 0; i < 600; i++) c.update(pattern(i));
    // Every value is inside the learnt range; only the order is new.
    const novel = [10, 0, 10, 0, 10, 0];
    const first = novel.map((v) => c.update(v));
    expect(Math.max(...first)).toBeGreaterThan(0.5);
    for (let r = 0; r < 3; r++) for (const v of novel) c.update(v);
    const again = novel.map((v) => c.update(v));
    expect(Math.max(...again)).toBe(0);
  });

  it('stays bounded over 1e5 noisy points: fixed bytes, fill below maxFill, forgetting happens', () => {
    const c = new ContextMemory({ ...DEFAULT_CONTEXT, slots: 1024 });
    const bytes = c.stateBytes;
    const r = mulberry32(3);
    for (let i = 0; i < 1e5; i++) {
      // A drifting random walk keeps producing new facts.
      c.update(Math.sin(i / 50) * 10 + i * 0.01 + r() * 5);
      if (i % 997 === 0) expect(c.slotsUsed).toBeLessThanOrEqual(DEFAULT_CONTEXT.maxFill * 1024);
    }
    expect(c.stateBytes).toBe(bytes);
    expect(c.count).toBe(1e5);
    expect(c.forgettings).toBeGreaterThan(0);
  });

  it('skips non-finite values and clamps untrusted parameters', () => {
    const c = new ContextMemory({ ...DEFAULT_CONTEXT, learn: 4 });
    expect(c.update(Number.NaN)).toBeNaN();
    expect(c.count).toBe(0);
    const p = sanitizeContext({ levels: -3, order: 1e9, slots: 1e12, maxFill: 7, learn: Number.NaN });
    expect(p.levels).toBe(1);
    expect(p.order).toBe(16);
    expect(p.slots).toBe(65536);
    expect(p.maxFill).toBe(DEFAULT_CONTEXT.maxFill);
    expect(p.learn).toBe(DEFAULT_CONTEXT.learn);
    expect(sanitizeContext({ slots: 1000 }).slots).toBe(1024);
  });

  it('is deterministic', () => {
    const run = (): number[] => {
      const c = new ContextMemory();
      const r = mulberry32(11);
      const out: number[] = [];
      for (let i = 0; i < 3000; i++) out.push(c.update(r() * 100));
      return out;
    };
    expect(run()).toEqual(run());
  });
});

describe('SeriesAnomalyState: context signal', () => {
  // The error signal is held constant so that only the context can score.
  const FLAT_ERROR = 0.5;
  const P: DetectorParams = { ...DEFAULT_DETECTOR, spatialTolerance: 0 };

  function feedPattern(st: SeriesAnomalyState, n: number, noise: () => number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(st.update(pattern(i) + noise(), FLAT_ERROR));
    return out;
  }

  it('a repeated pattern is not anomalous; a novel pattern within the usual range scores > 1', () => {
    const r = mulberry32(5);
    const noise = (): number => (r() - 0.5) * 0.2;
    const st = new SeriesAnomalyState(P);
    const normal = feedPattern(st, 3000, noise);
    expect(Math.max(...normal.slice(600))).toBeLessThan(1);
    // A new rhythm made of known values: no spatial anomaly, no error change, only new contexts.
    const novel: number[] = [];
    const signals = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const x = st.update((i % 2) * 10 + noise(), FLAT_ERROR);
      novel.push(x);
      if (x > 1) signals.add(st.lastSignal);
    }
    expect(Math.max(...novel)).toBeGreaterThan(1);
    expect([...signals]).toEqual(['context']);
  });

  it('without the context signal the same novel pattern goes unnoticed (the test can fail)', () => {
    const r = mulberry32(5);
    const noise = (): number => (r() - 0.5) * 0.2;
    const { context: _off, ...rest } = P;
    const st = new SeriesAnomalyState(rest);
    feedPattern(st, 3000, noise);
    const novel: number[] = [];
    for (let i = 0; i < 40; i++) novel.push(st.update((i % 2) * 10 + noise(), FLAT_ERROR));
    expect(Math.max(...novel)).toBeLessThan(1);
    expect(st.contextBytes).toBe(0);
  });

  it('the novel pattern, once it keeps repeating, stops scoring as anomalous', () => {
    const r = mulberry32(9);
    const noise = (): number => (r() - 0.5) * 0.2;
    const st = new SeriesAnomalyState(P);
    feedPattern(st, 3000, noise);
    const alt = (i: number): number => (i % 2) * 10 + noise();
    for (let i = 0; i < 2000; i++) st.update(alt(i), FLAT_ERROR);
    const later: number[] = [];
    for (let i = 0; i < 500; i++) later.push(st.update(alt(i), FLAT_ERROR));
    expect(Math.max(...later)).toBeLessThan(1);
  });

  it('the shipped detector keeps the context memory at a fixed size over 1e5 points', () => {
    const st = new SeriesAnomalyState(DEFAULT_DETECTOR);
    const bytes = st.contextBytes;
    expect(bytes).toBeGreaterThan(0);
    const r = mulberry32(1);
    for (let i = 0; i < 1e5; i++) st.update(r() * 50 + (i % 288), r() - 0.5);
    expect(st.contextBytes).toBe(bytes);
    expect(st.count).toBe(1e5);
  });
});

describe('shipped anomaly model', () => {
  it('carries the context parameters in its metadata', async () => {
    const s = await loadModel(new URL('../../models/anomaly.onnx', import.meta.url).pathname, { kind: 'anomaly' });
    try {
      const ctx = (s.info.likelihood as DetectorParams | undefined)?.context;
      expect(ctx).toEqual(DEFAULT_DETECTOR.context);
    } finally {
      await s.close();
    }
  });
});
